"""Page bodies and customer emails in the customer's language (German and French catalogues in
locale/, compiled by `make install`): an order page of the portal and the order confirmation."""

import re
from decimal import Decimal
from pathlib import Path

import pytest
from django.core import mail
from django.test import Client

from customers import services as customer_services
from customers.models import PortalRole
from tests.factories import CustomerFactory, approved_limit, make_product, placed_order
from tests.support.outbox import run_outbox

pytestmark = pytest.mark.django_db

EXPECTED = {
    "de": {
        "page": [
            "Auftrag {number}",
            "Alle Bestellungen",
            "Positionen",
            "Sendungsverfolgung",
            "Lieferadresse",
            "Gesamt",
        ],
        "subject": "Auftragsbestätigung {number}",
        "body": [
            "Guten Tag,",
            "vielen Dank für Ihre Bestellung. Wir haben den Auftrag {number} für Nordwind",
            "Netto:",
        ],
    },
    "fr": {
        "page": ["Commande {number}", "Toutes les commandes", "Articles", "Suivi", "Adresse de livraison", "Total"],
        "subject": "Confirmation de commande {number}",
        "body": [
            "Bonjour,",
            "merci pour votre commande. Nous avons confirmé la commande {number} pour Nordwind",
            "HT:",
        ],
    },
}


@pytest.mark.parametrize("language", ["de", "fr"])
def test_an_order_page_and_its_confirmation_speak_the_customers_language(clerk, approver, language):
    widget = make_product(actor=clerk, sku="WID-1", price="12.50", stock="50")
    customer = CustomerFactory(
        actor=clerk,
        legal_name="Nordwind Handel GmbH",
        language=language,
        contacts=[{"name": "Paula", "email": "paula@nordwind.example", "roles": ["purchasing"]}],
    )
    approved_limit(customer, limit="1000", clerk=clerk, approver=approver)
    order = placed_order(customer, clerk, (widget, "2"))
    client = Client()
    client.force_login(
        customer_services.grant_portal_access(
            customer=customer, actor=clerk, email="b@nordwind.example", roles=[PortalRole.BUYER]
        )
    )
    expected = EXPECTED[language]

    page = client.get(f"/portal/orders/{order.number}/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    run_outbox("order.confirmed")

    for text in expected["page"]:
        assert text.format(number=order.number) in page, text
    assert "Delivery address" not in page
    (message,) = mail.outbox
    assert message.subject == expected["subject"].format(number=order.number)
    for text in expected["body"]:
        assert text.format(number=order.number) in message.body, text
    assert order.gross_total == Decimal("29.75")


CUSTOMER_EMAILS = [
    "order_confirmation",
    "shipment_dispatched",
    "invoice_issued",
    "credit_note_issued",
    "payment_receipt",
    "payment_reminder",
    "dunning_letter",
    "portal_invitation",
    "survey_request",
    "ticket_reply",
    "return_request_decided",
]
TEMPLATES = Path(__file__).resolve().parents[2] / "templates"
LOCALE = TEMPLATES.parent / "locale"
TRANSLATED_BLOCK = re.compile(r"{%\s*blocktranslate.*?%}.*?{%\s*endblocktranslate\s*%}", re.S)
TEMPLATE_CODE = re.compile(r"{%.*?%}|{{.*?}}|{#.*?#}", re.S)
MARKUP = re.compile(r"<[^>]*>|https?://\S+|/[\w/.-]+", re.S)
NOT_WORDS = {"PDF", "IBAN", "BIC", "Factur-X", "OTC", "suite"}  # names, the same in every language


# The portal's own Python (forms, flash messages) and the choices it shows (statuses, reasons, roles):
# every string marked there for translation must be translated.
PORTAL_PYTHON = [
    "service/forms.py",
    "service/portal_",
    "service/models/",
    "customers/models.py",
    "orders/models.py",
    "invoicing/models.py",
    "ledger/models.py",
    "inventory/models.py",
]


# The PDFs a customer receives: invoices and credit notes in every layout, statements, dunning letters.
CUSTOMER_DOCUMENTS = ["templates/documents/", "invoicing/documents/"]


def customer_facing_templates() -> list[Path]:
    emails = [path for name in CUSTOMER_EMAILS for path in sorted((TEMPLATES / "emails").glob(f"{name}.*"))]
    portal = [*sorted((TEMPLATES / "portal").glob("*.html")), TEMPLATES / "wrong_door.html"]
    return [*portal, TEMPLATES / "emails" / "base.html", *emails]


def untranslated_words(path: Path) -> list[str]:
    """Words a template shows outside {% translate %} and {% blocktranslate %}: text a German or French
    reader would see in English."""
    text = TEMPLATE_CODE.sub(" ", TRANSLATED_BLOCK.sub(" ", path.read_text()))
    words = re.findall(r"[^\W\d_][\w'-]*", MARKUP.sub(" ", text))
    return [word for word in words if word not in NOT_WORDS]


def catalogue(language: str) -> dict[str, tuple[str, str]]:
    """msgid -> (msgstr, the source references) of the language's .po file."""
    entries = {}
    for block in (LOCALE / language / "LC_MESSAGES" / "django.po").read_text().split("\n\n"):
        references = " ".join(line for line in block.splitlines() if line.startswith("#:"))
        strings = re.findall(r'^(msgid|msgstr(?:\[0\])?|)\s*"(.*)"$', block, re.M)
        msgid = "".join(value for key, value in _continued(strings) if key == "msgid")
        msgstr = "".join(value for key, value in _continued(strings) if key.startswith("msgstr"))
        if msgid:
            entries[msgid] = (msgstr, references)
    return entries


def _continued(strings: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """Give continuation lines ("...") the key of the line they continue."""
    keyed, current = [], ""
    for key, value in strings:
        current = key or current
        keyed.append((current, value))
    return keyed


def test_no_portal_page_or_customer_email_shows_untranslated_text():
    found = {path.name: words for path in customer_facing_templates() if (words := untranslated_words(path))}
    assert found == {}


@pytest.mark.parametrize("language", ["de", "fr"])
def test_every_text_of_the_portal_and_the_customer_emails_is_translated(language):
    names = [
        "templates/portal/",
        "templates/wrong_door.html",
        *(f"templates/emails/{name}." for name in CUSTOMER_EMAILS),
        *PORTAL_PYTHON,
        *CUSTOMER_DOCUMENTS,
    ]
    missing = [
        msgid
        for msgid, (msgstr, references) in catalogue(language).items()
        if any(name in references for name in names) and not msgstr
    ]
    assert missing == []


HELP_TITLES = {"en": "Help with the customer portal", "de": "Hilfe zum Kundenportal", "fr": "Aide du portail client"}


@pytest.mark.parametrize("language", ["en", "de", "fr"])
def test_the_help_page_is_in_the_customers_language(clerk, language):
    customer = CustomerFactory(actor=clerk, legal_name="Nordwind Handel GmbH", language=language)
    client = Client()
    client.force_login(customer_services.grant_portal_access(customer=customer, actor=clerk, email="b@n.example"))

    page = client.get("/portal/help/", HTTP_ACCEPT_LANGUAGE="en").content.decode()

    assert f"<h1>{HELP_TITLES[language]}</h1>" in page
    assert all(f"<h1>{title}</h1>" not in page for other, title in HELP_TITLES.items() if other != language)


@pytest.mark.parametrize("language", ["de", "fr"])
def test_each_translated_help_page_has_every_section_and_role_of_the_english_one(language):
    english = (TEMPLATES.parent / "docs" / "portal-help.md").read_text()
    translated = (TEMPLATES.parent / "docs" / f"portal-help.{language}.md").read_text()

    def shape(text: str) -> tuple[int, int, int]:
        lines = text.splitlines()
        return (
            sum(line.startswith("## ") for line in lines),
            sum(line.startswith("| ") for line in lines),
            sum(line.startswith("- ") for line in lines),
        )

    assert shape(translated) == shape(english)
