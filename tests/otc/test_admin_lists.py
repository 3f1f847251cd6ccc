"""Admin lists render in fixed time per row (otc.admin_lists): the theme's headers are computed once per
list and each row's checkbox is the theme's own, with the row's id stamped in."""

import re

import pytest
from unfold.admin import checkbox

from tests.factories import manual_invoice

pytestmark = pytest.mark.django_db


def test_an_invoice_list_renders_the_themes_checkboxes_and_headers_once(admin_client, customer, clerk):
    invoices = [manual_invoice(customer, clerk, ("1", "10", "19")) for _ in range(3)]

    page = admin_client.get("/admin/invoicing/invoice/")

    html = page.content.decode()
    for invoice in invoices:
        assert str(checkbox.render("_selected_action", str(invoice.pk))) in html
    assert sorted(map(int, re.findall(r'name="_selected_action" value="(\d+)"', html))) == [i.pk for i in invoices]
    changelist = page.context["cl"]
    assert [header["text"] for header in changelist._result_headers][1:3] == ["Number", "customer"]
    assert html.count('data-label="customer"') == len(invoices)
