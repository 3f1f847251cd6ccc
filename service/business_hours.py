"""Business-hours arithmetic, pure: no database, no clock. A `Calendar` is the working hours per
weekday in a time zone plus holiday dates; SLA targets are counted in its business time.

Each day is walked in local time (so a daylight-saving change is the zone's business), which costs
one step per calendar day: a 200-hour target over a 40-hour week is about 35 steps.
"""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

MAX_DAYS = 3660  # ten years without a working hour means the calendar is broken, not the target


class NoWorkingHours(ValueError):
    """The calendar has no working hours: no business time ever passes."""


@dataclass(frozen=True)
class Calendar:
    time_zone: ZoneInfo
    hours: dict[int, tuple[time, time]]  # weekday (Monday 0) -> opens, closes
    holidays: frozenset[date] = frozenset()

    def window(self, day: date) -> tuple[datetime, datetime] | None:
        """The day's working window as aware datetimes, or None on a day off."""
        if day in self.holidays or day.weekday() not in self.hours:
            return None
        opens, closes = self.hours[day.weekday()]
        return (
            datetime.combine(day, opens, tzinfo=self.time_zone),
            datetime.combine(day, closes, tzinfo=self.time_zone),
        )


def add_business_time(calendar: Calendar, start: datetime, duration: timedelta) -> datetime:
    """The moment `duration` of business time after `start` (aware). A target that ends exactly at
    closing time is due then, not at the next opening."""
    if not calendar.hours:
        raise NoWorkingHours("The calendar has no working hours.")
    left = duration
    local = start.astimezone(calendar.time_zone)
    day = local.date()
    for _ in range(MAX_DAYS):
        window = calendar.window(day)
        if window is not None:
            begin = max(window[0], local)
            if begin < window[1]:
                available = window[1] - begin
                if left <= available:
                    return begin + left
                left -= available
        day += timedelta(days=1)
    raise NoWorkingHours("No working hours within ten years of the start.")


def business_time_between(calendar: Calendar, start: datetime, end: datetime) -> timedelta:
    """The business time from `start` to `end`; negative when `end` comes first."""
    if end < start:
        return -business_time_between(calendar, end, start)
    total = timedelta(0)
    local_start, local_end = start.astimezone(calendar.time_zone), end.astimezone(calendar.time_zone)
    day = local_start.date()
    while day <= local_end.date():
        window = calendar.window(day)
        if window is not None:
            begin, finish = max(window[0], local_start), min(window[1], local_end)
            if finish > begin:
                total += finish - begin
        day += timedelta(days=1)
    return total
