"""Workflows' domain errors, one per broken rule."""

from otc.errors import InvalidInput


class NotificationTemplateInvalid(InvalidInput):
    code = "notification_template_invalid"
    title = "The notification template cannot be used."
