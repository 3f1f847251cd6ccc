from django.urls import path

from service import feedback_views, portal_views

app_name = "portal"
urlpatterns = [
    path("", portal_views.home, name="home"),
    path("preferences/", portal_views.preferences, name="preferences"),
    path("contacts/add/", portal_views.contact_add, name="contact-add"),
    path("contacts/<int:pk>/", portal_views.contact_edit, name="contact-edit"),
    path("orders/", portal_views.orders, name="orders"),
    path("orders/<str:number>/", portal_views.order, name="order"),
    path("invoices/", portal_views.invoices, name="invoices"),
    path("invoices/<int:pk>/", portal_views.invoice, name="invoice"),
    path("invoices/<int:pk>/<str:document_format>/", portal_views.invoice_document, name="invoice-document"),
    path("statement/", portal_views.statement, name="statement"),
    path("answers/<str:token>/", feedback_views.answer_feedback, name="answer-feedback"),
]
