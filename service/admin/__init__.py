"""The service desk's admin, one module per screen: tickets (the agents' queues and conversation),
setup (teams, calendars, SLA policies, canned replies), disputes, surveys (with their results and
the key accounts), follow-up tasks, inbound (inbound mail and automated answers), and the customer 360 on the
customer's page."""

from service.admin import customer_360, disputes, followups, inbound, setup, surveys, tickets

__all__ = ["customer_360", "disputes", "followups", "inbound", "setup", "surveys", "tickets"]
