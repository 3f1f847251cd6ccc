"""Service desk setup in the admin: teams, working calendars with their hours and holidays, SLA
policies and canned replies. Plain configuration rows; a canned reply's text is checked to be a
valid template before it is saved."""

from django import forms
from django.contrib import admin
from unfold.admin import ModelAdmin, TabularInline

from otc.errors import DomainError
from service.canned import compile_canned_reply
from service.models import CannedReply, Holiday, SlaPolicy, Team, WorkingCalendar, WorkingHours


@admin.register(Team)
class TeamAdmin(ModelAdmin):
    list_display = ["name", "lead"]
    filter_horizontal = ["members"]
    search_fields = ["name"]


class WorkingHoursInline(TabularInline):
    model = WorkingHours
    extra = 0
    max_num = 7


class HolidayInline(TabularInline):
    model = Holiday
    extra = 0


@admin.register(WorkingCalendar)
class WorkingCalendarAdmin(ModelAdmin):
    list_display = ["name", "time_zone"]
    inlines = [WorkingHoursInline, HolidayInline]


@admin.register(SlaPolicy)
class SlaPolicyAdmin(ModelAdmin):
    list_display = ["name", "customer_group", "priority", "first_response_hours", "resolution_hours", "calendar"]
    list_filter = ["priority", "customer_group"]
    list_select_related = ["customer_group", "calendar"]


class CannedReplyForm(forms.ModelForm):
    class Meta:
        model = CannedReply
        fields = ["title", "language", "body", "is_active"]
        help_texts = {
            "body": "Placeholders: {{ customer.display_name }}, {{ customer.number }}, {{ contact.name }}, "
            "{{ invoice.number }}, {{ invoice.open_amount }}, {{ invoice.due_date }}, {{ order.number }}, "
            "{{ order.status }}, {{ ticket.number }}, {{ agent.first_name }}; tags: if, for, with, firstof."
        }

    def clean_body(self) -> str:
        body = self.cleaned_data["body"]
        try:
            compile_canned_reply(body)
        except DomainError as error:
            raise forms.ValidationError(error.message) from error
        return body


@admin.register(CannedReply)
class CannedReplyAdmin(ModelAdmin):
    form = CannedReplyForm
    list_display = ["title", "language", "is_active"]
    list_filter = ["language", "is_active"]
    search_fields = ["title", "body"]
