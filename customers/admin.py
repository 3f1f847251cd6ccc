"""The finance staff's admin for customer data: customers with their contacts, addresses,
preferences, credit profile and bank accounts, the four-eyes change request queue, the audit
history, and import/export.

Thin by design: forms collect input, customers.services validate and write with the signed-in user
as actor, and a refused service call (DomainError) is shown as a form or action error with nothing
written (see otc.admin.ServiceChangeFormMixin).
"""

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.db.models import Model, QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from import_export.admin import ImportExportModelAdmin
from import_export.formats.base_formats import CSV, XLSX
from unfold.admin import ModelAdmin, StackedInline, TabularInline
from unfold.contrib.filters.admin import ChoicesDropdownFilter, RelatedDropdownFilter
from unfold.contrib.import_export.forms import ExportForm, ImportForm
from unfold.decorators import action, display
from unfold.paginator import InfinitePaginator

from customers import selectors, services
from customers.errors import PossibleDuplicateCustomer
from customers.forms import (
    AddressInlineForm,
    BankAccountRequestForm,
    ChangeRequestStartForm,
    ContactInlineForm,
    CreditLimitChangeForm,
    CreditProfileInlineForm,
    CustomerForm,
    DecisionForm,
    PortalInvitationForm,
    PortalRolesForm,
    PreferencesInlineForm,
)
from customers.models import (
    Address,
    BankAccount,
    ChangeRequest,
    ChangeRequestKind,
    Contact,
    CreditProfile,
    Customer,
    CustomerGroup,
    CustomerTag,
    InvitationStatus,
    PortalInvitation,
    PortalMembership,
    Preferences,
)
from customers.resources import CustomerImportResource, CustomerResource
from otc.admin import (
    AuditHistory,
    DetailActionsByState,
    IndexedSearch,
    ReasonForm,
    ServiceChangeFormMixin,
    ServiceInlineMixin,
    ServiceRefused,
    apply_domain_error,
    badge,
    bulk_with_reason,
    call_for_each,
    call_once,
    change_url,
    service_form_page,
)
from otc.errors import DomainError
from otc.exchange_rates import company_currency
from otc.forms import adopt_saved_row
from otc.models import User
from otc.money import quantize

CUSTOMER_STATUS_COLORS = {"active": "success", "on_hold": "warning", "blocked": "danger"}
CHANGE_REQUEST_STATUS_COLORS = {"pending": "warning", "approved": "success", "rejected": "danger", "withdrawn": "info"}
RISK_COLORS = {"low": "success", "medium": "info", "high": "danger"}
IDENTITY_FIELDS = ["legal_name", "trading_name", "country", "tax_id", "peppol_scheme", "peppol_id", "leitweg_id"]
# Everything else the services let staff change: terms, sales rep, notes (and what later capabilities add).
TERMS_FIELDS = [name for name in services.CUSTOMER_FIELDS if name not in IDENTITY_FIELDS]


# --------------------------------------------------------------------------------------------------
# Inlines of the customer page. Rows are written by the contact/address/preferences/credit services
# in CustomerAdmin.save_formset; the bank accounts and change requests are read-only here.
# --------------------------------------------------------------------------------------------------


class ContactInline(ServiceInlineMixin, TabularInline):
    model = Contact
    form = ContactInlineForm
    extra = 0
    tab = True


class AddressInline(ServiceInlineMixin, StackedInline):
    model = Address
    form = AddressInlineForm
    extra = 0
    tab = True


class PreferencesInline(ServiceInlineMixin, StackedInline):
    model = Preferences
    form = PreferencesInlineForm
    can_delete = False
    max_num = 1
    tab = True

    def has_add_permission(self, request, obj=None) -> bool:
        return False  # created with the customer


class CreditProfileInline(ServiceInlineMixin, StackedInline):
    model = CreditProfile
    form = CreditProfileInlineForm
    verbose_name = verbose_name_plural = "credit profile"
    fields = ["credit_limit_display", "risk_class", "review_date", "hold_reason", "hold_set_by", "hold_set_at"]
    readonly_fields = ["credit_limit_display", "hold_reason", "hold_set_by", "hold_set_at"]
    can_delete = False
    max_num = 1
    tab = True

    def has_add_permission(self, request, obj=None) -> bool:
        return False  # created with the customer

    @display(description="Credit limit")
    def credit_limit_display(self, profile: CreditProfile) -> str:
        return _money(profile.credit_limit, profile.credit_currency) + " (changes need a change request)"


class ReadOnlyInline(TabularInline):
    """Rows listed on the customer page and changed only through the actions their links open."""

    extra = 0
    tab = True

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class BankAccountInline(ReadOnlyInline):
    model = BankAccount
    fields = ["holder_name", "iban_masked", "bic", "is_active", "created_at", "deactivation"]
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).defer("iban")  # lists show the masked IBAN only

    @display(description="")
    def deactivation(self, account: BankAccount) -> str:
        if not account.is_active or account.pk is None:
            return ""
        url = reverse("admin:customers_customer_deactivate_bank_account", args=[account.customer_id, account.pk])
        return format_html('<a class="text-primary-600" href="{}">Request deactivation</a>', url)


class ChangeRequestInline(ReadOnlyInline):
    model = ChangeRequest
    fields = ["kind", "proposal", "status", "requested_by", "requested_at", "decided_by"]
    readonly_fields = fields
    verbose_name_plural = "change requests"

    def get_queryset(self, request):
        return super().get_queryset(request).defer("proposed_iban").select_related("requested_by", "decided_by")

    @display(description="Proposed")
    def proposal(self, change_request: ChangeRequest) -> str:
        return proposal_text(change_request)


def _action_links(*links: tuple[str, str]) -> str:
    return format_html_join(" · ", '<a class="text-primary-600" href="{}">{}</a>', links)


class PortalMembershipInline(ReadOnlyInline):
    model = PortalMembership
    fields = ["user", "role_names", "created_at", "manage"]
    readonly_fields = fields
    verbose_name_plural = "portal users"

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("user")

    @display(description="Roles")
    def role_names(self, membership: PortalMembership) -> str:
        return ", ".join(membership.role_labels)

    @display(description="")
    def manage(self, membership: PortalMembership) -> str:
        if membership.pk is None:
            return ""
        args = [membership.customer_id, membership.pk]
        return _action_links(
            (reverse("admin:customers_customer_portal_roles", args=args), "Change roles"),
            (reverse("admin:customers_customer_portal_remove", args=args), "Remove access"),
        )


class PortalInvitationInline(ReadOnlyInline):
    model = PortalInvitation
    fields = ["email", "role_names", "status", "expires_at", "sent_count", "invited_by", "manage"]
    readonly_fields = fields
    verbose_name_plural = "portal invitations"

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("invited_by")

    @display(description="Roles")
    def role_names(self, invitation: PortalInvitation) -> str:
        return ", ".join(invitation.role_labels)

    @display(description="")
    def manage(self, invitation: PortalInvitation) -> str:
        if invitation.pk is None or invitation.status != InvitationStatus.PENDING:
            return ""
        args = [invitation.customer_id, invitation.pk]
        return _action_links(
            (reverse("admin:customers_customer_invitation_resend", args=args), "Resend"),
            (reverse("admin:customers_customer_invitation_revoke", args=args), "Revoke"),
        )


# --------------------------------------------------------------------------------------------------
# Customers
# --------------------------------------------------------------------------------------------------

# The account history: the order one transaction's changes show in, and what each row is.
ACCOUNT_HISTORY_ORDER = [
    "customers.Customer",
    "customers.CreditProfile",
    "customers.Preferences",
    "customers.Contact",
    "customers.Address",
    "customers.BankAccount",
    "customers.ChangeRequest",
]
ACCOUNT_HISTORY_SUBJECTS = {
    "customers.Contact": lambda data: f"{data.get('name', '')} <{data.get('email', '')}>",
    "customers.Address": lambda data: f"{data.get('line1', '')}, {data.get('postal_code', '')} {data.get('city', '')}",
    "customers.BankAccount": lambda data: data.get("iban_masked", ""),
    "customers.ChangeRequest": lambda data: str(
        dict(ChangeRequestKind.choices).get(data.get("kind"), data.get("kind", ""))
    ),
}


@admin.register(Customer)
class CustomerAdmin(
    IndexedSearch, AuditHistory, DetailActionsByState, ServiceChangeFormMixin, ModelAdmin, ImportExportModelAdmin
):
    form = CustomerForm
    resource_classes = [CustomerResource]
    import_form_class = ImportForm
    export_form_class = ExportForm
    import_formats = [CSV, XLSX]
    export_formats = [CSV, XLSX]
    import_error_display = ("message",)

    list_display = ["number", "name", "country", "status_badge", "sales_rep", "credit_limit", "risk_class"]
    list_display_links = ["number", "name"]
    list_filter = [
        ("status", ChoicesDropdownFilter),
        ("country", ChoicesDropdownFilter),
        ("sales_rep", RelatedDropdownFilter),
        ("credit__risk_class", ChoicesDropdownFilter),
        ("default_currency", ChoicesDropdownFilter),
    ]
    list_filter_submit = True
    search_fields = ["number", "legal_name", "trading_name", "tax_id"]
    search_spec = selectors.CUSTOMER_SEARCH
    search_help_text = "Number, tax ID, or any part of the name"
    list_select_related = ["sales_rep", "credit"]
    show_full_result_count = False
    paginator = InfinitePaginator
    ordering = ["number"]
    readonly_fields = ["number", "status_badge", "created_at", "updated_at"]

    actions = ["place_credit_hold", "release_credit_hold", "block", "unblock"]
    actions_detail = [
        {
            "title": "Credit",
            "icon": "credit_score",
            "items": ["hold_one", "release_one", "request_credit_limit"],
        },
        {"title": "Status", "icon": "toggle_on", "items": ["block_one", "unblock_one"]},
        "request_bank_account",
        "invite_portal_user",
    ]
    detail_action_states = {
        "hold_one": selectors.may_be_put_on_hold,
        "release_one": selectors.is_on_credit_hold,
        "block_one": selectors.may_be_blocked,
        "unblock_one": selectors.is_blocked,
    }

    add_fieldsets = [
        ("Customer", {"fields": IDENTITY_FIELDS}),
        ("Terms", {"fields": TERMS_FIELDS}),
    ]
    fieldsets = [
        ("Customer", {"fields": ["number", "status_badge", *IDENTITY_FIELDS]}),
        ("Terms", {"fields": TERMS_FIELDS}),
        ("Record", {"fields": ["created_at", "updated_at"]}),
    ]

    def get_changeform_initial_data(self, request) -> dict:
        """A new customer starts in the company's own country and currency (the URL may say otherwise)."""
        return {
            "country": selectors.company_country(),
            "default_currency": company_currency(),
            **super().get_changeform_initial_data(request),
        }

    # -- permissions --------------------------------------------------------------------------------

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # customers are blocked, never deleted

    def has_import_permission(self, request) -> bool:
        return request.user.has_perm("customers.add_customer")

    def has_export_permission(self, request) -> bool:
        return request.user.has_perm("customers.view_customer")

    def has_credit_permission(self, request, object_id=None) -> bool:
        return request.user.has_perm("customers.change_creditprofile")

    def has_status_permission(self, request, object_id=None) -> bool:
        return request.user.has_perm("customers.change_customer")

    def has_change_request_permission(self, request, object_id=None) -> bool:
        return request.user.has_perm("customers.add_changerequest")

    def has_portal_invite_permission(self, request, object_id=None) -> bool:
        return request.user.has_perm("customers.add_portalinvitation")

    def has_portal_access_permission(self, request, object_id=None) -> bool:
        return request.user.has_perm("customers.change_portalmembership")

    # -- list columns -------------------------------------------------------------------------------

    @display(description="Name", ordering="legal_name")
    def name(self, customer: Customer) -> str:
        return customer.display_name

    @display(description="Status", ordering="status")
    def status_badge(self, customer: Customer) -> str:
        return badge(customer.get_status_display(), CUSTOMER_STATUS_COLORS.get(customer.status, ""))

    @display(description="Credit limit", ordering="credit__credit_limit")
    def credit_limit(self, customer: Customer) -> str:
        credit = getattr(customer, "credit", None)
        return _money(credit.credit_limit, credit.credit_currency) if credit else "-"

    @display(description="Risk", ordering="credit__risk_class")
    def risk_class(self, customer: Customer) -> str:
        credit = getattr(customer, "credit", None)
        return badge(credit.get_risk_class_display(), RISK_COLORS.get(credit.risk_class, "")) if credit else "-"

    # -- the change form ------------------------------------------------------------------------------

    def get_inlines(self, request, obj):
        if obj is None:
            return [ContactInline, AddressInline]
        return [
            ContactInline,
            AddressInline,
            PreferencesInline,
            CreditProfileInline,
            BankAccountInline,
            ChangeRequestInline,
            PortalMembershipInline,
            PortalInvitationInline,
        ]

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        if obj is None and (_duplicates_refused(request) or request.POST.get("confirm_duplicate")):
            return [("Possible duplicate", {"fields": ["confirm_duplicate"]}), *fieldsets]
        return fieldsets

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        duplicates = _duplicates_refused(request)
        if duplicates:
            links = format_html_join(
                ", ",
                '<a class="underline" href="{}">{} {}</a>',
                ((change_url(duplicate), duplicate.number, duplicate.legal_name) for duplicate in duplicates),
            )
            messages.warning(
                request,
                format_html(
                    "Possible duplicate of {}. Check them; if this is a different company, tick "
                    "“Create anyway (confirm duplicate)” and save again.",
                    links,
                ),
            )
        return super().render_change_form(request, context, add, change, form_url, obj)

    def save_model(self, request, obj: Customer, form, change: bool) -> None:
        data = {name: form.cleaned_data[name] for name in services.CUSTOMER_FIELDS if name in form.cleaned_data}
        try:
            if change:
                changed = {name: value for name, value in data.items() if name in form.changed_data}
                services.update_customer(customer=obj, actor=request.user, data=changed)
                obj.refresh_from_db()
            else:
                created = services.create_customer(
                    actor=request.user, confirm_duplicate=form.cleaned_data.get("confirm_duplicate", False), **data
                )
                adopt_saved_row(obj, created)
        except DomainError as error:
            raise ServiceRefused(error) from error

    def save_formset(self, request, form, formset, change: bool) -> None:
        customer, actor = form.instance, request.user
        formset.save(commit=False)  # sorts rows into new/changed/deleted objects without writing
        index_of = {id(inline_form.instance): i for i, inline_form in enumerate(formset.forms)}
        writes = [(obj, "delete", ()) for obj in formset.deleted_objects]
        writes += [(obj, "change", fields) for obj, fields in formset.changed_objects]
        writes += [(obj, "add", ()) for obj in formset.new_objects]
        for obj, operation, fields in writes:
            try:
                _write_inline_row(customer=customer, actor=actor, obj=obj, operation=operation, fields=fields)
            except DomainError as error:
                raise ServiceRefused(error, prefix=formset.prefix, index=index_of.get(id(obj))) from error

    # -- history: the audit trail of the account -----------------------------------------------------

    history_order = ACCOUNT_HISTORY_ORDER
    history_subjects = ACCOUNT_HISTORY_SUBJECTS

    def history_events(self, customer: Customer) -> QuerySet:
        return selectors.customer_timeline(customer=customer)

    # -- bulk actions ---------------------------------------------------------------------------------

    @action(description="Place credit hold", permissions=["credit"])
    def place_credit_hold(self, request, queryset):
        return bulk_with_reason(
            self,
            request,
            queryset,
            intro="The reason is recorded in the audit trail and sent to the sales rep.",
            action_name="place_credit_hold",
            title="Place a credit hold",
            submit_label="Place credit hold",
            service=lambda customer, reason: services.place_credit_hold(
                customer=customer, actor=request.user, reason=reason
            ),
            done="Put {count} customer(s) on credit hold.",
        )

    @action(description="Release credit hold", permissions=["credit"])
    def release_credit_hold(self, request, queryset):
        return bulk_with_reason(
            self,
            request,
            queryset,
            intro="New orders go ahead again; the reason is recorded in the audit trail.",
            action_name="release_credit_hold",
            title="Release credit holds",
            submit_label="Release credit hold",
            service=lambda customer, reason: services.release_credit_hold(
                customer=customer, actor=request.user, reason=reason
            ),
            done="Released the credit hold of {count} customer(s).",
        )

    @action(description="Block", permissions=["status"])
    def block(self, request, queryset):
        return bulk_with_reason(
            self,
            request,
            queryset,
            intro="The reason is recorded in the audit trail and sent to the sales rep.",
            action_name="block",
            title="Block customers",
            submit_label="Block",
            service=lambda customer, reason: services.block_customer(
                customer=customer, actor=request.user, reason=reason
            ),
            done="Blocked {count} customer(s).",
        )

    @action(description="Unblock", permissions=["status"])
    def unblock(self, request, queryset) -> None:
        call_for_each(
            request,
            queryset,
            lambda customer: services.unblock_customer(customer=customer, actor=request.user),
            done="Unblocked {count} customer(s).",
        )

    # -- detail actions: forms that call one service for this customer -------------------------------

    @action(description="Place credit hold", permissions=["credit"], url_path="credit-hold", icon="front_hand")
    def hold_one(self, request, object_id):
        return self._form_action(
            request,
            object_id,
            form_class=ReasonForm,
            title="Place a credit hold on {customer}",
            submit_label="Place credit hold",
            call=lambda customer, data: services.place_credit_hold(
                customer=customer, actor=request.user, reason=data["reason"]
            ),
            done="{customer} is on credit hold.",
            intro="New orders are held until the hold is released. The sales rep is notified.",
        )

    @action(description="Release credit hold", permissions=["credit"], url_path="release-hold", icon="play_arrow")
    def release_one(self, request, object_id):
        return self._form_action(
            request,
            object_id,
            form_class=ReasonForm,
            title="Release the credit hold of {customer}?",
            submit_label="Release credit hold",
            call=lambda customer, data: services.release_credit_hold(
                customer=customer, actor=request.user, reason=data["reason"]
            ),
            done="Released the credit hold of {customer}.",
        )

    @action(
        description="Request credit limit change",
        permissions=["change_request"],
        url_path="request-credit-limit",
        icon="price_change",
    )
    def request_credit_limit(self, request, object_id):
        customer = self.get_object(request, unquote(object_id))
        credit = getattr(customer, "credit", None)
        return self._form_action(
            request,
            object_id,
            form_class=CreditLimitChangeForm,
            initial={"currency": credit.credit_currency if credit else "EUR"},
            title="Request a credit limit change for {customer}",
            submit_label="Submit for approval",
            call=lambda customer, data: services.request_credit_limit_change(
                customer=customer,
                actor=request.user,
                credit_limit=data["credit_limit"],
                currency=data["currency"],
                reason=data["reason"],
            ),
            done="Credit limit change for {customer} submitted; another staff member must approve it.",
            intro=f"Current limit: {_money(credit.credit_limit, credit.credit_currency)}." if credit else "",
        )

    @action(description="Block", permissions=["status"], url_path="block", icon="block")
    def block_one(self, request, object_id):
        return self._form_action(
            request,
            object_id,
            form_class=ReasonForm,
            title="Block {customer}",
            submit_label="Block",
            call=lambda customer, data: services.block_customer(
                customer=customer, actor=request.user, reason=data["reason"]
            ),
            done="{customer} is blocked.",
            danger=True,
        )

    @action(description="Unblock", permissions=["status"], url_path="unblock", icon="lock_open")
    def unblock_one(self, request, object_id):
        return self._form_action(
            request,
            object_id,
            form_class=forms.Form,
            title="Unblock {customer}?",
            submit_label="Unblock",
            call=lambda customer, data: services.unblock_customer(customer=customer, actor=request.user),
            done="{customer} is active again.",
        )

    @action(
        description="Request bank account",
        permissions=["change_request"],
        url_path="request-bank-account",
        icon="account_balance",
    )
    def request_bank_account(self, request, object_id):
        return self._form_action(
            request,
            object_id,
            form_class=BankAccountRequestForm,
            title="Request a new bank account for {customer}",
            submit_label="Submit for approval",
            call=lambda customer, data: services.request_bank_account(
                customer=customer,
                actor=request.user,
                holder_name=data["holder_name"],
                iban=data["iban"],
                bic=data["bic"],
                reason=data["reason"],
            ),
            done="Bank account for {customer} submitted; another staff member must approve it.",
        )

    def deactivate_bank_account(self, request, object_id, bank_account_id):
        if not self.has_change_request_permission(request):
            raise PermissionDenied
        account = BankAccount.objects.filter(pk=bank_account_id, customer_id=unquote(object_id)).defer("iban").first()
        if account is None:
            return HttpResponseRedirect(reverse("admin:customers_customer_changelist"))
        return self._form_action(
            request,
            object_id,
            form_class=ReasonForm,
            title=f"Request deactivation of {account} for {{customer}}",
            submit_label="Submit for approval",
            call=lambda customer, data: services.request_bank_account_deactivation(
                bank_account=account, actor=request.user, reason=data["reason"]
            ),
            done="Deactivation of the bank account submitted; another staff member must approve it.",
        )

    @action(
        description="Invite portal user",
        permissions=["portal_invite"],
        url_path="invite-portal-user",
        icon="person_add",
    )
    def invite_portal_user(self, request, object_id):
        return self._form_action(
            request,
            object_id,
            form_class=PortalInvitationForm,
            title="Invite a portal user for {customer}",
            submit_label="Send invitation",
            call=lambda customer, data: services.invite_portal_user(
                customer=customer,
                actor=request.user,
                email=data["email"],
                full_name=data["full_name"],
                roles=data["roles"],
            ),
            done=f"Invitation sent; the link works once and expires in {settings.OTC_PORTAL_INVITATION_DAYS} days.",
            intro="The person receives an email with a one-time link and chooses their own password.",
        )

    def _portal_row_action(self, request, object_id, model, row_id, permission: str, **form_action):
        if not getattr(self, f"has_{permission}_permission")(request):
            raise PermissionDenied
        row = model.objects.filter(pk=row_id, customer_id=unquote(object_id)).first()
        if row is None:
            return HttpResponseRedirect(reverse("admin:customers_customer_changelist"))
        call = form_action.pop("call")
        return self._form_action(request, object_id, call=lambda customer, data: call(row, data), **form_action)

    def resend_invitation(self, request, object_id, row_id):
        return self._portal_row_action(
            request,
            object_id,
            PortalInvitation,
            row_id,
            "portal_invite",
            form_class=forms.Form,
            title="Resend the portal invitation?",
            submit_label="Resend",
            call=lambda invitation, data: services.resend_portal_invitation(invitation=invitation, actor=request.user),
            done="Invitation sent again; the earlier link no longer works.",
        )

    def revoke_invitation(self, request, object_id, row_id):
        return self._portal_row_action(
            request,
            object_id,
            PortalInvitation,
            row_id,
            "portal_invite",
            form_class=forms.Form,
            title="Revoke the portal invitation?",
            submit_label="Revoke",
            call=lambda invitation, data: services.revoke_portal_invitation(invitation=invitation, actor=request.user),
            done="Invitation revoked; its link no longer works.",
            danger=True,
        )

    def change_portal_roles(self, request, object_id, row_id):
        membership = PortalMembership.objects.filter(pk=row_id).first()
        return self._portal_row_action(
            request,
            object_id,
            PortalMembership,
            row_id,
            "portal_access",
            form_class=PortalRolesForm,
            initial={"roles": membership.roles if membership else []},
            title="Portal roles of {customer}'s user",
            submit_label="Save roles",
            call=lambda member, data: services.change_portal_roles(
                membership=member, actor=request.user, roles=data["roles"]
            ),
            done="Portal roles saved.",
        )

    def remove_portal_access(self, request, object_id, row_id):
        return self._portal_row_action(
            request,
            object_id,
            PortalMembership,
            row_id,
            "portal_access",
            form_class=forms.Form,
            title="Remove this user's portal access to {customer}?",
            submit_label="Remove access",
            call=lambda member, data: services.remove_portal_access(membership=member, actor=request.user),
            done="Portal access removed.",
            danger=True,
        )

    def get_urls(self):
        custom = [
            path(
                "<path:object_id>/bank-accounts/<int:bank_account_id>/deactivate/",
                self.admin_site.admin_view(self.deactivate_bank_account),
                name="customers_customer_deactivate_bank_account",
            ),
            *(
                path(
                    f"<path:object_id>/{route}/<int:row_id>/",
                    self.admin_site.admin_view(view),
                    name=f"customers_customer_{name}",
                )
                for route, view, name in [
                    ("portal-invitations/resend", self.resend_invitation, "invitation_resend"),
                    ("portal-invitations/revoke", self.revoke_invitation, "invitation_revoke"),
                    ("portal-users/roles", self.change_portal_roles, "portal_roles"),
                    ("portal-users/remove", self.remove_portal_access, "portal_remove"),
                ]
            ),
        ]
        return custom + super().get_urls()

    def _form_action(
        self, request, object_id, *, form_class, title, submit_label, call, done, intro="", initial=None, danger=False
    ) -> HttpResponse:
        customer = self.get_object(request, unquote(object_id))
        if customer is None:
            return self._get_obj_does_not_exist_redirect(request, self.opts, object_id)
        form = form_class(request.POST if request.method == "POST" else None, initial=initial)
        if form.is_bound and form.is_valid():
            try:
                call(customer, form.cleaned_data)
            except DomainError as error:
                apply_domain_error(form, error)
            else:
                messages.success(request, done.format(customer=customer))
                return HttpResponseRedirect(change_url(customer))
        return service_form_page(
            request,
            self,
            title=title.format(customer=customer),
            form=form,
            obj=customer,
            submit_label=submit_label,
            intro=intro,
            danger=danger,
        )

    # -- import ----------------------------------------------------------------------------------------

    def get_import_resource_classes(self, request):
        return [CustomerImportResource]

    def process_result(self, result, request):
        """The confirmed import runs again in one transaction; if the data changed since the preview
        and a row now fails, nothing was written and the errors are reported instead."""
        if result.has_errors() or result.has_validation_errors():
            for line in import_error_lines(result):
                messages.error(request, line)
            messages.error(request, "Import rejected: no customer was created.")
            return HttpResponseRedirect(reverse("admin:customers_customer_import"))
        return super().process_result(result, request)


def _money(amount, currency: str) -> str:
    return f"{quantize(amount, currency):,} {currency}"


def _duplicates_refused(request: HttpRequest) -> list[Customer]:
    refused = getattr(request, "service_refusal", None)
    if refused is not None and isinstance(refused.error, PossibleDuplicateCustomer):
        return refused.error.duplicates
    return []


def _write_inline_row(*, customer: Customer, actor: User, obj: Model, operation: str, fields) -> None:
    """One inline row through its service: contacts and addresses are added, changed and removed,
    preferences and the credit profile only changed."""
    if isinstance(obj, Contact):
        if operation == "delete":
            services.remove_contact(contact=obj, actor=actor)
        elif operation == "change":
            services.update_contact(contact=obj, actor=actor, data={name: getattr(obj, name) for name in fields})
        else:
            obj.pk = services.add_contact(
                customer=customer, actor=actor, data={name: getattr(obj, name) for name in services.CONTACT_FIELDS}
            ).pk
    elif isinstance(obj, Address):
        if operation == "delete":
            services.remove_address(address=obj, actor=actor)
        elif operation == "change":
            services.update_address(address=obj, actor=actor, data={name: getattr(obj, name) for name in fields})
        else:
            obj.pk = services.add_address(
                customer=customer, actor=actor, data={name: getattr(obj, name) for name in services.ADDRESS_FIELDS}
            ).pk
    elif isinstance(obj, Preferences) and operation == "change":
        services.update_preferences(customer=customer, actor=actor, data={name: getattr(obj, name) for name in fields})
    elif isinstance(obj, CreditProfile) and operation == "change":
        services.update_credit_profile(
            customer=customer,
            actor=actor,
            risk_class=obj.risk_class if "risk_class" in fields else None,
            review_date=obj.review_date if "review_date" in fields else None,
        )


def import_error_lines(result) -> list[str]:
    """'Row 3, tax_id: DE123 is not a valid tax ID…' for every invalid or failed row."""
    lines = []
    for row in result.invalid_rows:
        for column, problems in row.error_dict.items():
            where = f"Row {row.number}" if column == "__all__" else f"Row {row.number}, {column}"
            lines.extend(f"{where}: {problem}" for problem in problems)
    for number, errors in result.row_errors():
        lines.extend(f"Row {number}: {error.error}" for error in errors)
    return lines


# --------------------------------------------------------------------------------------------------
# Change requests: the four-eyes queue
# --------------------------------------------------------------------------------------------------


def proposal_text(change_request: ChangeRequest) -> str:
    """What a request proposes, never the plaintext IBAN."""
    proposed = change_request.proposed or {}
    if change_request.kind == ChangeRequestKind.CREDIT_LIMIT:
        return f"Credit limit {proposed.get('credit_limit')} {proposed.get('currency')}"
    if change_request.kind == ChangeRequestKind.BANK_ACCOUNT_ADD:
        bic = f", BIC {proposed['bic']}" if proposed.get("bic") else ""
        return f"{proposed.get('holder_name')}, IBAN {proposed.get('iban_masked')}{bic}"
    return f"Deactivate IBAN {proposed.get('iban_masked')}"


@admin.register(ChangeRequest)
class ChangeRequestAdmin(AuditHistory, DetailActionsByState, ModelAdmin):
    """Opens on the pending queue. Approve and reject call the services, which refuse a decision by
    the requester (four eyes); decided requests cannot be edited."""

    list_display = ["customer", "kind", "proposal", "status_badge", "requested_by", "requested_at", "decided_by"]
    list_filter = [("status", ChoicesDropdownFilter), ("kind", ChoicesDropdownFilter)]
    list_filter_submit = True
    list_select_related = ["customer", "requested_by", "decided_by"]
    search_fields = ["customer__number", "customer__legal_name"]
    show_full_result_count = False
    paginator = InfinitePaginator
    ordering = ["-requested_at"]
    fields = [
        "customer",
        "kind",
        "proposal",
        "reason",
        "status_badge",
        "requested_by",
        "requested_at",
        "decided_by",
        "decided_at",
        "decision_note",
    ]
    readonly_fields = fields
    actions = ["approve", "reject"]
    actions_detail = ["approve_one", "reject_one", "withdraw_one"]
    detail_action_states = {name: selectors.is_pending for name in actions_detail}

    def get_queryset(self, request):
        return super().get_queryset(request).defer("proposed_iban")

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def has_approve_permission(self, request, object_id=None) -> bool:
        return request.user.has_perm("customers.approve_changerequest")

    def has_withdraw_permission(self, request, object_id=None) -> bool:
        return request.user.has_perm("customers.add_changerequest")

    def changelist_view(self, request, extra_context=None):
        if request.method == "GET" and not request.GET:
            return HttpResponseRedirect(f"{request.path}?status__exact=pending")
        return super().changelist_view(request, extra_context)

    @display(description="Proposed")
    def proposal(self, change_request: ChangeRequest) -> str:
        return proposal_text(change_request)

    @display(description="Status", ordering="status")
    def status_badge(self, change_request: ChangeRequest) -> str:
        return badge(change_request.get_status_display(), CHANGE_REQUEST_STATUS_COLORS.get(change_request.status, ""))

    def add_view(self, request, form_url="", extra_context=None) -> HttpResponse:
        """Requests are made on the customer: pick one and what to change, then fill in that form."""
        if not self.has_add_permission(request):
            raise PermissionDenied
        form = ChangeRequestStartForm(request.POST if request.method == "POST" else None)
        if form.is_bound and form.is_valid():
            customer = form.cleaned_data["customer_number"]
            page = (
                "request_credit_limit"
                if form.cleaned_data["kind"] == ChangeRequestKind.CREDIT_LIMIT
                else "request_bank_account"
            )
            return HttpResponseRedirect(reverse(f"admin:customers_customer_{page}", args=[customer.pk]))
        return service_form_page(request, self, title="New change request", form=form, submit_label="Continue")

    @action(description="Approve selected change requests", permissions=["approve"])
    def approve(self, request, queryset) -> None:
        call_for_each(
            request,
            queryset,
            lambda change_request: services.approve_change_request(change_request=change_request, actor=request.user),
            done="Approved and applied {count} change request(s).",
        )

    @action(description="Reject selected change requests", permissions=["approve"])
    def reject(self, request, queryset):
        form = DecisionForm(request.POST if "apply" in request.POST else None, note_required=True)
        if form.is_bound and form.is_valid():
            call_for_each(
                request,
                queryset,
                lambda change_request: services.reject_change_request(
                    change_request=change_request, actor=request.user, note=form.cleaned_data["note"]
                ),
                done="Rejected {count} change request(s).",
            )
            return None
        return service_form_page(
            request,
            self,
            title="Reject change requests",
            form=form,
            objects=queryset,
            action_name="reject",
            submit_label="Reject",
            intro="The note tells the requester why; it is required.",
            danger=True,
        )

    @action(description="Approve", permissions=["approve"], url_path="approve", icon="check")
    def approve_one(self, request, object_id):
        return self._decide(
            request,
            object_id,
            note_required=False,
            title="Approve {change_request}?",
            submit_label="Approve and apply",
            call=lambda change_request, note: services.approve_change_request(
                change_request=change_request, actor=request.user, note=note
            ),
            done="Approved and applied.",
        )

    @action(description="Reject", permissions=["approve"], url_path="reject", icon="close")
    def reject_one(self, request, object_id):
        return self._decide(
            request,
            object_id,
            note_required=True,
            title="Reject {change_request}?",
            submit_label="Reject",
            call=lambda change_request, note: services.reject_change_request(
                change_request=change_request, actor=request.user, note=note
            ),
            done="Rejected.",
            danger=True,
        )

    @action(description="Withdraw", permissions=["withdraw"], url_path="withdraw", icon="undo")
    def withdraw_one(self, request, object_id):
        change_request = self.get_object(request, unquote(object_id))
        if change_request is None:
            return self._get_obj_does_not_exist_redirect(request, self.opts, object_id)
        if request.method == "POST":
            call_once(
                request,
                lambda: services.withdraw_change_request(change_request=change_request, actor=request.user),
                done="Withdrawn.",
            )
            return HttpResponseRedirect(change_url(change_request))
        return service_form_page(
            request,
            self,
            title=f"Withdraw {change_request}?",
            form=forms.Form(),
            obj=change_request,
            submit_label="Withdraw",
            intro=proposal_text(change_request),
        )

    def _decide(self, request, object_id, *, note_required, title, submit_label, call, done, danger=False):
        change_request = self.get_object(request, unquote(object_id))
        if change_request is None:
            return self._get_obj_does_not_exist_redirect(request, self.opts, object_id)
        form = DecisionForm(request.POST if request.method == "POST" else None, note_required=note_required)
        if form.is_bound and form.is_valid():
            call_once(request, lambda: call(change_request, form.cleaned_data["note"]), done=done)
            return HttpResponseRedirect(change_url(change_request))
        return service_form_page(
            request,
            self,
            title=title.format(change_request=change_request),
            form=form,
            obj=change_request,
            submit_label=submit_label,
            intro=f"{proposal_text(change_request)}. Reason: {change_request.reason}",
            danger=danger,
        )


class CustomerTagForm(forms.ModelForm):
    class Meta:
        model = CustomerTag
        fields = ["customer", "name"]


@admin.register(CustomerTag)
class CustomerTagAdmin(ModelAdmin):
    """Tags are added and removed through the service (audited; adding announces customer.tagged)."""

    form = CustomerTagForm
    list_display = ["name", "customer", "added_by", "added_at"]
    list_filter = ["name"]
    list_select_related = ["customer", "added_by"]
    search_fields = ["name", "customer__number", "customer__legal_name"]
    autocomplete_fields = ["customer"]
    show_full_result_count = False
    paginator = InfinitePaginator

    def has_change_permission(self, request, obj=None) -> bool:
        return obj is None and super().has_change_permission(request, obj)

    def save_model(self, request, obj, form, change) -> None:
        saved = services.add_customer_tag(customer=obj.customer, name=obj.name, actor=request.user)
        obj.__dict__.update(saved.__dict__)

    def delete_model(self, request, obj) -> None:
        services.remove_customer_tag(customer=obj.customer, name=obj.name, actor=request.user)

    def delete_queryset(self, request, queryset) -> None:
        for tag in queryset.select_related("customer"):
            self.delete_model(request, tag)


@admin.register(CustomerGroup)
class CustomerGroupAdmin(ModelAdmin):
    """Customer groups come from the price setup; here staff choose the look of their documents."""

    list_display = ["name", "code", "document_style"]
    fields = ["name", "code", "document_style"]
    readonly_fields = ["name", "code"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def save_model(self, request, obj, form, change) -> None:
        services.set_group_document_style(actor=request.user, group=obj, style=obj.document_style)
