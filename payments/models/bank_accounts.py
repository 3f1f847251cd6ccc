"""The company's own bank accounts: a statement is imported only for one of them, so a file for
someone else's account (a customer's export sent by mistake, a test file) never reaches the ledger.
"""

from django.db import models
from django.db.models import Q

from customers.validators import normalize_iban
from otc.audit import tracked
from otc.money import CurrencyField


@tracked()
class CompanyBankAccount(models.Model):
    """An account the company holds, in one currency; a bank may hold several for it."""

    name = models.CharField(max_length=100, help_text="How finance calls it, e.g. “Deutsche Bank EUR operating”.")
    iban = models.CharField("IBAN", max_length=34, blank=True, validators=[normalize_iban])
    bank_code = models.CharField(
        max_length=11,
        blank=True,
        help_text="BIC or domestic bank code (BLZ, sort code, routing number), for statements that name the "
        "account without its IBAN.",
    )
    account_number = models.CharField(
        max_length=34,
        blank=True,
        help_text="The domestic account number; required where the account has no IBAN.",
    )
    currency = CurrencyField()
    is_active = models.BooleanField(default=True, help_text="Statements of an inactive account are refused.")

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["iban"], condition=~Q(iban=""), name="company_bank_account_iban_once"),
            models.UniqueConstraint(
                fields=["bank_code", "account_number"],
                condition=~Q(account_number=""),
                name="company_bank_account_number_once",
            ),
            models.CheckConstraint(
                condition=~Q(iban="") | ~Q(account_number=""), name="company_bank_account_identified"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.identifier}, {self.currency})"

    @property
    def identifier(self) -> str:
        """The IBAN, or the bank code and account number where there is none."""
        return self.iban or "/".join(part for part in (self.bank_code, self.account_number) if part)
