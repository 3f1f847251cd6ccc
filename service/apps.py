from django.apps import AppConfig


class ServiceConfig(AppConfig):
    name = "service"
    default_auto_field = "django.db.models.BigAutoField"
