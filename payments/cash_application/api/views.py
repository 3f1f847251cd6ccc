"""Reconciliation API: upload a bank statement (imported, then reconciled at once), work the lines the
matching engine was not sure of (accept a ranked proposal, apply by hand, ignore, undo). Each handler
parses, calls a service, and renders; errors become problem+json."""

from decimal import Decimal

from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.generics import get_object_or_404
from rest_framework.parsers import MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.reverse import reverse

from invoicing import selectors as invoicing_selectors
from otc.api.idempotency import idempotent
from otc.api.schema import IDEMPOTENCY_KEY, problems
from otc.api.serializers import parse
from payments.cash_application import services as reconciliation
from payments.cash_application.api.filters import BankStatementFilter, BankStatementLineFilter
from payments.cash_application.api.serializers import (
    AcceptProposalSerializer,
    BankStatementDetailSerializer,
    BankStatementImportedSerializer,
    BankStatementLineSerializer,
    BankStatementSerializer,
    BankStatementUploadSerializer,
    LineApplySerializer,
    ReasonSerializer,
    StatementUploadSerializer,
)
from payments.cash_application.errors import LineAlreadyReconciled, ProposalsChanged
from payments.cash_application.selectors import (
    line_list,
    line_proposals,
    proposal_rows,
    ranked_proposals,
    statement_list,
    statements_with_lines,
    upload_list,
)
from payments.cash_application.statement_import import import_bank_statement
from payments.cash_application.uploads import queue_statement_upload, runs_in_background
from payments.models import BankStatement, BankStatementLine, BankStatementUpload, StatementLineStatus
from payments.money import selectors
from payments.money.api.serializers import PaymentDetailSerializer
from payments.money.services import Application

PAYMENT_SCOPES = {"read": "payments:read", "write": "payments:write"}
PROPOSAL_LIMIT = 5
ZERO = Decimal("0")


# --- Bank statements -------------------------------------------------------------------------------------


class BankStatementViewSet(viewsets.GenericViewSet):
    """Bank statements as the bank sent them; uploading one imports and reconciles it."""

    scopes = PAYMENT_SCOPES
    staff_permissions = {"read": "payments.view_bankstatement", "write": "payments.add_bankstatement"}
    parser_classes = [MultiPartParser]
    filterset_class = BankStatementFilter
    search_fields = ["statement_id", "filename"]
    lookup_value_regex = r"\d+"

    def get_queryset(self) -> QuerySet[BankStatement]:
        return statement_list()

    @extend_schema(responses={200: BankStatementSerializer(many=True), **problems(401, 403, 422)})
    def list(self, request: Request) -> Response:
        """Statements, newest import first, one cursor page at a time, with their lines counted by status.
        Filter by `account_iban` or `format`; `search` by statement id or file name."""
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        return self.get_paginated_response(BankStatementSerializer(page, many=True).data)

    @extend_schema(responses={200: BankStatementDetailSerializer, **problems(401, 403, 404)})
    def retrieve(self, request: Request, pk: int) -> Response:
        """The statement with all its lines in statement order, the unmatched ones with their proposals."""
        statement = get_object_or_404(statements_with_lines(), pk=pk)
        context = {"proposals": ranked_proposals(list(statement.lines.all()))}
        return Response(BankStatementDetailSerializer(statement, context=context).data)

    @extend_schema(
        request={"multipart/form-data": StatementUploadSerializer},
        responses={
            201: BankStatementImportedSerializer,
            202: OpenApiResponse(
                BankStatementUploadSerializer,
                description="A long file, stored for a worker; `Location` is the upload's status URL.",
            ),
            **problems(401, 403, 409, 422),
        },
        description=(
            "Imports the file (CAMT.053, CAMT.052, CAMT.054, MT940, BAI2 or CSV) with every statement and "
            "line in it, or nothing, then "
            "reconciles each statement in one matching pass (the body shows the first, `file_statements` all): "
            "lines the matching engine is sure of are applied, other incoming lines are queued for a clerk "
            "(`/bank-statement-lines/?status=unmatched`), outgoing ones are ignored. A malformed file is a "
            "422 `malformed_statement` naming the line or element at fault. The same file, or the same "
            "account, statement id and period, is a 409 `statement_already_imported` naming who imported "
            "it and when; this also makes a retry safe, so the endpoint takes no Idempotency-Key.\n\n"
            "A file of more lines than the server's background threshold (300 by default) is answered "
            "`202 Accepted` at once: the file is stored and a worker imports and reconciles it, all or "
            "nothing as above. `Location` is its status URL (`/bank-statement-uploads/{id}/`): poll it "
            "until `status` is `done` (the counts final, `statements` listing what was imported) or "
            "`failed` (`error` says why; nothing was imported)."
        ),
        parameters=[
            OpenApiParameter(
                "Location", str, OpenApiParameter.HEADER, description="The upload's status URL.", response=[202]
            )
        ],
    )
    def create(self, request: Request) -> Response:
        """Upload a bank statement (multipart/form-data)."""
        data = parse(StatementUploadSerializer, request)
        period = (data["period_start"], data["period_end"]) if data["period_start"] else None
        upload = data["file"]
        file = {
            "content": upload.read(),
            "filename": upload.name or "statement",
            "format": data["format"],
            "actor": request.user,
            "csv_layout": data["csv_layout"],
            "csv_account_iban": data["account_iban"],
            "csv_statement_id": data["statement_id"],
            "csv_period": period,
        }
        if runs_in_background(content=file["content"], format=file["format"]):
            queued = queue_statement_upload(**file)
            return Response(
                BankStatementUploadSerializer(get_object_or_404(upload_list(), pk=queued.pk)).data,
                status=status.HTTP_202_ACCEPTED,
                headers={"Location": reverse("bank-statement-upload-detail", args=[queued.pk], request=request)},
            )
        statements = import_bank_statement(**file)
        results = [reconciliation.reconcile_statement(statement=each, actor=request.user) for each in statements]
        statement = get_object_or_404(statements_with_lines(), pk=statements[0].pk)
        result = results[0]
        statement.reconciliation = {
            "applied": len(result.applied),
            "queued": len(result.queued),
            "ignored": len(result.ignored),
        }
        context = {
            "proposals": proposal_rows(list(statement.lines.all()), result.proposals),
            "file_statements": statement_list().filter(pk__in=[each.pk for each in statements]).order_by("pk"),
        }
        return Response(
            BankStatementImportedSerializer(statement, context=context).data, status=status.HTTP_201_CREATED
        )


class BankStatementUploadViewSet(viewsets.GenericViewSet):
    """Long statement files, imported and reconciled by a worker after a 202 from the upload."""

    scopes = PAYMENT_SCOPES
    staff_permissions = {"read": "payments.view_bankstatementupload", "write": "payments.add_bankstatement"}
    lookup_value_regex = r"\d+"

    def get_queryset(self) -> QuerySet[BankStatementUpload]:
        return upload_list()

    @extend_schema(responses={200: BankStatementUploadSerializer, **problems(401, 403, 404)})
    def retrieve(self, request: Request, pk: int) -> Response:
        """A statement upload's status and counts, as far as the worker got: poll until `done` or `failed`."""
        return Response(BankStatementUploadSerializer(get_object_or_404(upload_list(), pk=pk)).data)


# --- Statement lines -------------------------------------------------------------------------------------


class BankStatementLineViewSet(viewsets.GenericViewSet):
    """Statement lines and a clerk's decisions on them. Every decision locks the line and needs it
    still unmatched: a line is applied or ignored once (409 `line_already_reconciled`)."""

    scopes = PAYMENT_SCOPES
    staff_permissions = {"read": "payments.view_bankstatementline", "write": "payments.change_bankstatementline"}
    filterset_class = BankStatementLineFilter
    search_fields = ["counterparty_name", "remittance_information", "structured_reference", "bank_reference"]
    lookup_value_regex = r"\d+"

    def get_queryset(self) -> QuerySet[BankStatementLine]:
        return line_list()

    def _line(self, pk: int) -> Response:
        line = get_object_or_404(line_list(), pk=pk)
        context = {"proposals": ranked_proposals([line])}
        return Response(BankStatementLineSerializer(line, context=context).data)

    def _unmatched(self, pk: int) -> BankStatementLine:
        """The line, refused early when it is decided already (the service checks again, locked)."""
        line = get_object_or_404(line_list(), pk=pk)
        if line.status != StatementLineStatus.UNMATCHED:
            raise LineAlreadyReconciled(
                f"Line {line.line_no} of statement {line.statement_id} is {line.get_status_display().lower()}."
            )
        return line

    @extend_schema(responses={200: BankStatementLineSerializer(many=True), **problems(401, 403, 422)})
    def list(self, request: Request) -> Response:
        """Lines, newest first, one cursor page at a time, each unmatched incoming one with its ranked
        proposals and their reasons. Filter by `statement` and `status` (`unmatched` is the clerk's queue);
        `search` the payer's name, remittance text and references."""
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        context = {"proposals": ranked_proposals(page)}
        return self.get_paginated_response(BankStatementLineSerializer(page, many=True, context=context).data)

    @extend_schema(responses={200: BankStatementLineSerializer, **problems(401, 403, 404)})
    def retrieve(self, request: Request, pk: int) -> Response:
        """The line with its proposals as they are now."""
        return self._line(pk)

    @extend_schema(
        request=AcceptProposalSerializer,
        responses={200: BankStatementLineSerializer, **problems(401, 403, 404, 409, 422)},
        parameters=[IDEMPOTENCY_KEY],
        description=(
            "Proposals are worked out again now; the one of the given rank is booked as the customer's "
            "payment and allocated as proposed. No proposal of that rank any more (invoices were paid "
            "meanwhile, say), or one naming other invoices than `invoices`, is a 409 `proposals_changed`; "
            "a line applied or ignored already is a 409 `line_already_reconciled`. Nothing is written then."
        ),
    )
    @action(detail=True, methods=["post"])
    @idempotent
    def accept(self, request: Request, pk: int) -> Response:
        """Accept a proposal by its rank."""
        data = parse(AcceptProposalSerializer, request)
        line = self._unmatched(pk)
        rank = data["rank"]
        proposals = line_proposals(line=line, limit=PROPOSAL_LIMIT)
        if rank > len(proposals):
            raise ProposalsChanged(f"Line {line.line_no} has {len(proposals)} proposal(s) now, none of rank {rank}.")
        proposal = proposals[rank - 1]
        if "invoices" in data:
            now = invoicing_selectors.numbers_of(proposal.invoice_ids)
            if data["invoices"] != now:
                raise ProposalsChanged(f"The proposal of rank {rank} now names {', '.join(now) or 'no invoice'}.")
        reconciliation.accept_proposal(line=line, proposal=proposal, actor=request.user)
        return self._line(pk)

    @extend_schema(
        request=LineApplySerializer,
        responses={200: BankStatementLineSerializer, **problems(401, 403, 404, 409, 422)},
        parameters=[IDEMPOTENCY_KEY],
        description=(
            "The clerk's own decision: the line is this customer's payment, allocated to these invoices as "
            "given (all or nothing); with no applications it stays on the customer's account as credit. "
            "Over-allocating is a 409 `over_allocation`; another customer's invoice is a 422."
        ),
    )
    @action(detail=True, methods=["post"])
    @idempotent
    def apply(self, request: Request, pk: int) -> Response:
        """Apply the line by hand."""
        data = parse(LineApplySerializer, request)
        line = self._unmatched(pk)
        applications = [Application(**item) for item in data["applications"]]
        reconciliation.apply_line(line=line, customer=data["customer"], applications=applications, actor=request.user)
        return self._line(pk)

    @extend_schema(
        request=ReasonSerializer,
        responses={200: BankStatementLineSerializer, **problems(401, 403, 404, 409, 422)},
    )
    @action(detail=True, methods=["post"])
    def ignore(self, request: Request, pk: int) -> Response:
        """Set the line aside (a transfer between own accounts, a refund coming back); needs a reason."""
        reason = parse(ReasonSerializer, request)["reason"]
        reconciliation.ignore_line(line=self._unmatched(pk), actor=request.user, reason=reason)
        return self._line(pk)

    @extend_schema(
        request=ReasonSerializer, responses={200: PaymentDetailSerializer, **problems(401, 403, 404, 409, 422)}
    )
    @action(detail=True, methods=["post"])
    def undo(self, request: Request, pk: int) -> Response:
        """Undo what the line was applied to: the invoices reopen and the money stays on the line's payment
        as the customer's credit, to be allocated again at /payments/{id}/allocations/. A line without a
        payment is a 409."""
        reason = parse(ReasonSerializer, request)["reason"]
        line = get_object_or_404(line_list(), pk=pk)
        payment = reconciliation.undo_line(line=line, actor=request.user, reason=reason)
        return Response(PaymentDetailSerializer(get_object_or_404(selectors.payment_list(), pk=payment.pk)).data)
