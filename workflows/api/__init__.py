"""Workflows in the API: partner webhooks (webhooks), mounted under /api/v1/ by urls."""
