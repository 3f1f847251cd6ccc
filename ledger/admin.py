"""The ledger in the admin: the journal (append-only, read-only), the trial balance with the
ledger's own checks, and the chart of accounts."""

from decimal import Decimal

from django.contrib import admin
from django.db.models import QuerySet
from django.template.response import TemplateResponse
from django.utils.html import format_html, format_html_join
from unfold.admin import ModelAdmin
from unfold.contrib.filters.admin import ChoicesDropdownFilter, RangeDateFilter
from unfold.decorators import action, display
from unfold.paginator import InfinitePaginator

from ledger import selectors
from ledger.models import JournalEntry, JournalLine, LedgerAccount
from otc.admin import ReadOnlyInline, ReadOnlyModelAdmin, money_text

VIEW_LEDGER = "ledger.view_ledger"


def journal_lines_table(entry: JournalEntry) -> str:
    """The entry's lines, from the prefetch: account, customer, debit (+) or credit (−), company amount."""
    return format_html(
        '<table class="text-xs">{}</table>',
        format_html_join(
            "",
            '<tr><td class="pr-4">{}</td><td class="pr-4">{}</td><td class="pr-4 text-right">{}</td>'
            '<td class="text-right text-font-subtle-light">{}</td></tr>',
            (
                (
                    line.account,
                    line.customer or "",
                    money_text(line.amount, line.currency),
                    f"{line.amount_company:,.2f}",
                )
                for line in entry.lines.all()
            ),
        ),
    )


def journal_table(entries: QuerySet[JournalEntry]) -> str:
    """Entries (from `selectors.journal()`) as a table of entry, date, kind, memo and lines."""
    return format_html(
        '<table class="text-sm">{}</table>',
        format_html_join(
            "",
            '<tr><td class="pr-4 align-top">JE-{}</td><td class="pr-4 align-top">{}</td>'
            '<td class="pr-4 align-top">{}</td><td class="pr-4 align-top">{}</td><td>{}</td></tr>',
            (
                (entry.pk, entry.posted_on, entry.get_kind_display(), entry.memo, journal_lines_table(entry))
                for entry in entries
            ),
        ),
    )


class JournalLineInline(ReadOnlyInline):
    model = JournalLine
    fields = ["account", "customer", "item", "currency", "amount", "amount_company"]
    readonly_fields = fields
    verbose_name_plural = "lines"

    def has_view_permission(self, request, obj=None) -> bool:
        return request.user.has_perm(VIEW_LEDGER)

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("account", "customer", "item").order_by("pk")


@admin.register(JournalEntry)
class JournalEntryAdmin(ModelAdmin):
    """The journal, append-only: a mistake is reversed by another entry, never edited."""

    list_display = ["entry", "posted_on", "kind", "memo", "document", "debit_total"]
    list_display_links = ["entry"]
    list_filter = [("kind", ChoicesDropdownFilter), ("posted_on", RangeDateFilter)]
    list_filter_submit = True
    search_fields = ["memo", "source", "item__reference"]
    show_full_result_count = False
    paginator = InfinitePaginator
    ordering = ["-pk"]
    fields = ["posted_on", "kind", "memo", "document", "source", "reverses", "created_by", "created_at"]
    readonly_fields = fields
    inlines = [JournalLineInline]
    actions_list = ["trial_balance"]

    def get_queryset(self, request) -> QuerySet[JournalEntry]:
        return selectors.journal()

    def has_view_permission(self, request, obj=None) -> bool:
        return request.user.has_perm(VIEW_LEDGER)

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    @display(description="Entry", ordering="pk")
    def entry(self, entry: JournalEntry) -> str:
        return f"JE-{entry.pk}"

    @display(description="Document")
    def document(self, entry: JournalEntry) -> str:
        return entry.item.reference if entry.item_id else "-"

    @display(description="Debit total")
    def debit_total(self, entry: JournalEntry) -> str:
        lines = entry.lines.all()
        debit = sum((line.amount for line in lines if line.amount > 0), Decimal("0"))
        return money_text(debit, lines[0].currency) if lines else "-"

    @action(description="Trial balance", permissions=["view"], url_path="trial-balance", icon="balance")
    def trial_balance(self, request) -> TemplateResponse:
        context = {
            **self.admin_site.each_context(request),
            "title": "Trial balance",
            "opts": self.model._meta,
            "rows": selectors.trial_balance(),
            "problems": selectors.ledger_problems(),
        }
        request.current_app = self.admin_site.name
        return TemplateResponse(request, "admin/ledger/trial_balance.html", context)


@admin.register(LedgerAccount)
class LedgerAccountAdmin(ReadOnlyModelAdmin):
    """The chart of accounts the services post to, kept in place after every migrate."""

    list_display = ["code", "name", "kind", "role"]
