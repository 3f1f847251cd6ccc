from django.urls import path

from service import portal_help, portal_ordering, portal_paying, portal_support, portal_users, portal_views

app_name = "portal"
urlpatterns = [
    path("", portal_views.home, name="home"),
    path("help/", portal_help.portal_help, name="help"),
    path("preferences/", portal_views.preferences, name="preferences"),
    path("contacts/add/", portal_views.contact_add, name="contact-add"),
    path("contacts/<int:pk>/", portal_views.contact_edit, name="contact-edit"),
    path("orders/", portal_views.orders, name="orders"),
    path("orders/<str:number>/", portal_views.order, name="order"),
    path("orders/<str:number>/again/", portal_ordering.order_again, name="order-again"),
    path("orders/<str:number>/cancel/", portal_ordering.order_cancel, name="order-cancel"),
    path("catalogue/", portal_ordering.catalogue_page, name="catalogue"),
    path("cart/", portal_ordering.cart, name="cart"),
    path("cart/add/", portal_ordering.cart_add, name="cart-add"),
    path("invoices/", portal_views.invoices, name="invoices"),
    path("invoices/download/", portal_paying.invoices_zip, name="invoices-zip"),
    path("invoices/<int:pk>/", portal_views.invoice, name="invoice"),
    path("invoices/<int:pk>/dispute/", portal_support.invoice_dispute, name="invoice-dispute"),
    path("invoices/<int:pk>/promise/", portal_support.invoice_promise, name="invoice-promise"),
    path("invoices/<int:pk>/<str:document_format>/", portal_views.invoice_document, name="invoice-document"),
    path("statement/", portal_views.statement, name="statement"),
    path("surveys/", portal_views.surveys, name="surveys"),
    path("pay/", portal_paying.pay, name="pay"),
    path("pay/test-provider/<uuid:token>/", portal_paying.test_provider_page, name="test-provider"),
    path("tickets/", portal_support.tickets, name="tickets"),
    path("tickets/new/", portal_support.ticket_new, name="ticket-new"),
    path("tickets/<str:number>/", portal_support.ticket, name="ticket"),
    path("invitation/<str:token>/", portal_users.accept_invitation, name="accept-invitation"),
    path("users/", portal_users.users, name="users"),
    path("users/invitations/<int:pk>/resend/", portal_users.invitation_resend, name="invitation-resend"),
    path("users/invitations/<int:pk>/revoke/", portal_users.invitation_revoke, name="invitation-revoke"),
]
