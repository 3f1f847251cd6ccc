"""What an OPTIONS request answers under /api/."""

from rest_framework.metadata import SimpleMetadata


class AllowedMethodsMetadata(SimpleMetadata):
    """The allowed methods, without DRF's serializer introspection: that fails on views whose
    serializer depends on the action, and would describe the API a second time, less exactly than
    the OpenAPI schema does."""

    def determine_actions(self, request, view) -> dict:
        return {}
