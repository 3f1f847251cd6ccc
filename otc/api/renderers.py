"""Content negotiation for the document downloads.

The files themselves go out as they were stored (a FileResponse bypasses rendering); these renderers
only let a client ask for them (`Accept: application/pdf`, `?format=pdf`) without a 406, and render
an error on such a request as the usual problem+json."""

from rest_framework.renderers import BaseRenderer, JSONRenderer


class _DocumentRenderer(BaseRenderer):
    charset = None

    def render(self, data, accepted_media_type=None, renderer_context=None) -> bytes:
        return JSONRenderer().render(data, renderer_context=renderer_context)


class PdfRenderer(_DocumentRenderer):
    media_type = "application/pdf"
    format = "pdf"


class XmlRenderer(_DocumentRenderer):
    media_type = "application/xml"
    format = "xml"
