"""The portal cart: product ids and quantities kept in the signed-in user's session. Nothing is priced
or reserved until the order is placed; the cart page prices it afresh each time it is shown."""

from decimal import Decimal, InvalidOperation

SESSION_KEY = "portal_cart"


class Cart:
    def __init__(self, session) -> None:
        self.session = session

    def quantities(self) -> dict[int, Decimal]:
        """Product id → quantity, in the order they were added."""
        items = {}
        for product_id, quantity in self.session.get(SESSION_KEY, {}).items():
            try:
                items[int(product_id)] = Decimal(quantity)
            except (InvalidOperation, ValueError):
                continue
        return items

    def _store(self, items: dict[int, Decimal]) -> None:
        self.session[SESSION_KEY] = {
            str(product_id): str(quantity) for product_id, quantity in items.items() if quantity > 0
        }

    def add(self, product_id: int, quantity: Decimal) -> None:
        items = self.quantities()
        items[product_id] = items.get(product_id, Decimal("0")) + quantity
        self._store(items)

    def set(self, quantities: dict[int, Decimal]) -> None:
        """New quantities for lines in the cart; a zero removes the line."""
        items = self.quantities()
        items.update({product_id: quantity for product_id, quantity in quantities.items() if product_id in items})
        self._store(items)

    def clear(self) -> None:
        self.session.pop(SESSION_KEY, None)

    def __len__(self) -> int:
        return len(self.session.get(SESSION_KEY, {}))
