"""Read side of automated answers: what does a customer's message ask, and about which document?

Explainable the way cash matching is: every piece of evidence adds or subtracts a fixed weight and
leaves a reason an agent can check. Nothing is written here; `service.services.answers` answers.

Scoring (added up, capped at 0.99, floored at 0):
    the sender is a known contact of the customer 0.30; the intent's keywords (English, German,
    French) 0.40 for the first, 0.10 for each further one up to 0.60; the document the intent needs
    cited exactly 0.20, with a typo or without prefix/year 0.10; another intent's keywords as strong
    -0.25; complaint or cancellation words -0.40; thanks without a question or request -0.40.
A cited number that is another customer's document stops the answer whatever the score: the desk
never tells one customer about another's documents, not even that they exist.
"""

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field

from customers.models import Contact, Customer
from invoicing.models import DocumentKind, Invoice, InvoiceStatus
from orders.models import Order, OrderStatus
from otc.document_numbers import (
    INVOICE_NUMBER,
    ORDER_NUMBER,
    ORDER_WORDS,
    NumberShape,
    bare_numbers,
    citations,
    near_digits,
    number_digits,
)
from service.models import Intent

KNOWN_CONTACT = 0.30
KEYWORD_FIRST = 0.40
KEYWORD_MORE = 0.10
KEYWORD_MAX = 0.60
DOCUMENT_EXACT = 0.20
DOCUMENT_NEAR = 0.10
COMPETING_INTENT = -0.25
COMPLAINT = -0.40
THANKS_ONLY = -0.40
CEILING = 0.99

# Stems matched at word starts in the folded text (lower case, umlauts as ae/oe/ue, accents dropped).
KEYWORDS: dict[str, tuple[str, ...]] = {
    Intent.ORDER_STATUS: (
        "where is my order",
        "where is our order",
        "order status",
        "status of my order",
        "status of our order",
        "deliver",
        "shipped",
        "shipping",
        "shipment",
        "tracking",
        "track",
        "dispatch",
        "arrive",
        "not arrived",
        "not received the goods",
        "wo ist meine bestellung",
        "wo ist unsere bestellung",
        "status der bestellung",
        "status unserer bestellung",
        "stand der bestellung",
        "bestellstatus",
        "lieferung",
        "liefertermin",
        "lieferstatus",
        "geliefert",
        "versand",
        "versendet",
        "verschickt",
        "sendungsverfolgung",
        "sendungsnummer",
        "angekommen",
        "wo bleibt",
        "auftragsstatus",
        "ou est ma commande",
        "ou en est ma commande",
        "statut de la commande",
        "statut de ma commande",
        "livraison",
        "livre",
        "expedi",
        "suivi",
        "colis",
    ),
    Intent.INVOICE_COPY: (
        "copy",
        "duplicate",
        "resend",
        "re-send",
        "send again",
        "send us the invoice",
        "send me the invoice",
        "invoice again",
        "lost the invoice",
        "cannot find the invoice",
        "can't find the invoice",
        "pdf",
        "kopie",
        "rechnungskopie",
        "duplikat",
        "erneut",
        "nochmal",
        "noch einmal",
        "nochmals",
        "zusenden",
        "zuschicken",
        "nicht auffindbar",
        "nicht finden",
        "copie",
        "duplicata",
        "renvoyer",
    ),
    Intent.BALANCE: (
        "balance",
        "owe",
        "outstanding",
        "open items",
        "open invoices",
        "statement",
        "overdue",
        "how much",
        "amount due",
        "still open",
        "saldo",
        "offene posten",
        "offenen posten",
        "offene rechnungen",
        "offenen rechnungen",
        "kontoauszug",
        "kontostand",
        "rueckstand",
        "ueberfaellig",
        "wie viel",
        "wieviel",
        "noch offen",
        "schulden",
        "solde",
        "releve",
        "impaye",
        "combien",
    ),
    Intent.PAYMENT_RECEIVED: (
        "received our payment",
        "received my payment",
        "receive our payment",
        "receive my payment",
        "got our payment",
        "got my payment",
        "payment received",
        "paid",
        "transfer",
        "remittance",
        "wire",
        "zahlung erhalten",
        "zahlungseingang",
        "bezahlt",
        "ueberwiesen",
        "ueberweisung",
        "eingegangen",
        "angekommen ist die zahlung",
        "gezahlt",
        "paiement",
        "paye",
        "virement",
        "recu",
    ),
    Intent.ADDRESS_CHANGE: (
        "address",
        "moved",
        "relocat",
        "new contact",
        "change contact",
        "contact person",
        "new email",
        "phone number",
        "change our contact",
        "update our contact",
        "adresse",
        "anschrift",
        "umzug",
        "umgezogen",
        "ansprechpartner",
        "neue e-mail",
        "kontaktdaten",
        "rechnungsadresse",
        "lieferadresse",
        "demenag",
        "interlocuteur",
        "coordonnees",
    ),
}
COMPLAINT_WORDS = (
    "complain",
    "damaged",
    "broken",
    "defect",
    "wrong",
    "refund",
    "cancel",
    "return",
    "dispute",
    "incorrect",
    "reklamation",
    "beschaedigt",
    "kaputt",
    "defekt",
    "falsch",
    "fehlerhaft",
    "storn",
    "ruecksendung",
    "widerspruch",
    "gutschrift",
    "erstattung",
    "reclamation",
    "endommage",
    "annul",
    "rembourse",
)
THANKS_WORDS = ("thank", "thanks", "danke", "vielen dank", "merci")
REQUEST_WORDS = (
    "please",
    "pls",
    "plz",
    "kindly",
    "can you",
    "could you",
    "bitte",
    "koennen sie",
    "koennten sie",
    "pouvez",
)
# Letters a scanner or a hurried typist puts for digits, read back inside runs that are mostly digits.
_OCR_DIGITS = str.maketrans("OoIl", "0011")
_DIGIT_RUN = re.compile(r"(?<![A-Za-z])([\dOoIl]{4,})(?![A-Za-z])")
# Only full words name an invoice in mail: "Re:" opens every reply, "inv" and "fra" are common words.
_INVOICE_WORDS = ("invoice", "rechnung", "rechnungsnummer", "facture")
# The intent that needs a document, and which kind.
NEEDS = {Intent.ORDER_STATUS: "order", Intent.INVOICE_COPY: "invoice"}


@dataclass
class Recognition:
    """What a message asks: the intent, the confidence, the reasons, and the customer's documents it
    names. `refusal` is set when the message must go to a person whatever the score."""

    intent: str
    confidence: float
    reasons: list[str]
    orders: list[Order] = field(default_factory=list)
    invoices: list[Invoice] = field(default_factory=list)
    refusal: str = ""


def fold(text: str) -> str:
    """Lower case, German umlauts and ß spelled out, other accents dropped, spaces collapsed."""
    text = text.lower()
    for umlaut, spelled in (("ä", "ae"), ("ö", "oe"), ("ü", "ue"), ("ß", "ss")):
        text = text.replace(umlaut, spelled)
    text = unicodedata.normalize("NFKD", text)
    return " ".join("".join(char for char in text if not unicodedata.combining(char)).split())


def _found(text: str, stems: Iterable[str]) -> list[str]:
    return [stem for stem in stems if re.search(rf"(?<![a-z]){re.escape(stem)}", text)]


@dataclass
class _Cited:
    """Documents a message names, split into the customer's own and others'."""

    own: list = field(default_factory=list)
    exact: bool = False
    foreign: list[str] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)


def _cited_documents(
    text: str, *, customer: Customer, shape: NumberShape, model, kind_words: tuple[str, ...]
) -> _Cited:
    """Documents of `model` named in the text: exact numbers, one typo away, or a bare sequence after
    a document word. Near and bare numbers are only looked for among the customer's own documents."""
    cited = _Cited()
    found = citations(_ocr_read(text), "the message", shape=shape, min_sequence=3)
    exact_numbers = {c.number for c in found if c.number}
    by_number = {document.number: document for document in _numbered(model, exact_numbers)}
    unresolved = []
    for citation in found:
        document = by_number.get(citation.number)
        if document is None:
            unresolved.append(citation)
        elif document.customer_id == customer.pk:
            cited.own.append(document)
            cited.exact = True
            cited.reasons.append(f"{document.number} named, a document of {customer}")
        else:
            cited.foreign.append(document.number)
    own = _numbered(model, {shape.number(near) for c in unresolved for near in near_digits(c.digits)}, customer)
    own_by_digits = {number_digits(document.number): document for document in own}
    for citation in unresolved:
        near = [own_by_digits[d] for d in sorted(near_digits(citation.digits)) if d in own_by_digits]
        if len(near) == 1 and near[0] not in cited.own:
            cited.own.append(near[0])
            cited.reasons.append(f"{shape.number(citation.digits)} is one typo away from {near[0].number}")
    for bare in bare_numbers(fold(text), "the message", words=kind_words) if not found else []:
        matching = [doc for doc in _numbered(model, None, customer) if bare.fits(doc.number)]
        if matching and matching[0] not in cited.own:
            cited.own.append(matching[0])
            cited.reasons.append(
                f"number {bare.sequence} without prefix{'' if bare.year else ' and year'} read as {matching[0].number}"
            )
    return cited


def _ocr_read(text: str) -> str:
    """O for 0 and I or l for 1 read back in runs of mostly digits ("2O26-0OO123" -> "2026-000123")."""
    return _DIGIT_RUN.sub(
        lambda match: match[1].translate(_OCR_DIGITS) if any(c.isdigit() for c in match[1]) else match[1], text
    )


def _numbered(model, numbers: set[str] | None, customer: Customer | None = None) -> list:
    """Documents by number (numbers None: all numbered ones of the customer, newest first)."""
    documents = model.objects.exclude(number__isnull=True).exclude(number="")
    if model is Invoice:
        documents = documents.filter(kind=DocumentKind.INVOICE).exclude(status=InvoiceStatus.DRAFT)
    if customer is not None:
        documents = documents.filter(customer=customer)
    if numbers is not None:
        if not numbers:
            return []
        documents = documents.filter(number__in=numbers)
    return list(documents.order_by("-pk")[:200])


def recognize(*, subject: str, body: str, customer: Customer | None, contact: Contact | None) -> Recognition:
    """The intent of a message from `contact` of `customer`, with its confidence and reasons."""
    text = f"{subject}\n{body}"
    folded = fold(text)
    hits = {intent: _found(folded, stems) for intent, stems in KEYWORDS.items()}
    strength = {
        intent: min(KEYWORD_MAX, KEYWORD_FIRST + KEYWORD_MORE * (len(found) - 1)) if found else 0.0
        for intent, found in hits.items()
    }
    if customer is None or contact is None:
        intent = max(strength, key=strength.get) if any(strength.values()) else Intent.NONE
        return Recognition(intent, 0.0, ["the sender is not a known contact of a customer"], refusal="unknown sender")
    orders = _cited_documents(
        text,
        customer=customer,
        shape=ORDER_NUMBER,
        model=Order,
        kind_words=ORDER_WORDS,
    )
    invoices = _cited_documents(text, customer=customer, shape=INVOICE_NUMBER, model=Invoice, kind_words=_INVOICE_WORDS)
    foreign = orders.foreign + invoices.foreign
    if any(strength.values()):
        ranked = sorted(
            strength, key=lambda intent: (strength[intent], _needs_met(intent, orders, invoices)), reverse=True
        )
        intent = ranked[0]
    else:
        intent = Intent.NONE
    reasons = [f"{contact.email} is a contact of {customer}"]
    if intent == Intent.NONE:
        return Recognition(
            Intent.NONE, 0.0, [*reasons, "no keywords of a common question"], refusal="no common question recognised"
        )
    score = KNOWN_CONTACT + strength[intent]
    reasons.append(f"keywords of {Intent(intent).label.lower()}: {', '.join(hits[intent])}")
    cited = {"order": orders, "invoice": invoices}.get(NEEDS.get(intent, ""))
    if cited is not None and cited.own:
        score += DOCUMENT_EXACT if cited.exact else DOCUMENT_NEAR
        reasons.extend(cited.reasons)
    for other in strength:
        if other != intent and strength[other] >= strength[intent]:
            score += COMPETING_INTENT
            reasons.append(f"also keywords of {Intent(other).label.lower()}: {', '.join(hits[other])}")
    if complaints := _found(folded, COMPLAINT_WORDS):
        score += COMPLAINT
        reasons.append(f"complaint or cancellation words: {', '.join(complaints)}")
    thanks = _found(folded, THANKS_WORDS)
    if thanks and "?" not in text and not _found(folded, REQUEST_WORDS):
        score += THANKS_ONLY
        reasons.append(f"thanks without a question or request: {', '.join(thanks)}")
    refusal = ""
    if foreign:
        refusal = "names a document that is not this customer's"
        reasons.append(f"{', '.join(sorted(foreign))}: not a document of {customer}")
    elif intent == Intent.INVOICE_COPY and not invoices.own:
        refusal = "no invoice of the customer named"
    elif intent == Intent.INVOICE_COPY and len(invoices.own) > 3:
        refusal = "more than three invoices named"
    return Recognition(
        intent,
        round(max(0.0, min(CEILING, score)), 2),
        reasons,
        orders=orders.own,
        invoices=invoices.own,
        refusal=refusal,
    )


def _needs_met(intent: str, orders: _Cited, invoices: _Cited) -> bool:
    cited = {"order": orders, "invoice": invoices}.get(NEEDS.get(intent, ""))
    return bool(cited and cited.own)


def orders_in_progress(customer: Customer) -> list[Order]:
    """The customer's orders not yet completed or cancelled, newest first."""
    return list(
        Order.objects.filter(customer=customer)
        .exclude(status__in=[OrderStatus.DRAFT, OrderStatus.COMPLETED, OrderStatus.CANCELLED])
        .order_by("-pk")[:5]
    )
