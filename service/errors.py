"""Broken rules of the service desk, each with a stable code."""

from otc.errors import Conflict, IllegalTransition, InvalidInput


class NotDisputable(Conflict):
    code = "not_disputable"
    title = "Only invoices are disputed, not credit notes."


class AlreadyDisputed(Conflict):
    code = "already_disputed"
    title = "The invoice has an open dispute already."


class NotInDispute(Conflict):
    code = "not_in_dispute"
    title = "The dispute is not open (resolved already)."


class CreditNoteMismatch(InvalidInput):
    code = "credit_note_mismatch"
    title = "The credit note must be an issued credit note of the disputed invoice."


class TicketTransitionRefused(IllegalTransition):
    code = "ticket_transition_refused"
    title = "The ticket cannot move to that status from its current one."


class TicketClosed(Conflict):
    code = "ticket_closed"
    title = "The ticket is closed; a new message opens a new ticket."


class AttachmentRefused(InvalidInput):
    code = "attachment_refused"
    title = "Attachments are PDF, PNG, JPEG, GIF, plain text, CSV or XML files within the size limit."


class DocumentOfAnotherCustomer(InvalidInput):
    code = "document_of_another_customer"
    title = "A ticket links only documents of its own customer."


class CannedReplyInvalid(InvalidInput):
    code = "canned_reply_invalid"
    title = "The canned reply's text is not a valid template."


class SurveyLinkInvalid(InvalidInput):
    code = "survey_link_invalid"
    title = "This survey link is not valid: it was changed or cut short. Use the link from the email."


class SurveyLinkExpired(Conflict):
    code = "survey_link_expired"
    title = "This survey link has expired."


class SurveyAlreadyAnswered(Conflict):
    code = "survey_already_answered"
    title = "This survey was answered already; each link works once. Thank you!"


class FeedbackAlreadyGiven(Conflict):
    code = "feedback_already_given"
    title = 'The "did this help?" of this answer was recorded already.'


class InboundMailRefused(InvalidInput):
    code = "inbound_mail_refused"
    title = "The inbound mail request is not signed with the shared secret, or is too old."


class FollowUpAlreadyDone(Conflict):
    code = "follow_up_already_done"
    title = "This follow-up is done already."
