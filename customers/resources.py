"""Customer import and export (django-import-export, CSV and XLSX).

Export writes the master data columns below. Import only creates customers, each row through
customers.services.create_customer with the importing user as actor, all rows in one transaction:
a file with any bad row is rejected whole, and every bad row is reported with its row number
(the first data row is row 1), the column and the message.

Import columns: legal_name and country are required; trading_name, tax_id, default_currency,
language, payment_terms_days and sales_rep_email are optional. `number` and `status` are export
only (numbers are generated, new customers are active). An optional `confirm_duplicate` column
(yes/true/1) lets a row through the duplicate guard.
"""

from django.core.exceptions import ValidationError
from import_export import fields, widgets

from customers import services
from customers.models import Customer
from otc.errors import DomainError
from otc.exports import FormulaSafeResource
from otc.forms import adopt_saved_row
from otc.models import User

EXPORT_COLUMNS = (
    "number",
    "legal_name",
    "trading_name",
    "country",
    "tax_id",
    "default_currency",
    "language",
    "payment_terms_days",
    "sales_rep_email",
    "status",
)
# create_customer's arguments that come straight from a column of the same name.
_SERVICE_ARGUMENTS = ("legal_name", "trading_name", "country", "tax_id", "default_currency", "language")
# Service error field -> file column, where they differ.
_COLUMN_FOR_FIELD = {"sales_rep": "sales_rep_email"}
_YES = {"1", "true", "yes", "y", "x"}


class StaffByEmailWidget(widgets.ForeignKeyWidget):
    """A sales rep as their email address; an unknown address is a clear error on the row."""

    def __init__(self):
        super().__init__(User, field="email")

    def clean(self, value, row=None, **kwargs):
        email = (value or "").strip().lower()
        if not email:
            return None
        user = User.objects.filter(email=email, is_staff=True, is_active=True).first()
        if user is None:
            raise ValueError(f"No active staff user has the email {email}.")
        return user

    def render(self, value, obj=None, **kwargs):
        return value.email if value is not None else ""


class WholeNumberWidget(widgets.IntegerWidget):
    def clean(self, value, row=None, **kwargs):
        try:
            return super().clean(value, row=row, **kwargs)
        except (ArithmeticError, TypeError, ValueError) as error:
            raise ValueError(f"{value} is not a whole number.") from error


class CustomerResource(FormulaSafeResource):
    number = fields.Field(attribute="number", column_name="number", readonly=True)
    status = fields.Field(attribute="status", column_name="status", readonly=True)
    payment_terms_days = fields.Field(
        attribute="payment_terms_days", column_name="payment_terms_days", widget=WholeNumberWidget(), default=30
    )
    sales_rep_email = fields.Field(attribute="sales_rep", column_name="sales_rep_email", widget=StaffByEmailWidget())

    class Meta:
        model = Customer
        fields = EXPORT_COLUMNS
        export_order = EXPORT_COLUMNS
        clean_model_instances = False  # create_customer validates
        skip_unchanged = False
        report_skipped = False
        use_bulk = False

    def get_queryset(self):
        return Customer.objects.select_related("sales_rep").order_by("number")

    def get_instance(self, instance_loader, row):
        """Import never updates: every row is a new customer."""
        return None

    def import_data(self, dataset, dry_run=False, raise_errors=False, use_transactions=None, **kwargs):
        """One transaction for the whole file, rolled back if any row is invalid or fails."""
        kwargs["rollback_on_validation_errors"] = True
        return super().import_data(dataset, dry_run=dry_run, raise_errors=raise_errors, use_transactions=True, **kwargs)

    def import_instance(self, instance, row, **kwargs):
        """Report a value that cannot be read under its column's name (sales_rep_email, not sales_rep)."""
        try:
            super().import_instance(instance, row, **kwargs)
        except ValidationError as error:
            raise ValidationError(
                {_COLUMN_FOR_FIELD.get(name, name): problems for name, problems in error.message_dict.items()}
            ) from error

    def save_instance(self, instance, is_create, row, **kwargs):
        """Create the customer through the service; a refusal becomes this row's validation error."""
        actor = kwargs.get("user")
        if actor is None:
            raise ValueError("Customer import needs the importing user (import_data(..., user=...)).")
        self.before_save_instance(instance, row, **kwargs)
        try:
            customer = services.create_customer(
                actor=actor,
                payment_terms_days=instance.payment_terms_days,
                sales_rep=instance.sales_rep,
                confirm_duplicate=str(row.get("confirm_duplicate") or "").strip().lower() in _YES,
                **{name: getattr(instance, name) for name in _SERVICE_ARGUMENTS},
            )
        except DomainError as error:
            raise ValidationError(_row_errors(error)) from error
        adopt_saved_row(instance, customer)
        self.after_save_instance(instance, row, **kwargs)


def _row_errors(error: DomainError) -> dict[str, list[str]]:
    if not error.fields:
        return {"__all__": [error.message]}
    return {_COLUMN_FOR_FIELD.get(name, name): list(messages) for name, messages in error.fields.items()}


class CustomerImportResource(CustomerResource):
    """The import side of CustomerResource: lists only the columns a file may fill."""

    def get_user_visible_fields(self):
        return [field for field in super().get_user_visible_fields() if not field.readonly]
