"""Holds keep collections away from an issued invoice until released."""

from django.db import transaction
from django.utils import timezone

from invoicing.errors import (
    HoldAlreadyActive,
    HoldNotActive,
    InvoiceNotDraft,
)
from invoicing.models import (
    HoldKind,
    Invoice,
    InvoiceHold,
    InvoiceStatus,
)
from otc.errors import InvalidInput
from otc.models import User


@transaction.atomic
def place_hold(
    *, invoice: Invoice, kind: str, reason_code: str, actor: User, text: str = "", source: str = ""
) -> InvoiceHold:
    """Keep collections away from an issued invoice (a dispute, a query) until the hold is released.
    `source` says what placed it ("dispute:12"), so that the placer finds and releases its own hold."""
    if kind not in HoldKind.values:
        raise InvalidInput(f"No hold kind {kind!r}.", fields={"kind": [f"One of {', '.join(HoldKind.values)}."]})
    if not reason_code.strip():
        raise InvalidInput("A hold needs a reason.", fields={"reason_code": ["This field is required."]})
    invoice = Invoice.objects.select_for_update().get(pk=invoice.pk)
    if invoice.status == InvoiceStatus.DRAFT:
        raise InvoiceNotDraft(f"{invoice} is a draft; only issued invoices are held.")
    if invoice.holds.filter(kind=kind, released_at__isnull=True).exists():
        raise HoldAlreadyActive(f"{invoice} has an active {HoldKind(kind).label.lower()} hold already.")
    return InvoiceHold.objects.create(
        invoice=invoice,
        kind=kind,
        reason_code=reason_code.strip()[:40],
        text=text.strip()[:300],
        source=source[:60],
        placed_by=actor,
        placed_at=timezone.now(),
    )


@transaction.atomic
def release_hold(*, hold: InvoiceHold, actor: User, note: str = "") -> InvoiceHold:
    """Let collections pick the invoice up again (unless another hold keeps it)."""
    hold = InvoiceHold.objects.select_for_update().get(pk=hold.pk)
    if not hold.is_active:
        raise HoldNotActive(f"The {hold} was released already.")
    hold.released_by, hold.released_at, hold.release_note = actor, timezone.now(), note.strip()[:300]
    hold.save(update_fields=["released_by", "released_at", "release_note"])
    return hold
