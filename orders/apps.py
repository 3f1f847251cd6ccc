from django.apps import AppConfig


class OrdersConfig(AppConfig):
    name = "orders"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from customers.selectors import register_exposure_source
        from orders.selectors import open_order_value

        register_exposure_source("open_orders", open_order_value)
