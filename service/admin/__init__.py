"""The service desk's admin, one module per screen: tickets (the agents' queues and conversation),
setup (teams, calendars, SLA policies, canned replies), disputes."""

from service.admin import disputes, setup, tickets

__all__ = ["disputes", "setup", "tickets"]
