"""The receivables ledger (double entry): the chart of accounts, the open items receivables are
kept per, and the append-only journal. Below orders and invoicing: documents are referred to by
kind and id, never by a foreign key to a higher app.

Entries and lines are enforced append-only, and every entry balanced, by triggers, not by the UI.
"""

import pgtrigger
from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from customers.models import Customer
from otc.money import CurrencyField, MoneyField


class AccountKind(models.TextChoices):
    ASSET = "asset", "Asset"
    LIABILITY = "liability", "Liability"
    INCOME = "income", "Income"
    EXPENSE = "expense", "Expense"


class AccountRole(models.TextChoices):
    """The job an account does in postings; services post to roles, the chart maps them to codes."""

    RECEIVABLE = "receivable", "Trade receivables"
    REVENUE = "revenue", "Revenue"
    TAX_PAYABLE = "tax_payable", "VAT payable"
    CASH = "cash", "Bank"
    CUSTOMER_CREDIT = "customer_credit", "Unapplied customer payments"
    WRITE_OFF = "write_off", "Write-offs"
    BANK_FEES = "bank_fees", "Bank fees"
    FEE_INCOME = "fee_income", "Dunning fees and interest"


# The chart of accounts the services post to, kept in place after every migrate (and test flush).
CHART_OF_ACCOUNTS = [
    ("1000", "Bank", AccountKind.ASSET, AccountRole.CASH),
    ("1200", "Trade receivables", AccountKind.ASSET, AccountRole.RECEIVABLE),
    ("2200", "Unapplied customer payments", AccountKind.LIABILITY, AccountRole.CUSTOMER_CREDIT),
    ("2400", "VAT payable", AccountKind.LIABILITY, AccountRole.TAX_PAYABLE),
    ("4000", "Revenue from sales", AccountKind.INCOME, AccountRole.REVENUE),
    ("4900", "Dunning fees and interest", AccountKind.INCOME, AccountRole.FEE_INCOME),
    ("6850", "Bank fees", AccountKind.EXPENSE, AccountRole.BANK_FEES),
    ("6900", "Write-offs of receivables", AccountKind.EXPENSE, AccountRole.WRITE_OFF),
]


class LedgerAccount(models.Model):
    code = models.CharField(max_length=10, unique=True)
    name = models.CharField(max_length=100)
    kind = models.CharField(max_length=10, choices=AccountKind.choices)
    role = models.CharField(max_length=20, choices=AccountRole.choices, unique=True)

    class Meta:
        ordering = ["code"]
        constraints = [models.CheckConstraint(condition=Q(kind__in=AccountKind.values), name="account_kind_valid")]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class ItemKind(models.TextChoices):
    INVOICE = "invoice", "Invoice"
    CREDIT_NOTE = "credit_note", "Credit note"


class OpenItem(models.Model):
    """A document the customer's receivable is kept per: an invoice (owed) or a credit note (in
    credit). What is open on it on a date is the sum of its receivable lines posted by then.

    `settled_on` is the latest posting date of its lines while they sum to zero, NULL while money is
    open: on and after that date nothing is open on it, whatever the date asked, so reports as of a
    date read only the lines of items not settled by then. A trigger on the journal lines keeps it
    in the posting's own transaction, for every path that writes lines (COPY included)."""

    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=12, choices=ItemKind.choices)
    document_id = models.BigIntegerField(help_text="The document's id in the app that issued it.")
    reference = models.CharField(max_length=40, help_text="The document's number, as the customer knows it.")
    currency = CurrencyField()
    issued_on = models.DateField()
    due_on = models.DateField()
    settled_on = models.DateField(
        null=True, blank=True, editable=False, help_text="Since when nothing is open on it; empty while open."
    )

    class Meta:
        ordering = ["due_on", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["kind", "document_id"], name="open_item_once_per_document"),
            models.CheckConstraint(condition=Q(kind__in=ItemKind.values), name="open_item_kind_valid"),
        ]
        indexes = [
            models.Index(fields=["customer", "currency"], name="open_item_customer"),
            # Items not settled by a date: settled_on IS NULL OR settled_on > the date.
            models.Index(fields=["settled_on"], name="open_item_settled"),
        ]

    def __str__(self) -> str:
        return self.reference


class EntryKind(models.TextChoices):
    INVOICE = "invoice", _("Invoice issued")
    CREDIT_NOTE = "credit_note", _("Credit note issued")
    PAYMENT = "payment", _("Payment received")
    ALLOCATION = "allocation", _("Payment allocated")
    WRITE_OFF = "write_off", _("Write-off")
    REFUND = "refund", _("Refund")
    FEE = "fee", _("Fee or interest")
    REVERSAL = "reversal", _("Reversal")


class JournalEntry(models.Model):
    """A balanced posting; append-only (a mistake is reversed by another entry, never edited)."""

    posted_on = models.DateField()
    kind = models.CharField(max_length=12, choices=EntryKind.choices)
    memo = models.CharField(max_length=300)
    item = models.ForeignKey(
        OpenItem,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="journal_entries",
        help_text="The document the entry is about.",
    )
    source = models.CharField(max_length=60, blank=True, db_index=True, help_text="e.g. payment:42")
    reverses = models.OneToOneField("self", null=True, blank=True, on_delete=models.PROTECT, related_name="reversed_by")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name_plural = "journal entries"
        ordering = ["-pk"]
        permissions = [("view_ledger", "Can browse the journal and trial balance")]
        constraints = [models.CheckConstraint(condition=Q(kind__in=EntryKind.values), name="entry_kind_valid")]
        indexes = [models.Index(fields=["-posted_on", "-id"], name="journal_entry_recent")]
        triggers = [pgtrigger.Protect(name="journal_entry_append_only", operation=pgtrigger.Update | pgtrigger.Delete)]

    def __str__(self) -> str:
        return f"JE-{self.pk} {self.memo}"


class JournalLine(models.Model):
    """Debit positive, credit negative; in the document currency and in the company currency.
    A receivable line names the open item it raises or settles.

    The line repeats its entry's date and kind (`post_entry` copies them, `ledger_problems` checks
    they agree), so balances and reports as of a date read the lines alone, through an index, without
    joining every line to its entry."""

    entry = models.ForeignKey(JournalEntry, on_delete=models.PROTECT, related_name="lines")
    posted_on = models.DateField(help_text="The entry's posting date.")
    entry_kind = models.CharField(max_length=12, choices=EntryKind.choices, help_text="The entry's kind.")
    account = models.ForeignKey(LedgerAccount, on_delete=models.PROTECT, related_name="lines")
    customer = models.ForeignKey(Customer, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    item = models.ForeignKey(OpenItem, null=True, blank=True, on_delete=models.PROTECT, related_name="lines")
    currency = CurrencyField()
    amount = MoneyField()
    amount_company = MoneyField()

    class Meta:
        constraints = [
            models.CheckConstraint(condition=~Q(amount=0) | ~Q(amount_company=0), name="journal_line_not_zero"),
            models.CheckConstraint(condition=Q(entry_kind__in=EntryKind.values), name="journal_line_entry_kind_valid"),
        ]
        indexes = [
            models.Index(fields=["account", "customer", "currency"], name="journal_line_balance"),
            # An item's balance on a date: its lines posted by then, read from the index alone.
            models.Index(
                fields=["item", "posted_on"],
                include=["amount", "amount_company"],
                condition=Q(item__isnull=False),
                name="journal_line_item_balance",
            ),
            # An account's movements over a period (credit sales, settlements).
            models.Index(
                fields=["account", "posted_on"],
                include=["entry_kind", "item", "amount_company"],
                name="journal_line_account_posted",
            ),
        ]
        triggers = [
            pgtrigger.Protect(name="journal_line_append_only", operation=pgtrigger.Update | pgtrigger.Delete),
            # Checked at commit, when every line of the entry is in: debits equal credits.
            pgtrigger.Trigger(
                name="journal_entry_balances",
                when=pgtrigger.After,
                operation=pgtrigger.Insert,
                timing=pgtrigger.Deferred,
                func="""
                    IF (SELECT SUM(amount) <> 0 OR SUM(amount_company) <> 0
                          FROM ledger_journalline WHERE entry_id = NEW.entry_id) THEN
                        RAISE EXCEPTION 'Journal entry % does not balance.', NEW.entry_id
                            USING ERRCODE = 'integrity_constraint_violation';
                    END IF;
                    RETURN NULL;
                """,
            ),
            # The items the inserted lines name: settled on their latest line's date once their lines
            # sum to zero, open (NULL) otherwise. The items are locked first, so concurrent postings to
            # one item are summed one after the other, each seeing the other's committed lines.
            pgtrigger.Trigger(
                name="open_item_settled_on",
                when=pgtrigger.After,
                operation=pgtrigger.Insert,
                level=pgtrigger.Statement,
                referencing=pgtrigger.Referencing(new="new_lines"),
                func="""
                    PERFORM 1 FROM ledger_openitem
                     WHERE id IN (SELECT item_id FROM new_lines WHERE item_id IS NOT NULL)
                     ORDER BY id FOR UPDATE;
                    UPDATE ledger_openitem i SET settled_on = s.settled_on
                      FROM (SELECT l.item_id,
                                   CASE WHEN SUM(l.amount) = 0 THEN MAX(l.posted_on) END AS settled_on
                              FROM ledger_journalline l
                             WHERE l.item_id IN (SELECT item_id FROM new_lines WHERE item_id IS NOT NULL)
                             GROUP BY l.item_id) s
                     WHERE i.id = s.item_id AND i.settled_on IS DISTINCT FROM s.settled_on;
                    RETURN NULL;
                """,
            ),
        ]

    def __str__(self) -> str:
        return f"{self.account_id} {self.amount} {self.currency}"
