"""Payer scoring and the cash forecast against the hand-computed book in conftest.py.

As of 2026-03-31 only Alba has paid: 1000 ten days late (40 days before), 200 seven days early (21
days before); weights 1000 x 0.5^(40/180) = 857.24 and 200 x 0.5^(21/180) = 184.46, so Alba's own
lateness is (10 x 857.24 - 7 x 184.46) / 1041.71 = 6.99 days. Nobody has a group: the fallback is
all customers, that is Alba, so every prediction is 7.0 days.
"""

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from analytics.selectors import forecast
from customers.services import record_behaviour

pytestmark = pytest.mark.django_db
D = Decimal
ON = date(2026, 3, 31)


def test_payer_scores_blend_own_history_with_the_fallback_and_say_why(book):
    scores = {score.customer_id: score for score in forecast.payer_scores(on=ON)}

    alba, bora = scores[book.alba.pk], scores[book.bora.pk]
    assert (alba.settlements, alba.own_days_late, alba.fallback_days_late, alba.predicted_days_late) == (
        2,
        D("7.0"),
        D("7.0"),
        D("7.0"),
    )
    assert (bora.settlements, bora.own_days_late, bora.predicted_days_late) == (0, None, D("7.0"))
    assert bora.reasons == ["No payments yet: the average of all customers (7.0 days late)."]
    assert alba.reasons[0] == "2 settlements, recent ones weighing more: 7.0 days late on average."


def test_a_late_payer_pulls_their_prediction_up_and_the_newcomer_follows_the_average(book):
    # As of 2026-04-30 Bora has paid 2000 twenty days late 10 days before: heavier than all of Alba's.
    scores = {score.customer_id: score for score in forecast.payer_scores(on=date(2026, 4, 30))}
    weights = [1000 * 0.5 ** (70 / 180), 200 * 0.5 ** (51 / 180), 2000 * 0.5 ** (10 / 180)]
    alba_own = (10 * weights[0] - 7 * weights[1]) / (weights[0] + weights[1])
    overall = (10 * weights[0] - 7 * weights[1] + 20 * weights[2]) / sum(weights)

    assert scores[book.bora.pk].own_days_late == D("20.0")
    assert scores[book.alba.pk].own_days_late == D(f"{alba_own:.1f}")
    assert scores[book.alba.pk].predicted_days_late == D(f"{(2 * alba_own + 3 * overall) / 5:.1f}")
    assert scores[book.bora.pk].predicted_days_late == D(f"{(20 + 3 * overall) / 4:.1f}")


def test_cash_forecast_expects_each_open_invoice_on_its_due_date_plus_lateness_less_disputes(book):
    expected = forecast.cash_forecast(on=ON)
    weeks = expected.weeks

    assert expected.scores_as_of is None  # nothing stored: scored as of the day
    # Week 1: I6 400 and I2 300 (overdue) and I4 800 less 200 disputed; week 2: I3 2000 due 03-31 + 7 days;
    # week 4: I5 300 due 04-19 + 7 days.
    assert len(weeks) == 13
    assert weeks[0].starts_on == ON
    assert weeks[1].starts_on == date(2026, 4, 7)
    assert [week.expected for week in weeks[:5]] == [D("1300.00"), D("2000.00"), D("0.00"), D("300.00"), D("0.00")]
    assert sum(week.expected for week in weeks) == D("3600.00")


SCORED_AT = datetime(2026, 3, 31, 5, 0, tzinfo=UTC)


def test_from_the_day_of_the_stored_scores_the_forecast_reads_them_instead_of_scoring_again(book):
    record_behaviour(scores=[(book.alba.pk, "", D("30.0")), (book.bora.pk, "", D("0.0"))], scored_at=SCORED_AT)

    expected = forecast.cash_forecast(on=ON)

    # Bora on time: I6, I4 less 200 disputed and I3 (due 03-31) in week 1; Alba 30 days late: I2 due 03-17
    # in week 3 (04-16), I5 due 04-19 in week 8 (05-19).
    assert expected.scores_as_of == SCORED_AT
    assert {week.week: week.expected for week in expected.weeks if week.expected} == {
        1: D("3000.00"),
        3: D("300.00"),
        8: D("300.00"),
    }
    # The day before the scoring is scored on what was known then, as before.
    earlier = forecast.cash_forecast(on=date(2026, 3, 30))
    assert earlier.scores_as_of is None
    assert sum(week.expected for week in earlier.weeks) == D("3600.00")


def test_a_customer_without_a_stored_score_is_expected_at_the_stored_average(book):
    record_behaviour(scores=[(book.alba.pk, "", D("30.0"))], scored_at=SCORED_AT)

    weeks = forecast.cash_forecast(on=ON).weeks

    # Bora takes the average of the stored scores, 30 days: I6 and I4 still overdue (week 1), I3 04-30 (week 5).
    assert {week.week: week.expected for week in weeks if week.expected} == {
        1: D("1000.00"),
        3: D("300.00"),
        5: D("2000.00"),
        8: D("300.00"),
    }


def test_backtest_compares_the_forecast_of_13_weeks_ago_with_what_came_in(book):
    backtest = forecast.forecast_backtest(on=date(2026, 6, 30))

    assert backtest.as_of == ON
    assert [(week.forecast, week.actual) for week in backtest.weeks[:4]] == [
        (D("1300.00"), D("0")),
        (D("2000.00"), D("0")),
        (D("0.00"), D("2000.00")),  # I3 paid on 2026-04-20, in the third week
        (D("300.00"), D("0")),
    ]
    # (1300 + 2000 + 2000 + 300) / 13
    assert backtest.mean_absolute_error == D("430.77")
