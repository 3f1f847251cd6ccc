"""Product and price import and export (django-import-export, CSV and XLSX).

Products: export writes the master data; import only creates products, each row through
inventory.services.create_product with the importing user as actor. Price list items: import adds a
quantity break or changes the price of an existing one (same price list, product and minimum
quantity), validated by the model's rules and labelled with the importing user in the audit trail.

Either way all rows go in one transaction: a file with any bad row is rejected whole, and every bad
row is reported with its row number (the first data row is row 1), the column and the message.
"""

from django.core.exceptions import ValidationError
from import_export import fields, widgets

from inventory import services
from inventory.models import PriceList, PriceListItem, Product, TaxCategory
from otc.audit import acting
from otc.errors import DomainError
from otc.exports import FormulaSafeResource
from otc.forms import adopt_saved_row

PRODUCT_COLUMNS = ("sku", "name", "description", "unit", "kind", "tax_category", "gtin", "is_active")
PRICE_COLUMNS = ("price_list", "price_list_name", "currency", "product", "min_quantity", "unit_price")


class LookupWidget(widgets.ForeignKeyWidget):
    """A related row by a readable key (a tax category code, a SKU); an unknown key is a clear row error."""

    def __init__(self, model, field: str, label: str):
        super().__init__(model, field=field)
        self.label = label

    def clean(self, value, row=None, **kwargs):
        key = str(value or "").strip()
        if not key:
            return None
        found = self.get_queryset(value, row, **kwargs).filter(**{self.field: key}).first()
        if found is None:
            raise ValueError(f"No {self.label} {key}.")
        return found


class CheckedDecimalWidget(widgets.DecimalWidget):
    def clean(self, value, row=None, **kwargs):
        try:
            return super().clean(value, row=row, **kwargs)
        except (ArithmeticError, TypeError, ValueError) as error:
            raise ValueError(f"{value} is not a number.") from error


class _WholeFileResource(FormulaSafeResource):
    def import_data(self, dataset, dry_run=False, raise_errors=False, use_transactions=None, **kwargs):
        """One transaction for the whole file, rolled back if any row is invalid or fails."""
        kwargs["rollback_on_validation_errors"] = True
        return super().import_data(dataset, dry_run=dry_run, raise_errors=raise_errors, use_transactions=True, **kwargs)

    def get_user_visible_fields(self):
        return [field for field in super().get_user_visible_fields() if not field.readonly]


def _row_errors(error: DomainError) -> dict[str, list[str]]:
    if not error.fields:
        return {"__all__": [error.message]}
    return {name: list(problems) for name, problems in error.fields.items()}


class ProductResource(_WholeFileResource):
    tax_category = fields.Field(
        attribute="tax_category",
        column_name="tax_category",
        widget=LookupWidget(TaxCategory, "code", "tax category with the code"),
    )
    is_active = fields.Field(
        attribute="is_active", column_name="is_active", widget=widgets.BooleanWidget(), default=True
    )

    class Meta:
        model = Product
        fields = PRODUCT_COLUMNS
        export_order = PRODUCT_COLUMNS
        clean_model_instances = False  # create_product validates
        skip_unchanged = False
        report_skipped = False
        use_bulk = False

    def get_queryset(self):
        return Product.objects.select_related("tax_category").order_by("sku")

    def get_instance(self, instance_loader, row):
        """Import never updates: every row is a new product (an existing SKU is refused by the service)."""
        return None

    def save_instance(self, instance, is_create, row, **kwargs):
        actor = kwargs.get("user")
        if actor is None:
            raise ValueError("Product import needs the importing user (import_data(..., user=...)).")
        self.before_save_instance(instance, row, **kwargs)
        data = {name: getattr(instance, name) for name in services.PRODUCT_FIELDS}
        if data["is_active"] is None:
            data["is_active"] = True
        try:
            product = services.create_product(actor=actor, sku=(instance.sku or "").strip(), **data)
        except DomainError as error:
            raise ValidationError(_row_errors(error)) from error
        adopt_saved_row(instance, product)
        self.after_save_instance(instance, row, **kwargs)


class PriceListItemResource(_WholeFileResource):
    price_list = fields.Field(
        attribute="price_list", column_name="price_list", widget=LookupWidget(PriceList, "pk", "price list with the id")
    )
    price_list_name = fields.Field(attribute="price_list__name", column_name="price_list_name", readonly=True)
    currency = fields.Field(attribute="price_list__currency", column_name="currency", readonly=True)
    product = fields.Field(
        attribute="product", column_name="product", widget=LookupWidget(Product, "sku", "product with the SKU")
    )
    min_quantity = fields.Field(
        attribute="min_quantity", column_name="min_quantity", widget=CheckedDecimalWidget(), default=1
    )
    unit_price = fields.Field(attribute="unit_price", column_name="unit_price", widget=CheckedDecimalWidget())

    class Meta:
        model = PriceListItem
        fields = PRICE_COLUMNS
        export_order = PRICE_COLUMNS
        import_id_fields = ("price_list", "product", "min_quantity")
        clean_model_instances = True
        skip_unchanged = False
        report_skipped = False
        use_bulk = False

    def get_queryset(self):
        return PriceListItem.objects.select_related("price_list", "product").order_by(
            "price_list__name", "product__sku", "min_quantity"
        )

    def get_instance(self, instance_loader, row):
        """The existing break of the same list, product and minimum quantity, if there is one."""
        try:
            price_list = self.fields["price_list"].clean(row)
            product = self.fields["product"].clean(row)
            min_quantity = self.fields["min_quantity"].clean(row)
        except (ValueError, ValidationError):
            return None  # reported when the row's values are imported
        if price_list is None or product is None or min_quantity is None:
            return None
        return PriceListItem.objects.filter(price_list=price_list, product=product, min_quantity=min_quantity).first()

    def save_instance(self, instance, is_create, row, **kwargs):
        with acting(kwargs.get("user"), "import prices"):
            super().save_instance(instance, is_create, row, **kwargs)
