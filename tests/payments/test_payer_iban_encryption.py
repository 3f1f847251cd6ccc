"""Payers' IBANs on statement lines are encrypted at rest, in the lines and in their history rows; the API
and the reconciliation list show them masked, and matching finds the customer by the IBAN's fingerprint."""

import importlib
from datetime import date
from pathlib import Path

import pytest
from django.db import connection

from customers import services as customers
from otc.crypto import decrypt, fingerprint
from payments.cash_application.selectors import line_proposals
from payments.cash_application.statement_import import import_bank_statement
from payments.models import BankStatementLine
from tests import factories

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("own_accounts")]
PAYER_IBAN = "NL91ABNA0417164300"
SAMPLE = Path(__file__).parent / "bank_files" / "camt053_multi_othr.xml"
LINES = "/api/v1/bank-statement-lines/"
encryption = importlib.import_module("payments.migrations.0008_bank_line_payer_iban_encrypted")


@pytest.fixture
def imported(clerk) -> BankStatementLine:
    """The sample's first line: Nordwind pays 1,190.00 from NL91ABNA0417164300."""
    first, _ = import_bank_statement(content=SAMPLE.read_bytes(), filename="camt.xml", format="camt053", actor=clerk)
    return first.lines.get()


def stored(table: str, where: str, value: int) -> list[tuple[str | None, str]]:
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT counterparty_iban, counterparty_iban_fingerprint FROM {table} WHERE {where} = %s",
            [value],
        )
        return cursor.fetchall()


def test_the_payers_iban_is_stored_encrypted_in_the_line_and_its_history(imported):
    [(raw, line_fingerprint)] = stored("payments_bankstatementline", "id", imported.pk)
    history = stored("payments_bankstatementlineevent", "pgh_obj_id", imported.pk)

    assert imported.counterparty_iban == PAYER_IBAN
    assert PAYER_IBAN not in raw
    assert "0417164300" not in raw
    assert decrypt(raw) == PAYER_IBAN
    assert line_fingerprint == fingerprint(PAYER_IBAN)
    assert history
    assert all(PAYER_IBAN not in value and decrypt(value) == PAYER_IBAN for value, _ in history)


def test_a_line_without_a_payer_iban_stores_null_and_no_fingerprint(clerk):
    _, second = import_bank_statement(content=SAMPLE.read_bytes(), filename="camt.xml", format="camt053", actor=clerk)
    line = second.lines.get()

    assert stored("payments_bankstatementline", "id", line.pk) == [(None, "")]
    assert line.counterparty_iban is None
    assert line.counterparty_iban_masked == ""


def test_the_api_shows_the_payers_iban_masked(imported, api_client_for):
    response = api_client_for("payments:read").get(f"{LINES}{imported.pk}/")

    assert response.status_code == 200
    assert response.json()["counterparty_iban"] == "NL91 •••• 4300"
    assert PAYER_IBAN not in response.content.decode()


def test_the_reconciliation_list_masks_the_iban_and_finds_the_line_by_the_whole_iban(imported, admin_client):
    found = admin_client.get("/admin/payments/bankstatementline/", {"q": "NL91 ABNA 0417 1643 00"})
    missed = admin_client.get("/admin/payments/bankstatementline/", {"q": "NL39RABO0300065264"})

    page = found.content.decode()
    assert "NL91 •••• 4300" in page
    assert PAYER_IBAN not in page
    assert f"/admin/payments/bankstatementline/{imported.pk}/change/" in page
    assert f"/admin/payments/bankstatementline/{imported.pk}/change/" not in missed.content.decode()


def test_matching_finds_the_customer_by_the_ibans_fingerprint(imported, buyer, clerk, approver):
    factories.invoice_for(buyer, clerk, "1190.00", date(2024, 3, 1))
    request = customers.request_bank_account(
        customer=buyer, actor=clerk, holder_name=buyer.legal_name, iban=PAYER_IBAN, reason="statement"
    )
    customers.approve_change_request(change_request=request, actor=approver)
    line = BankStatementLine.objects.get(pk=imported.pk)
    line.counterparty_iban = "NL39RABO0300065264"  # the fingerprint column alone decides

    proposals = line_proposals(line=line)

    assert proposals
    assert proposals[0].customer_id == buyer.pk
    assert "payer IBAN belongs to customer" in proposals[0].reasons


def test_the_migration_encrypts_plain_ibans_of_existing_lines_and_history_rows_and_back(imported):
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE payments_bankstatementlineevent SET counterparty_iban = %s, counterparty_iban_fingerprint = ''"
            " WHERE pgh_obj_id = %s",
            [PAYER_IBAN, imported.pk],
        )
    with connection.schema_editor() as editor, connection.cursor() as cursor:
        cursor.execute(
            "UPDATE payments_bankstatementline SET counterparty_iban = %s, counterparty_iban_fingerprint = ''"
            " WHERE id = %s",
            [PAYER_IBAN, imported.pk],
        )
        encryption.encrypt_payer_ibans(None, editor)
        encrypted = stored("payments_bankstatementline", "id", imported.pk)
        history = stored("payments_bankstatementlineevent", "pgh_obj_id", imported.pk)
        encryption.encrypt_payer_ibans(None, editor)  # a second run leaves encrypted values alone
        again = stored("payments_bankstatementline", "id", imported.pk)
        encryption.decrypt_payer_ibans(None, editor)
        decrypted = stored("payments_bankstatementline", "id", imported.pk)

    [(raw, line_fingerprint)] = encrypted
    assert PAYER_IBAN not in raw
    assert decrypt(raw) == PAYER_IBAN
    assert line_fingerprint == fingerprint(PAYER_IBAN)
    assert all(decrypt(value) == PAYER_IBAN and print_ == fingerprint(PAYER_IBAN) for value, print_ in history)
    assert again == encrypted
    assert decrypted == [(PAYER_IBAN, "")]
