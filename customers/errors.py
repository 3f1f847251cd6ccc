from otc.errors import Conflict, PermissionDenied


class PossibleDuplicateCustomer(Conflict):
    code = "possible_duplicate_customer"
    title = "A customer with this tax ID or a near-identical name exists."

    def __init__(self, duplicates):
        self.duplicates = list(duplicates)
        names = ", ".join(f"{c.number} {c.legal_name}" for c in self.duplicates)
        self.extensions = {
            "duplicates": [{"id": c.pk, "number": c.number, "legal_name": c.legal_name} for c in self.duplicates]
        }
        super().__init__(
            f"Possible duplicate of {names}. Confirm to create it anyway.",
            fields={"confirm_duplicate": [f"Possible duplicate of {names}."]},
        )


class SelfApprovalRefused(PermissionDenied):
    code = "four_eyes_self_approval"
    title = "A change request must be decided by someone other than its requester."


class ChangeRequestNotPending(Conflict):
    code = "change_request_not_pending"
    title = "This change request has already been decided or withdrawn."


class CustomerStatusConflict(Conflict):
    code = "customer_status_conflict"
    title = "The customer is not in a status that allows this."


class InvitationNotPending(Conflict):
    code = "portal_invitation_not_pending"
    title = "This invitation link is no longer valid: it was used, revoked, replaced by a newer one or has expired."
