from otc.errors import Conflict, InvalidInput


class InsufficientStock(Conflict):
    code = "insufficient_stock"
    title = "Not enough stock available."


class NoPrice(InvalidInput):
    code = "no_price"
    title = "No price is defined for this product, customer, currency and date."


class NoTaxRate(InvalidInput):
    code = "no_tax_rate"
    title = "No tax rate is defined for this product category, country and date."
