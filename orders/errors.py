from otc.errors import Conflict, IllegalTransition, InvalidInput


class IllegalOrderTransition(IllegalTransition):
    code = "illegal_order_transition"
    title = "The order's status does not allow this."


class PurchaseOrderNumberRequired(InvalidInput):
    code = "po_number_required"
    title = "This customer requires a PO number on every order."


class OverShipment(Conflict):
    code = "over_shipment"
    title = "More than the order line has open and reserved cannot be shipped."


class OverReturn(Conflict):
    code = "over_return"
    title = "More than was shipped cannot be returned."
