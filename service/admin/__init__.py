"""The service desk's admin, one module per screen: tickets (the agents' queues and conversation),
setup (teams, calendars, SLA policies, canned replies), disputes, inbound (inbound mail and
automated answers)."""

from service.admin import disputes, inbound, setup, tickets

__all__ = ["disputes", "inbound", "setup", "tickets"]
