"""Signals between the two top layers. analytics and workflows are independent of each other (neither
imports the other), so a signal one sends and the other receives lives here, in the kernel both import.
"""

from django.dispatch import Signal

# Sent by analytics.services.announce_weekly_kpis with week_ending (ISO date), period_start, and
# kpis: a list of {"name": str, "value": str, "unit": str}; the outbox emails it to the staff who opted in.
weekly_kpis_ready = Signal()
