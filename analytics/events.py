"""Domain events of analytics (see `otc.events`). Workflows records and handles them without
importing analytics: the two top layers are independent, the kernel's signal carries the event."""

from dataclasses import dataclass
from datetime import date

from otc.events import DomainEvent


@dataclass(frozen=True)
class Kpi:
    """One figure of the weekly KPIs; `value` is already formatted ("–" when there is no figure)."""

    name: str
    value: str
    unit: str


@dataclass(frozen=True, kw_only=True)
class WeeklyKpisReady(DomainEvent):
    """The week's receivables KPIs are ready for the staff who receive them."""

    type = "analytics.weekly_kpis_ready"
    week_ending: date
    period_start: date
    kpis: list[Kpi]
