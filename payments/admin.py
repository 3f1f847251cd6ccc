"""Payments' admin lives with its sub-domains; importing them here lets Django's autodiscovery
register their ModelAdmins."""

from payments.cash_application import admin as cash_application_admin
from payments.collections import admin as collections_admin
from payments.money import admin as money_admin

__all__ = ["cash_application_admin", "collections_admin", "money_admin"]
