"""Payer scoring and the cash forecast against the hand-computed book in conftest.py.

As of 2026-03-31 only Alba has paid: 1000 ten days late (40 days before), 200 seven days early (21
days before); weights 1000 x 0.5^(40/180) = 857.24 and 200 x 0.5^(21/180) = 184.46, so Alba's own
lateness is (10 x 857.24 - 7 x 184.46) / 1041.71 = 6.99 days. Nobody has a group: the fallback is
all customers, that is Alba, so every prediction is 7.0 days.
"""

from datetime import date
from decimal import Decimal

import pytest

from analytics.selectors import forecast

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
    weeks = forecast.cash_forecast(on=ON)

    # Week 1: I6 400 and I2 300 (overdue) and I4 800 less 200 disputed; week 2: I3 2000 due 03-31 + 7 days;
    # week 4: I5 300 due 04-19 + 7 days.
    assert len(weeks) == 13
    assert weeks[0].starts_on == ON
    assert weeks[1].starts_on == date(2026, 4, 7)
    assert [week.expected for week in weeks[:5]] == [D("1300.00"), D("2000.00"), D("0.00"), D("300.00"), D("0.00")]
    assert sum(week.expected for week in weeks) == D("3600.00")


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
