"""Content-Security-Policy on every page: strict outside the admin (own origin, a nonce for our inline
blocks, no framing or plugins), the admin's documented relaxation only under /admin/, Swagger UI from
the project's own files, and no inline styles or un-nonced scripts left in the public templates."""

import re
from pathlib import Path

import pytest
from django.conf import settings

from tests.factories import StaffFactory

pytestmark = pytest.mark.django_db


def policy(response) -> dict[str, list[str]]:
    directives = [part.strip().split() for part in response["Content-Security-Policy"].split(";") if part.strip()]
    return {name: values for name, *values in directives}


@pytest.mark.parametrize("path", ["/accounts/login/", "/portal/", "/api/docs/", "/api/v1/customers/", "/healthz"])
def test_pages_outside_the_admin_get_the_strict_policy(client, path):
    csp = policy(client.get(path))
    assert csp["default-src"] == ["'self'"]
    assert csp["object-src"] == ["'none'"]
    assert csp["frame-ancestors"] == ["'none'"]
    assert csp["base-uri"] == ["'self'"]
    assert csp["form-action"] == ["'self'"]
    for directive in ("script-src", "style-src"):
        assert csp[directive][0] == "'self'"
        assert not [value for value in csp[directive] if value.startswith("'unsafe") or "://" in value or value == "*"]


def test_the_admin_may_evaluate_alpine_expressions_and_inline_styles_but_load_scripts_only_from_us(client):
    client.force_login(StaffFactory(email="clara@otc.test"))
    csp = policy(client.get("/admin/"))
    assert csp["script-src"] == ["'self'", "'unsafe-eval'"]
    assert csp["style-src"] == ["'self'", "'unsafe-inline'"]
    assert csp["object-src"] == ["'none'"]
    assert csp["frame-ancestors"] == ["'none'"]


def test_our_inline_script_in_the_admin_runs_under_the_responses_nonce(client):
    client.force_login(StaffFactory(email="clara@otc.test", groups=["admin"]))
    response = client.get("/admin/orders/order/add/")
    assert response.status_code == 200
    [nonce] = re.findall(r'<script nonce="([^"]+)">', response.content.decode())
    csp = policy(response)
    assert f"'nonce-{nonce}'" in csp["script-src"]
    assert not any(value.startswith("'nonce-") for value in csp["style-src"])  # would disable 'unsafe-inline'


def test_a_nonce_is_fresh_for_every_response(client):
    first, second = client.get("/api/docs/"), client.get("/api/docs/")
    assert policy(first)["style-src"] != policy(second)["style-src"]


def test_swagger_ui_comes_from_the_project_not_a_cdn(client):
    response = client.get("/api/docs/")
    page = response.content.decode()
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js" in page
    assert not re.search(r"(src|href)=\"(https?:)?//", page)
    [nonce] = re.findall(r'<style nonce="([^"]+)">', page)
    assert policy(response)["style-src"] == ["'self'", f"'nonce-{nonce}'"]
    assert "<script>" not in page  # the start-up script is a file of its own
    script = client.get("/api/docs/?script=")
    assert script["Content-Type"] == "application/javascript"
    assert "SwaggerUIBundle" in script.content.decode()


def test_the_public_templates_have_no_inline_styles_or_scripts_without_a_nonce():
    """Portal, sign-in and survey pages run under the strict policy: a style attribute or a plain
    <script> there would be refused by the browser (emails and PDF documents are not web pages)."""
    templates = Path(settings.BASE_DIR) / "templates"
    offenders = []
    for folder in ("portal", "allauth", "account", "service", "drf_spectacular"):
        for template in (templates / folder).rglob("*.html"):
            text = template.read_text()
            if re.search(r"\sstyle=|\son[a-z]+=|<script(?![^>]*\b(src|nonce)=)|<style(?![^>]*\bnonce=)", text):
                offenders.append(str(template.relative_to(templates)))
    assert offenders == []
