"""Analytics' domain errors: a report asked for with parameters that cannot make sense."""

from otc.errors import InvalidInput


class InvalidAgingBuckets(InvalidInput):
    code = "invalid_aging_buckets"
    title = "Aging buckets must be increasing whole numbers of days past due."


class InvalidPeriod(InvalidInput):
    code = "invalid_period"
    title = "The period must start on or before its end."


class UnknownGrouping(InvalidInput):
    code = "unknown_grouping"
    title = "Each report groups its rows by the dimensions it names, and by no other."


class UnknownSegment(InvalidInput):
    code = "unknown_segment"
    title = "No customer segment has this name."
