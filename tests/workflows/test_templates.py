"""Notification templates staff edit: they override the files for their key and language, the Delivery
records which version worded it, unsafe templates are refused on save and reach nothing at render
time, and a preview renders a draft against a real notification without writing a row."""

import pytest
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from jinja2.exceptions import SecurityError, UndefinedError

from customers import services as customer_services
from orders import services as order_services
from orders.services import LineInput
from tests.factories import CustomerFactory, StaffFactory, qty
from workflows.errors import NotificationTemplateInvalid
from workflows.models import (
    Delivery,
    NotificationChannel,
    NotificationTemplate,
    NotificationTemplateVersion,
    OutboxEvent,
)
from workflows.notifications import sandbox
from workflows.notifications.templates import (
    preview_notification_template,
    save_notification_template,
    template_variables,
)

pytestmark = pytest.mark.django_db

GERMAN_BODY = (
    "Hallo {{ customer.display_name }}, Auftrag {{ order.number }} über {{ order.gross_total }} {{ order.currency }}.\n"
    "{% for line in lines %}- {{ line.product.sku }} x {{ line.quantity }}\n{% endfor %}"
)


def confirm(clerk, customer, widget, capture, quantity: str = "30"):
    order = order_services.create_order(actor=clerk, customer=customer, lines=[LineInput(widget, qty(quantity))])
    with capture(execute=True):
        return order_services.confirm_order(order=order, actor=clerk)


def template(**fields) -> NotificationTemplate:
    defaults = {"key": "order_confirmation", "channel": NotificationChannel.EMAIL, "language": "de", "is_active": True}
    return NotificationTemplate(**{**defaults, **fields})


@pytest.fixture
def sent_confirmation(clerk, customer, widget, django_capture_on_commit_callbacks):
    """One order confirmation sent from the files: its Delivery holds the real context to check against."""
    order = confirm(clerk, customer, widget, django_capture_on_commit_callbacks)
    mail.outbox.clear()
    return order


def test_the_delivery_keeps_the_plain_data_it_was_worded_from(sent_confirmation):
    delivery = Delivery.objects.get(template_key="order_confirmation")
    assert delivery.template is None
    assert delivery.template_version is None
    assert delivery.context["order"]["number"] == sent_confirmation.number
    assert delivery.context["order"]["gross_total"] == "321.30"
    assert delivery.context["order"]["status_display"] == "Confirmed"
    assert delivery.context["lines"][0]["product"]["sku"] == "WIDGET"
    assert delivery.context["customer"]["_display"] == f"{sent_confirmation.customer.number} Nordwind Handel GmbH"
    names = sandbox.variable_names(template_variables(key="order_confirmation"))
    assert {"order.number", "lines[]", "lines[].product.sku", "customer.display_name", "base_url"} <= set(names)
    assert not [name for name in names if "password" in name or name.startswith("customer.contacts")]


def test_a_staff_template_overrides_the_file_for_its_language_and_the_delivery_records_it(
    clerk, customer, widget, sent_confirmation, django_capture_on_commit_callbacks
):
    saved = save_notification_template(
        template=template(subject="Auftrag {{ order.number }} bestätigt", body_text=GERMAN_BODY), actor=clerk
    )
    customer_services.update_customer(customer=customer, actor=clerk, data={"language": "de"})

    order = confirm(clerk, customer, widget, django_capture_on_commit_callbacks, quantity="2")

    [message] = mail.outbox
    assert message.subject == f"Auftrag {order.number} bestätigt"
    # Amounts and quantities come formatted for the customer's language.
    assert message.body == f"Hallo Nordwind Handel GmbH, Auftrag {order.number} über 23,80 EUR.\n- WIDGET x 2,000\n"
    assert message.alternatives == []  # the template has no HTML part
    delivery = Delivery.objects.get(event__payload__order_id=order.pk)
    assert (delivery.template, delivery.template_version, delivery.language) == (saved, 1, "de")


def test_a_customer_in_another_language_still_gets_the_file(
    clerk, customer, widget, sent_confirmation, django_capture_on_commit_callbacks
):
    save_notification_template(template=template(subject="Auftrag {{ order.number }}", body_text="x"), actor=clerk)

    order = confirm(clerk, customer, widget, django_capture_on_commit_callbacks, quantity="2")  # customer: English

    [message] = mail.outbox
    assert message.subject == f"Order confirmation {order.number}"
    assert Delivery.objects.get(event__payload__order_id=order.pk).template is None


def test_the_default_languages_template_serves_languages_without_their_own(
    clerk, customer, widget, sent_confirmation, django_capture_on_commit_callbacks
):
    english = save_notification_template(
        template=template(language="en", subject="Thanks for order {{ order.number }}", body_text="ok"), actor=clerk
    )
    customer_services.update_customer(customer=customer, actor=clerk, data={"language": "fr"})

    order = confirm(clerk, customer, widget, django_capture_on_commit_callbacks, quantity="2")

    assert [message.subject for message in mail.outbox] == [f"Thanks for order {order.number}"]
    assert Delivery.objects.get(event__payload__order_id=order.pk).template == english


def test_an_inactive_template_is_not_used(
    clerk, customer, widget, sent_confirmation, django_capture_on_commit_callbacks
):
    save_notification_template(
        template=template(language="en", is_active=False, subject="Draft {{ order.number }}", body_text="x"),
        actor=clerk,
    )
    order = confirm(clerk, customer, widget, django_capture_on_commit_callbacks, quantity="2")
    assert [message.subject for message in mail.outbox] == [f"Order confirmation {order.number}"]


def test_each_save_is_a_new_version_with_its_text_author_and_time(clerk, approver, sent_confirmation):
    saved = save_notification_template(template=template(subject="One {{ order.number }}", body_text="1"), actor=clerk)
    saved.subject = "Two {{ order.number }}"
    save_notification_template(template=saved, actor=approver)

    saved.refresh_from_db()
    assert (saved.version, saved.updated_by) == (2, approver)
    history = list(saved.versions.order_by("version").values_list("version", "subject", "saved_by"))
    assert history == [(1, "One {{ order.number }}", clerk.pk), (2, "Two {{ order.number }}", approver.pk)]


ATTACKS = [
    ("{{ order.__class__ }}", "'__class__' is not available"),
    ("{{ order._meta }}", "'_meta' is not available"),
    ("{{ customer.objects }}", "'objects' is not available"),
    ("{{ ''.__class__.__mro__[1].__subclasses__() }}", "'__class__' is not available"),
    ("{{ order.mro }}", "'mro' is not available"),
    ("{{ self }}", "'self' is not available"),
    ("{{ self._TemplateReference__context }}", "'self' is not available"),
    ("{{ cycler.__init__.__globals__.os }}", "'cycler' is not available"),
    ("{{ lipsum.__globals__ }}", "'lipsum' is not available"),
    ("{{ order|attr('__class__') }}", "the filter 'attr' is not available"),
    ("{{ lines|map(attribute='__class__')|list }}", "the filter 'map' is not available"),
    ("{{ order['__cl' ~ 'ass__'] }}", "a computed name in [...] is not allowed"),
    ("{{ order['_meta'] }}", "'_meta' is not available"),
    ("{{ settings.SECRET_KEY }}", "unknown variable 'settings'"),
    ("{{ customer.contacts }}", "unknown variable 'customer.contacts'"),
    ("{{ order.customer.contacts }}", "unknown variable 'order.customer.contacts'"),
    ("{% include 'emails/base.html' %}", "cannot load other templates"),
    ("{% extends 'admin/base.html' %}", "cannot load other templates"),
    ("{% import 'emails/base.html' as x %}", "cannot load other templates"),
    ("{{ order.number }}\n{% for line in lines %}\n{{ line.nonsense }}\n{% endfor %}", "line 3: unknown variable"),
    ("{{ order.number }}\n{% for line in lines %}\n{{ line.sku }", "line 3:"),
]


@pytest.mark.parametrize(("body", "message"), ATTACKS)
def test_unsafe_or_unknown_templates_are_refused_with_the_line_and_nothing_is_saved(
    clerk, sent_confirmation, body, message
):
    with pytest.raises(NotificationTemplateInvalid) as refused:
        save_notification_template(template=template(subject="Auftrag", body_text=body), actor=clerk)
    assert message in " ".join(refused.value.fields["body_text"])
    assert NotificationTemplate.objects.count() == NotificationTemplateVersion.objects.count() == 0


def test_the_html_part_and_subject_are_checked_too(clerk, sent_confirmation):
    with pytest.raises(NotificationTemplateInvalid) as refused:
        save_notification_template(
            template=template(subject="{{ order.__class__ }}", body_text="ok", body_html="<p>{{ config }}</p>"),
            actor=clerk,
        )
    assert refused.value.fields == {
        "subject": ["line 1: '__class__' is not available in notification templates."],
        "body_html": ["line 1: unknown variable 'config'."],
    }


def test_without_a_real_context_yet_only_syntax_and_safety_are_checked(clerk):
    save_notification_template(template=template(subject="{{ anything }}", body_text="{{ x.y }}"), actor=clerk)
    with pytest.raises(NotificationTemplateInvalid):
        save_notification_template(
            template=template(language="fr", subject="s", body_text="{{ x.__class__ }}"), actor=clerk
        )


RUNTIME_ATTACKS = [
    "{{ order.__class__ }}",
    "{{ order._data }}",
    "{{ order.__init__.__globals__ }}",
    "{{ ''.__class__.__mro__ }}",
    "{{ customer.contacts }}{{ customer.objects }}{{ order.customer.contacts }}",
    "{% for line in lines %}{{ line.order }}{{ line.product.customer }}{{ line.product.objects }}{% endfor %}",
    "{{ order|attr('__class__') }}",
    "{{ lines|map(attribute='_data')|list }}",
    "{{ self.__dict__ }}",
    "{{ settings }}{{ config }}{{ request }}",
    "{% for k, v in order.items() %}{{ k }}={{ v }};{% endfor %}",
    "{% for k, v in customer.items() %}{{ k }}={{ v }};{% endfor %}",
]


@pytest.mark.parametrize("body", RUNTIME_ATTACKS)
def test_at_render_time_nothing_outside_the_notices_plain_data_is_reachable(
    clerk, sales_rep, widget, sent_confirmation, settings, body
):
    """Even a template that skipped the check: no setting, no ORM, no other customer's data."""
    other = CustomerFactory(
        actor=clerk,
        legal_name="Südwind Konkurrenz AG",
        sales_rep=sales_rep,
        contacts=[{"name": "Otto Other", "email": "otto@suedwind.example", "roles": ["purchasing"]}],
    )
    data = Delivery.objects.get(template_key="order_confirmation").context
    try:
        output = sandbox.render(body, data)
    except (SecurityError, UndefinedError):
        return
    for secret in (settings.SECRET_KEY, "Südwind", "otto@suedwind.example", other.number, "pbkdf2", "md5$", "<class"):
        assert secret not in output
    assert "paula@nordwind.example" not in output  # the contacts are not part of the order's data either


def test_html_is_autoescaped(sent_confirmation, clerk):
    data = {"customer": {"_display": "<script>x</script>", "display_name": "<b>Nord</b>"}}
    assert sandbox.render("<p>{{ customer }} {{ customer.display_name }}</p>", data, html=True) == (
        "<p>&lt;script&gt;x&lt;/script&gt; &lt;b&gt;Nord&lt;/b&gt;</p>"
    )


def test_preview_renders_a_draft_against_a_real_notification_and_writes_nothing(clerk, sent_confirmation):
    draft = template(
        subject="Auftrag {{ order.number }}", body_text=GERMAN_BODY, body_html="<p>{{ customer.display_name }}</p>"
    )
    tables = [Delivery, NotificationTemplate, NotificationTemplateVersion, OutboxEvent]
    before = [model.objects.count() for model in tables]

    with CaptureQueriesContext(connection) as queries:
        preview = preview_notification_template(template=draft)

    assert [model.objects.count() for model in tables] == before
    assert not [q["sql"] for q in queries if q["sql"].split()[0] in ("INSERT", "UPDATE", "DELETE")]
    assert preview.problems == []
    assert preview.source == Delivery.objects.get(template_key="order_confirmation")
    assert preview.subject == f"Auftrag {sent_confirmation.number}"
    assert "WIDGET x 30.000" in preview.body_text
    assert preview.body_html == "<p>Nordwind Handel GmbH</p>"


def test_preview_shows_the_drafts_errors_instead(clerk, sent_confirmation):
    preview = preview_notification_template(template=template(subject="s", body_text="{{ order.__class__ }}"))
    assert preview.problems == ["body_text: line 1: '__class__' is not available in notification templates."]


@pytest.fixture
def admin_client_for(client):
    def signed_in(user):
        client.force_login(user)
        return client

    return signed_in


def test_admin_editor_lists_the_variables_and_saves_versions(admin_client_for, sent_confirmation):
    admin = admin_client_for(StaffFactory(is_superuser=True, email="boss@otc.test"))
    add_url = reverse("admin:workflows_notificationtemplate_add")

    page = admin.get(add_url, {"key": "order_confirmation"})
    assert page.status_code == 200
    assert b"lines[].product.sku" in page.content
    assert b"Preview draft" in page.content

    form = {
        "key": "order_confirmation",
        "channel": "email",
        "language": "de",
        "is_active": "on",
        "subject": "Auftrag {{ order.number }}",
        "body_text": "{{ order.__class__ }}",
        "body_html": "",
        "versions-TOTAL_FORMS": "0",
        "versions-INITIAL_FORMS": "0",
    }
    refused = admin.post(add_url, form)
    assert refused.status_code == 200
    assert "is not available in notification templates" in refused.content.decode()
    assert NotificationTemplate.objects.count() == 0

    saved = admin.post(add_url, {**form, "body_text": "Danke für {{ order.number }}"})
    assert saved.status_code == 302
    created = NotificationTemplate.objects.get()
    assert (created.version, created.versions.get().saved_by.email) == (1, "boss@otc.test")


def test_admin_preview_page_renders_the_posted_draft_and_saves_nothing(admin_client_for, sent_confirmation):
    admin = admin_client_for(StaffFactory(is_superuser=True, email="boss@otc.test"))
    source = Delivery.objects.get(template_key="order_confirmation")
    before = (Delivery.objects.count(), NotificationTemplate.objects.count())

    page = admin.post(
        reverse("admin:workflows_notificationtemplate_preview"),
        {
            "key": "order_confirmation",
            "channel": "email",
            "language": "de",
            "subject": "Auftrag {{ order.number }}",
            "body_text": GERMAN_BODY,
            "body_html": "<p>{{ customer.display_name }}</p>",
            "_preview_source": source.pk,
        },
    )

    assert page.status_code == 200
    html = page.content.decode()
    assert f"Auftrag {sent_confirmation.number}" in html
    assert 'sandbox=""' in html
    assert "&lt;p&gt;Nordwind Handel GmbH&lt;/p&gt;" in html
    assert (Delivery.objects.count(), NotificationTemplate.objects.count()) == before
