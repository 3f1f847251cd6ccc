"""Inbound mail and automated answers in the admin, read-only: every email the desk received with what
became of it, and every ticket's recognised intent with its confidence, reasons, answer and the
customer's "did this help?", above a summary of the automated share and its helpfulness."""

from django.contrib import admin
from unfold.contrib.filters.admin import ChoicesDropdownFilter, RangeDateFilter
from unfold.decorators import display

from otc.admin import ReadOnlyModelAdmin, admin_link, change_url
from service.models import InboundMail, TicketRecognition
from service.selectors import automated_answer_summary


@admin.register(InboundMail)
class InboundMailAdmin(ReadOnlyModelAdmin):
    list_display = ["received_at", "sender", "subject", "outcome", "source", "ticket_link", "customer"]
    list_filter = [
        ("outcome", ChoicesDropdownFilter),
        ("source", ChoicesDropdownFilter),
        ("received_at", RangeDateFilter),
    ]
    search_fields = ["sender", "subject", "message_id", "ticket__number"]
    list_select_related = ["ticket", "customer"]
    readonly_fields = [field.name for field in InboundMail._meta.fields]

    @display(description="Ticket")
    def ticket_link(self, mail: InboundMail) -> str:
        return admin_link(change_url(mail.ticket), str(mail.ticket)) if mail.ticket else "-"


@admin.register(TicketRecognition)
class TicketRecognitionAdmin(ReadOnlyModelAdmin):
    list_display = ["created_at", "ticket_link", "intent", "confidence", "answered_mark", "helpful", "handed_over"]
    list_filter = [("intent", ChoicesDropdownFilter), "helpful", ("created_at", RangeDateFilter)]
    search_fields = ["ticket__number"]
    list_select_related = ["ticket"]
    readonly_fields = [field.name for field in TicketRecognition._meta.fields]
    list_before_template = "admin/service/automated_answer_summary.html"

    @display(description="Ticket")
    def ticket_link(self, row: TicketRecognition) -> str:
        return admin_link(change_url(row.ticket), str(row.ticket))

    @display(description="Answered automatically", boolean=True)
    def answered_mark(self, row: TicketRecognition) -> bool:
        return row.answered

    def changelist_view(self, request, extra_context=None):
        return super().changelist_view(request, {"summary": automated_answer_summary(), **(extra_context or {})})
