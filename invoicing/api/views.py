"""Invoicing API for partner systems: read invoices and credit notes with their documents (PDF, UBL,
Factur-X), enter manual invoices, issue credit notes, and read a customer's open items and statement.
Each handler parses with an input serializer, calls a service or selector, and renders; errors become
problem+json."""

from django.db.models import QuerySet
from django.http import FileResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.generics import get_object_or_404
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response

from customers.models import Customer
from invoicing import selectors, services
from invoicing.api.filters import InvoiceFilter
from invoicing.api.serializers import (
    CreditNoteCreateSerializer,
    InvoiceCreateSerializer,
    InvoiceDetailSerializer,
    InvoiceSerializer,
    OpenItemSerializer,
    StatementQuerySerializer,
    StatementSerializer,
)
from invoicing.models import DocumentFormat, Invoice
from otc.api.idempotency import idempotent
from otc.api.renderers import PdfRenderer, XmlRenderer
from otc.api.schema import IDEMPOTENCY_KEY, PDF, problems
from otc.api.serializers import parse
from otc.documents import download, pdf_download

INVOICE_SCOPES = {"read": "invoices:read", "write": "invoices:write"}


def invoice_or_404(pk: int) -> Invoice:
    return get_object_or_404(selectors.invoice_list(), pk=pk)


def invoice_detail_or_404(pk: int) -> Invoice:
    try:
        return selectors.invoice_detail(pk=pk)
    except Invoice.DoesNotExist:
        raise NotFound(f"No invoice {pk}.") from None


def customer_or_404(pk: int) -> Customer:
    return get_object_or_404(Customer.objects.all(), pk=pk)


def _credit_lines(invoice: Invoice, given: list[dict]) -> list[services.CreditLine]:
    """Match each {invoice_line, quantity|amount} to the invoice's line; an unknown number is a 422 naming it."""
    lines = {line.line_no: line for line in invoice.lines.all()}
    errors = {
        index: {"invoice_line": [f"{invoice} has no line {item['invoice_line']}."]}
        for index, item in enumerate(given)
        if item["invoice_line"] not in lines
    }
    if errors:
        raise serializers.ValidationError({"lines": errors})
    return [
        services.CreditLine(lines[item["invoice_line"]], quantity=item.get("quantity"), net_amount=item.get("amount"))
        for item in given
    ]


class InvoiceViewSet(viewsets.GenericViewSet):
    """Invoices and credit notes: list, read, download; enter manual invoices, issue credit notes."""

    scopes = INVOICE_SCOPES
    staff_permissions = {
        "read": "invoicing.view_invoice",
        "write": "invoicing.issue_invoice",
        "credit_notes": "invoicing.issue_credit_note",
    }
    filterset_class = InvoiceFilter
    search_fields = ["number", "po_number"]
    search_spec = selectors.INVOICE_SEARCH
    lookup_value_regex = r"\d+"

    def get_queryset(self) -> QuerySet[Invoice]:
        return selectors.invoice_list().select_related("order")

    def _detail(self, invoice: Invoice, *, status_code: int = status.HTTP_200_OK) -> Response:
        invoice = selectors.invoice_detail(pk=invoice.pk)
        return Response(InvoiceDetailSerializer(invoice, context={"request": self.request}).data, status=status_code)

    def _document(self, pk: int, document_format: str) -> FileResponse:
        from invoicing.documents.services import document_for

        return download(document_for(invoice=invoice_or_404(pk), format=document_format))

    @extend_schema(responses={200: InvoiceSerializer(many=True), **problems(401, 403, 422)})
    def list(self, request: Request) -> Response:
        """Invoices and credit notes, newest first, one cursor page at a time. Filter by customer, status,
        kind, currency, `issued_after`/`issued_before`, `due_before`, `overdue` or `open`; `search` by
        number or PO number."""
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        return self.get_paginated_response(InvoiceSerializer(page, many=True, context={"request": request}).data)

    @extend_schema(
        request=InvoiceCreateSerializer,
        responses={201: InvoiceDetailSerializer, **problems(401, 403, 409, 422)},
        parameters=[IDEMPOTENCY_KEY],
        description=(
            "Lines are priced as given (net unit price, quantity, discount) and taxed per VAT category and rate. "
            "A quantity that is not positive, an unknown product, VAT category or currency is a 422 naming the "
            "field; a currency without an exchange rate is a 409 `missing_exchange_rate`. Nothing is written then."
        ),
    )
    @idempotent
    def create(self, request: Request) -> Response:
        """Enter a manual invoice (services, fees, corrections upward) and, unless `issue` is false, issue it."""
        data = parse(InvoiceCreateSerializer, request)
        lines = [services.ManualLine(**line) for line in data.pop("lines")]
        invoice = services.create_manual_invoice(actor=request.user, lines=lines, **data)
        return self._detail(invoice, status_code=status.HTTP_201_CREATED)

    @extend_schema(responses={200: InvoiceDetailSerializer, **problems(401, 403, 404)})
    def retrieve(self, request: Request, pk: int) -> Response:
        """The invoice or credit note with its lines, VAT breakdown, credit notes and shipments."""
        return Response(InvoiceDetailSerializer(invoice_detail_or_404(pk), context={"request": request}).data)

    @extend_schema(
        request=CreditNoteCreateSerializer,
        responses={201: InvoiceDetailSerializer, **problems(401, 403, 404, 409, 422)},
        parameters=[IDEMPOTENCY_KEY],
        description=(
            "Without `lines`, credits everything not yet credited. Per line, a quantity credits goods at the "
            "line's price, an amount is a price reduction. More than is left to credit is a 422 `over_credit`; "
            "a draft or a credit note is a 409 `not_creditable`."
        ),
    )
    @action(detail=True, methods=["post"], url_path="credit-notes")
    @idempotent
    def credit_notes(self, request: Request, pk: int) -> Response:
        """Issue a credit note against the invoice; it settles what is open, the rest is the customer's credit."""
        data = parse(CreditNoteCreateSerializer, request)
        invoice = invoice_or_404(pk)
        note = services.issue_credit_note(
            invoice=invoice,
            actor=request.user,
            reason=data["reason"],
            lines=_credit_lines(invoice, data["lines"]) or None,
        )
        return self._detail(note, status_code=status.HTTP_201_CREATED)

    @extend_schema(responses={**PDF, **problems(401, 403, 404, 409)})
    @action(detail=True, methods=["get"], renderer_classes=[PdfRenderer, JSONRenderer])
    def pdf(self, request: Request, pk: int) -> FileResponse:
        """The issued document as PDF, rendered once and served as stored. A draft: 409."""
        return self._document(pk, DocumentFormat.PDF)

    @extend_schema(
        responses={
            (200, "application/xml"): OpenApiResponse(OpenApiTypes.BINARY, description="UBL 2.1 XML."),
            **problems(401, 403, 404, 409),
        }
    )
    @action(detail=True, methods=["get"], renderer_classes=[XmlRenderer, JSONRenderer])
    def ubl(self, request: Request, pk: int) -> FileResponse:
        """The issued document as UBL 2.1 XML (EN 16931, Peppol BIS Billing 3.0). A draft: 409. A document
        that breaks an EN 16931 or Peppol rule is neither stored nor served: 409 `einvoice_invalid`, with
        each broken rule (id and text) in `errors.rules`."""
        return self._document(pk, DocumentFormat.UBL)

    @extend_schema(responses={**PDF, **problems(401, 403, 404, 409)})
    @action(detail=True, methods=["get"], renderer_classes=[PdfRenderer, JSONRenderer])
    def facturx(self, request: Request, pk: int) -> FileResponse:
        """The issued document as Factur-X (PDF/A-3 with the EN 16931 XML inside). A draft: 409. XML that
        breaks an EN 16931 rule: 409 `einvoice_invalid`, with each broken rule in `errors.rules`."""
        return self._document(pk, DocumentFormat.FACTURX)

    @extend_schema(
        responses={
            (200, "application/xml"): OpenApiResponse(OpenApiTypes.BINARY, description="XRechnung 3.0 UBL XML."),
            **problems(401, 403, 404, 409),
        }
    )
    @action(detail=True, methods=["get"], renderer_classes=[XmlRenderer, JSONRenderer])
    def xrechnung(self, request: Request, pk: int) -> FileResponse:
        """The issued document as XRechnung 3.0 (UBL), for German public-sector buyers: the customer's
        Leitweg-ID is the buyer reference. A draft: 409. A document that breaks an EN 16931 or XRechnung
        (BR-DE) rule, e.g. BR-DE-15 without a Leitweg-ID: 409 `einvoice_invalid`, each rule in `errors.rules`."""
        return self._document(pk, DocumentFormat.XRECHNUNG)


class CustomerStatementViewSet(viewsets.GenericViewSet):
    """A customer's statement of account for a period, as JSON or as a PDF document."""

    scopes = INVOICE_SCOPES
    staff_permissions = {"read": "invoicing.view_invoice"}
    queryset = Customer.objects.all()
    filter_backends = []
    pagination_class = None
    renderer_classes = [JSONRenderer, PdfRenderer]

    @extend_schema(
        parameters=[StatementQuerySerializer],
        responses={(200, "application/json"): StatementSerializer, **PDF, **problems(401, 403, 404, 409, 422)},
    )
    def retrieve(self, request: Request, customer_pk: int) -> Response | FileResponse:
        """Per currency: the opening balance, the invoices, credit notes and payments of the period, the
        closing balance and its aging. `format=pdf`: the statement as a PDF document."""
        from invoicing.documents.services import statement_pdf
        from invoicing.documents.statements import statement_of_account

        query = StatementQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        period = {"start": query.validated_data["start"], "end": query.validated_data["end"]}
        customer = customer_or_404(customer_pk)
        if query.validated_data["format"] == "pdf":
            pdf = statement_pdf(customer=customer, **period)
            return pdf_download(filename=pdf.filename, content=pdf.content)
        return Response(StatementSerializer(statement_of_account(customer=customer, **period)).data)


class CustomerOpenItemsViewSet(viewsets.GenericViewSet):
    """What a customer owes and has in credit, item by item."""

    scopes = INVOICE_SCOPES
    staff_permissions = {"read": "invoicing.view_invoice"}
    queryset = Invoice.objects.all()
    filter_backends = []
    pagination_class = None

    @extend_schema(responses={200: OpenItemSerializer(many=True), **problems(401, 403, 404)})
    def list(self, request: Request, customer_pk: int) -> Response:
        """Open invoices and unused credit notes, oldest due first."""
        items = selectors.open_items(customer=customer_or_404(customer_pk))
        return Response(OpenItemSerializer(items, many=True).data)
