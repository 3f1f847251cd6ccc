"""Document styles: which style a document uses, what its templates read of it, and the one way staff
change a style (validated, audited). Apps above the kernel pick the customer's style (customer over
group over default, see customers.selectors.document_style_for) and pass `look(style, language)` to
their templates."""

from django.db import transaction

from otc.audit import acting
from otc.company import file_data_uri
from otc.errors import InvalidInput
from otc.models import DocumentStyle, User
from otc.services import validate_model

LANGUAGES = ("en", "de", "fr")
OPTIONAL_COLUMNS = ("sku", "gtin", "discount", "unit", "tax_rate")
OPTIONAL_FIELDS = ("po_number", "delivery_address", "customer_number")
DOCUMENT_STYLE_FIELDS = (
    "name",
    "is_default",
    "logo",
    "accent_colour",
    "text_colour",
    "font_family",
    *(f"{text}_{language}" for text in ("header_text", "footer_text", "payment_terms") for language in LANGUAGES),
    *(f"show_{name}" for name in (*OPTIONAL_COLUMNS, *OPTIONAL_FIELDS)),
)


def default_style() -> DocumentStyle:
    """The style for customers with none of their own: the default row, or the built-in look (unsaved)
    until staff set one up."""
    return DocumentStyle.objects.filter(is_default=True).first() or DocumentStyle(name="Built-in")


def look(style: DocumentStyle, language: str) -> dict:
    """What the document templates read of a style, its texts in the document's language (English
    where the style has none in that language)."""
    language = language if language in LANGUAGES else "en"

    def text(name: str) -> str:
        return getattr(style, f"{name}_{language}") or getattr(style, f"{name}_en")

    return {
        "font": style.font_family,
        "accent": style.accent_colour,
        "text": style.text_colour,
        "logo_uri": file_data_uri(style.logo),
        "header": text("header_text"),
        "footer": text("footer_text"),
        "payment_terms": text("payment_terms"),
        **{name: getattr(style, f"show_{name}") for name in (*OPTIONAL_COLUMNS, *OPTIONAL_FIELDS)},
    }


@transaction.atomic
def save_document_style(*, actor: User, data: dict, style: DocumentStyle | None = None) -> DocumentStyle:
    """Create or change a style. Colours, font and logo are checked first: bad input changes nothing.
    Making it the default takes the default from the style that had it. Documents already stored keep
    their look; the change applies to documents rendered from now on."""
    style = style if style is not None else DocumentStyle()
    unknown = set(data) - set(DOCUMENT_STYLE_FIELDS)
    if unknown:
        raise InvalidInput(
            f"Unknown fields: {', '.join(sorted(unknown))}.", fields={name: ["Unknown."] for name in unknown}
        )
    for name, value in data.items():
        setattr(style, name, value)
    validate_model(style, exclude=["is_default"])
    with acting(actor, "document style"):
        if style.is_default:
            DocumentStyle.objects.filter(is_default=True).exclude(pk=style.pk).update(is_default=False)
        style.save()
    return style
