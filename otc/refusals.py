"""The page a member of staff gets when the admin refuses them: which role would allow it, instead of
a bare "403 Forbidden". Elsewhere Django's own answer stands (the API answers problem+json itself)."""

from django.apps import apps
from django.contrib import admin
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import Resolver404, resolve
from django.views import defaults

from otc.roles import ROLES

# The admin's URL names end in the page; each page needs the model permission of that action.
PAGE_ACTIONS = {"add": "add", "change": "change", "delete": "delete", "changelist": "view", "history": "view"}


def permission_denied(request: HttpRequest, exception: Exception) -> HttpResponse:
    if not request.path.startswith("/admin/") or not request.user.is_authenticated:
        return defaults.permission_denied(request, exception)
    permission = _permission_of(request.path)
    context = {
        **admin.site.each_context(request),
        "title": "Not allowed",
        "permission": permission,
        "roles": sorted(role for role, permissions in ROLES.items() if permission in permissions) if permission else [],
    }
    return render(request, "admin/refused.html", context, status=403)


def _permission_of(path: str) -> str:
    """The permission the admin page at `path` needs ("orders.add_order"), or "" for other pages."""
    try:
        name = resolve(path).url_name or ""
    except Resolver404:
        return ""
    for page, action in PAGE_ACTIONS.items():
        if name.endswith(f"_{page}"):
            app_model = name.removesuffix(f"_{page}")
            for model in apps.get_models():
                if f"{model._meta.app_label}_{model._meta.model_name}" == app_model:
                    return f"{model._meta.app_label}.{action}_{model._meta.model_name}"
    return ""
