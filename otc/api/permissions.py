"""Who may call an endpoint: API keys by scope, signed-in staff by Django permission.

A view names its scopes as {"read": ..., "write": ..., "<action>": ...}; safe methods need "read",
others "write", unless the view's action has its own entry. Staff sessions need the matching Django
permission from `staff_permissions` (same keys); reads only need staff status.
"""

from rest_framework.permissions import SAFE_METHODS, BasePermission

from otc.models import ApiKey


def _requirement(mapping: dict[str, str], view, request) -> str | None:
    action = getattr(view, "action", None)
    if action in mapping:
        return mapping[action]
    return mapping.get("read" if request.method in SAFE_METHODS else "write")


class HasScope(BasePermission):
    message = "Your credentials lack the scope or permission this operation needs."

    def has_permission(self, request, view) -> bool:
        if isinstance(request.auth, ApiKey):
            scope = _requirement(getattr(view, "scopes", {}), view, request)
            self.message = f"This API key lacks the scope '{scope}'."
            return scope is not None and scope in request.auth.scopes
        user = request.user
        if not (user and user.is_authenticated and user.is_staff):
            return False
        permission = _requirement(getattr(view, "staff_permissions", {}), view, request)
        return permission is None or user.has_perm(permission)
