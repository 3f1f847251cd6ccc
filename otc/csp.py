"""Content-Security-Policy on every response (django-csp), strict by default, with the admin's one
relaxation written down here rather than in a template.

The policy in settings (CONTENT_SECURITY_POLICY) allows scripts and styles from our own origin only,
plus the per-response nonce for the few inline blocks we write ourselves (`nonce="{{ request.csp_nonce }}"`):
no CDN, no inline event handlers, no plugins, no framing. The admin's theme (unfold) builds on
Alpine.js, which evaluates its `x-data` expressions with `new Function`, and writes inline `<style>`
blocks and style attributes, so under /admin/ scripts may also be evaluated and styles may be inline.
Scripts there still load only from our origin, so an injected `<script>` still does not run.
ReDoc (/api/redoc/) writes its styles as `<style>` blocks at run time and runs its search in a worker
made from a blob: URL, so there styles may be inline and workers may come from blob:.
"""

from csp.constants import SELF, UNSAFE_EVAL, UNSAFE_INLINE
from csp.middleware import CSPMiddleware, PolicyParts
from django.http import HttpRequest, HttpResponseBase

ADMIN_PREFIX = "/admin/"
ADMIN_UPDATE = {"script-src": [UNSAFE_EVAL]}
# No nonce here: a nonce in style-src would make browsers ignore 'unsafe-inline'.
ADMIN_REPLACE = {"style-src": [SELF, UNSAFE_INLINE]}
REDOC_PREFIX = "/api/redoc/"
REDOC_REPLACE = {"style-src": [SELF, UNSAFE_INLINE], "worker-src": [SELF, "blob:"]}


class ContentSecurityPolicyMiddleware(CSPMiddleware):
    """django-csp's middleware with the admin's relaxation added to the settings' policy."""

    def get_policy_parts(
        self, request: HttpRequest, response: HttpResponseBase, report_only: bool = False
    ) -> PolicyParts:
        parts = super().get_policy_parts(request=request, response=response, report_only=report_only)
        if request.path_info.startswith(ADMIN_PREFIX):
            parts.update = {**ADMIN_UPDATE, **(parts.update or {})}
            parts.replace = {**ADMIN_REPLACE, **(parts.replace or {})}
        elif request.path_info.startswith(REDOC_PREFIX):
            parts.replace = {**REDOC_REPLACE, **(parts.replace or {})}
        return parts
