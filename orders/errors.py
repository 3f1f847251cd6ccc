from otc.errors import Conflict, IllegalTransition, InvalidInput, PermissionDenied


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


class ReturnNotDecidable(IllegalTransition):
    code = "return_request_decided"
    title = "The return request has been decided already."


class ReturnPhotoRefused(InvalidInput):
    code = "return_photo_refused"
    title = "A photo of the goods is a PNG or JPEG file within the size limit."


class OverReturnRequest(Conflict):
    code = "over_return_request"
    title = "More than was delivered and not yet returned or requested cannot be returned."


class DocumentNotAvailable(Conflict):
    code = "order_document_not_available"
    title = "An order has a confirmation once it is confirmed; a draft or an order on credit hold has none."


class OrderNotEditable(Conflict):
    code = "order_not_editable"
    title = "Only a draft order can be changed; a confirmed order is changed by cancelling it."


class PriceOverrideNotAllowed(PermissionDenied):
    code = "price_override_not_allowed"
    title = "Setting a line's price by hand needs the permission to override prices."


class PriceOverrideReasonRequired(InvalidInput):
    code = "price_override_reason_required"
    title = "A price set by hand needs a reason."
