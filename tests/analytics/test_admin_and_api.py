"""Where people see analytics: the dashboard, the report pages (filters, drill-down, export) with
constant query counts, the segment filter on the customer list, and the API behind its scope."""

import io
from datetime import date

import openpyxl
import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from analytics import services
from tests.factories import CustomerFactory, StaffFactory, invoice_for

pytestmark = pytest.mark.django_db
REPORT = "/admin/analytics/customerbehaviour/reports/{}/"
DASHBOARD = "/admin/analytics/customerbehaviour/dashboard/"


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def queries(client: Client, url: str) -> tuple[int, object]:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200, response.content[:500]
    return len(captured), response


def test_the_aging_page_drills_down_to_the_documents_with_constant_queries(book, clerk):
    client = signed_in(clerk)
    url = REPORT.format("aging") + "?on=2026-03-31"
    client.get(url)
    few, response = queries(client, url)
    page = response.content.decode()
    assert "Bora SARL" in page
    assert "3200.00" in page
    assert f"customer={book.bora.pk}" in page  # the drill-down link

    for index in range(8):
        extra = CustomerFactory(actor=clerk, legal_name=f"Extra {index}")
        invoice_for(extra, clerk, "10", date(2026, 3, 1))
    many, _response = queries(client, url)
    assert many == few

    _count, items = queries(client, REPORT.format("aging-items") + f"?on=2026-03-31&customer={book.bora.pk}")
    text = items.content.decode()
    assert book.invoices["I3"].number in text  # paid later, open on that day
    assert f"/admin/invoicing/invoice/{book.invoices['I4'].pk}/change/" in text


def test_a_report_exports_csv_and_xlsx_with_the_same_rows(book, clerk):
    client = signed_in(clerk)
    url = REPORT.format("aging") + "?on=2026-03-31&group_by=country"

    csv = client.get(url + "&export=csv")
    assert csv["Content-Type"].startswith("text/csv")
    assert csv.content.decode().splitlines() == [
        "Country,Currency,current,1-30,31-60,61-90,90+,Unapplied credit,Total",
        "FR,EUR,2000.00,0.00,800.00,0.00,400.00,0.00,3200.00",
        "DE,EUR,300.00,300.00,0.00,0.00,0.00,0.00,600.00",
    ]
    xlsx = client.get(url + "&export=xlsx")
    sheet = openpyxl.load_workbook(io.BytesIO(xlsx.content)).active
    assert [cell.value for cell in sheet[2]] == ["FR", "EUR", 2000, 0, 800, 0, 400, 0, 3200]  # numbers, not text


def test_bad_filters_show_why_and_export_nothing(clerk):
    client = signed_in(clerk)
    response = client.get(REPORT.format("aging") + "?buckets=60,30")
    assert response.status_code == 200
    assert "not increasing whole days" in response.content.decode()
    assert client.get(REPORT.format("nonsense")).status_code == 404


def test_the_dashboard_shows_kpis_and_charts_each_linking_to_its_report(book, clerk):
    services.refresh_snapshots()
    client = signed_in(clerk)
    client.get(DASHBOARD)
    count, response = queries(client, DASHBOARD)
    page = response.content.decode()
    assert 'data-type="bar"' in page
    for slug in ("dso", "aging", "cash-forecast", "segments", "disputed-share", "cash-application"):
        assert REPORT.format(slug) in page
    assert "Segments as of the snapshot of" in page
    assert count <= 20


def test_every_report_page_opens(book, clerk):
    from analytics.reports import REPORTS

    client = signed_in(clerk)
    for slug in REPORTS:
        assert client.get(REPORT.format(slug) + "?start=2026-01-01&end=2026-06-30&on=2026-03-31").status_code == 200


def test_people_without_analytics_may_not_see_it(db):
    service_desk = StaffFactory(email="sid@otc.test", groups=["service"])
    assert signed_in(service_desk).get(DASHBOARD).status_code == 403


def test_the_customer_list_filters_by_segment(clerk):
    cold = CustomerFactory(actor=clerk, legal_name="Kalt GmbH")
    warm = CustomerFactory(actor=clerk, legal_name="Warm GmbH")
    invoice_for(cold, clerk, "100", date(2024, 1, 10))
    invoice_for(cold, clerk, "100", date(2024, 2, 10))
    invoice_for(warm, clerk, "100", date.today())
    services.refresh_snapshots()

    page = signed_in(clerk).get("/admin/customers/customer/?segment=hibernating").content.decode()

    assert "Kalt GmbH" in page
    assert "Warm GmbH" not in page


def test_the_api_answers_every_report_with_the_scope_and_refuses_without(book, api_client_for):
    refused = api_client_for("payments:read").get("/api/v1/analytics/aging/")
    assert refused.status_code == 403

    client = api_client_for("analytics:read")
    response = client.get("/api/v1/analytics/aging/", {"on": "2026-03-31", "group_by": "country"})
    assert response.status_code == 200
    body = response.json()
    assert body["rows"][0] == {
        "label": "FR",
        "currency": "EUR",
        "current": "2000.00",
        "1-30": "0.00",
        "31-60": "800.00",
        "61-90": "0.00",
        "90+": "400.00",
        "unapplied_credit": "0.00",
        "total": "3200.00",
    }
    dso = client.get("/api/v1/analytics/dso/", {"start": "2026-01-01", "end": "2026-03-31"}).json()
    assert {"figure": "DSO (count-back)", "value": "76.2"} in dso["rows"]
    bad = client.get("/api/v1/analytics/aging/", {"buckets": "x"})
    assert (bad.status_code, bad.json()["code"]) == (422, "invalid_input")


def test_the_reports_are_in_the_openapi_schema(clerk):
    client = signed_in(clerk)
    schema = client.get("/api/schema/", {"format": "json"}).json()
    assert "/api/v1/analytics/aging/" in schema["paths"]
    assert "/api/v1/analytics/cash-forecast/" in schema["paths"]
    assert schema["paths"]["/api/v1/analytics/dso/"]["get"]["operationId"] == "analytics_dso"


def test_the_weekly_kpi_email_goes_through_the_outbox_to_those_who_opted_in(
    book, clerk, django_capture_on_commit_callbacks
):
    from django.contrib.auth.models import Permission

    from workflows.models import Delivery, OutboxEvent

    opted_in = StaffFactory(email="fina@otc.test", groups=["finance"])
    opted_in.user_permissions.add(Permission.objects.get(codename="receive_weekly_kpis"))
    StaffFactory(email="root@otc.test", is_superuser=True)

    with django_capture_on_commit_callbacks(execute=True):
        services.announce_weekly_kpis(week_ending=date(2026, 3, 31))

    event = OutboxEvent.objects.get(event_type="analytics.weekly_kpis_ready")
    assert event.payload["week_ending"] == "2026-03-31"
    assert {"name": "DSO (count-back)", "value": "76.2", "unit": "days"} in event.payload["kpis"]
    [email] = Delivery.objects.filter(event=event)
    assert email.recipient == "fina@otc.test"  # not the clerk (finance, not opted in), not the superuser
    assert "DSO (count-back): 76.2 days" in email.body_text
    assert email.subject == "Receivables KPIs, week ending 2026-03-31"
