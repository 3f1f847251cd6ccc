"""Automation rules: events dispatched through the outbox (its handlers and the rules handler) with 50
active rules, against the same outbox with no rules, in interleaved blocks of the same run (rules off,
rules on, rules on, rules off, ...), so machine load hits both alike; block medians are compared.

The events are of types with no fixed handler of their own (customer changed, payment received,
order cancelled, credit hold released), so the ratio is what the rules cost. The 50 rules (about 12
per event type) test the customer's country, group and tags, payload amounts and the weekday; a few
per cent of the runs match, and their action queues an email (rendered at once, as the live run does).
Every run, matched or not, is logged.

    .venv/bin/python bench/automation.py [--events 10000] [--rules 50] [--blocks 10] [--customers 200]
                                         [--keep] [--reuse]
"""

import argparse
import os
import random
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import Timer, drop_database, setup_django, write_results

TARGET_RATIO = 2.0
EVENT_TYPES = ["customer.changed", "payment.received", "order.cancelled", "customer.credit_hold_released"]
COUNTRIES = ["DE", "DE", "FR", "AT", "NL"]


def build_world(*, customers: int):
    from customers import services
    from customers.models import CustomerGroup
    from otc.models import User

    clerk = User.objects.create_user("bench-clerk@otc.test", "x", is_staff=True, is_superuser=True)
    groups = [CustomerGroup.objects.create(code=code, name=code.title()) for code in ("retail", "wholesale")]
    made = []
    for index in range(customers):
        customer = services.create_customer(
            actor=clerk,
            legal_name=f"Bench Automation {index:05d}",
            country=COUNTRIES[index % len(COUNTRIES)],
            sales_rep=clerk,
            group=groups[index % 2],
            confirm_duplicate=True,
        )
        if index % 4 == 0:
            services.add_customer_tag(customer=customer, name="key", actor=clerk)
        made.append(customer)
    return clerk, made


def payload(event_type: str, customer, index: int) -> dict:
    base = {"customer_id": customer.pk, "customer_number": customer.number, "actor_id": customer.sales_rep_id}
    if event_type == "customer.changed":
        return {**base, "changed_fields": ["notes"]}
    if event_type == "payment.received":
        return {
            **base,
            "payment_id": index,
            "payment_number": f"PAY-{index}",
            "received_on": "2026-12-01",
            "currency": "EUR",
            "amount": f"{(index * 37) % 20000}.00",
        }
    if event_type == "order.cancelled":
        return {**base, "order_id": index, "order_number": f"ORD-{index}", "reason": "bench"}
    return base


def make_rules(*, count: int, actor) -> None:
    """`count` rules spread over the event types; a third of them look for Dutch retail customers
    tagged key (5 % of the customers), the others for Belgian ones (none)."""
    from workflows.rules.services import create_rule

    notify = {"type": "notify", "template": "rule_notice", "to": "address", "address": "bench@otc.test"}
    for index in range(count):
        event_type = EVENT_TYPES[index % len(EVENT_TYPES)]
        country = {"field": "customer.country", "op": "eq", "value": "NL" if index % 3 == 0 else "BE"}
        group = {"field": "customer.group", "op": "in", "value": ["retail"]}
        tagged = {"field": "customer.tags", "op": "contains", "value": "key"}
        weekday = {"field": "when.weekday", "op": "in", "value": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]}
        leaves = [country, group, tagged, weekday]
        if event_type == "payment.received":
            leaves.append({"field": "event.amount", "op": "between", "value": ["0", "20000"]})
        create_rule(
            name=f"Bench rule {index:03d}",
            event_type=event_type,
            conditions={"all": leaves}
            if index % 2
            else {"any": [{"all": leaves}, {"not": {"field": "customer.status", "op": "ne", "value": "blocked"}}]},
            actions=[notify],
            actor=actor,
            active=True,
        )


def record_events(*, count: int, customers: list, seed: int) -> list[int]:
    from workflows.models import OutboxEvent

    rng = random.Random(seed)
    rows = []
    for index in range(count):
        event_type = EVENT_TYPES[index % len(EVENT_TYPES)]
        rows.append(OutboxEvent(event_type=event_type, payload=payload(event_type, rng.choice(customers), index)))
    return [event.pk for event in OutboxEvent.objects.bulk_create(rows, batch_size=2000)]


def dispatch_all(event_ids: list[int]) -> float:
    from workflows.handlers import HANDLERS
    from workflows.services import dispatch_event

    with Timer() as timer:
        for event_id in event_ids:
            dispatch_event(event_id=event_id, handlers=HANDLERS)
    return timer.seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=10_000, help="events through the rules (as many without)")
    parser.add_argument("--rules", type=int, default=50)
    parser.add_argument("--blocks", type=int, default=10, help="blocks per side, interleaved")
    parser.add_argument("--customers", type=int, default=200)
    parser.add_argument("--keep", action="store_true", help="keep the bench database afterwards")
    parser.add_argument("--reuse", action="store_true", help="reuse a kept database (its customers and rules)")
    args = parser.parse_args()

    os.environ.setdefault("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/otc_bench_automation")
    url = setup_django(fresh=not args.reuse)
    from customers.models import Customer
    from otc.models import User
    from workflows.models import AutomationRule, Delivery, RuleRun, RuleRunStatus

    if args.reuse and Customer.objects.exists():
        customers = list(Customer.objects.order_by("pk"))
        Delivery.objects.filter(handler__startswith="rule:").delete()
        AutomationRule.objects.filter(builtin_handler="").delete()  # with their runs and versions
        make_rules(count=args.rules, actor=User.objects.get(email="bench-clerk@otc.test"))
        print(f"reusing {len(customers)} customers, {args.rules} rules made afresh", flush=True)
    else:
        print(f"building {args.customers} customers and {args.rules} rules ...", flush=True)
        clerk, customers = build_world(customers=args.customers)
        make_rules(count=args.rules, actor=clerk)
    custom_rules = AutomationRule.objects.filter(builtin_handler="")
    per_block = max(args.events // args.blocks, 1)
    seconds = {"rules": [], "none": []}
    for block in range(args.blocks):
        order = ["none", "rules"] if block % 2 == 0 else ["rules", "none"]
        for side in order:
            custom_rules.update(active=side == "rules")
            event_ids = record_events(count=per_block, customers=customers, seed=block)
            seconds[side].append(dispatch_all(event_ids))
        print(
            f"block {block + 1}/{args.blocks}: {per_block / seconds['none'][-1]:7.1f} events/s without rules, "
            f"{per_block / seconds['rules'][-1]:7.1f} with {args.rules}",
            flush=True,
        )
    with_rules = per_block / statistics.median(seconds["rules"])
    without = per_block / statistics.median(seconds["none"])
    ratio = without / with_rules
    matched = RuleRun.objects.filter(status=RuleRunStatus.DONE, rule__builtin_handler="").count()
    runs = RuleRun.objects.filter(rule__builtin_handler="").count()
    queued = Delivery.objects.filter(handler__startswith="rule:").count()
    print(f"\nwithout rules  {without:8.1f} events/s")
    print(f"with {args.rules} rules  {with_rules:8.1f} events/s   cost {ratio:.2f}x (target at most {TARGET_RATIO}x)")
    print(f"rule runs logged {runs:,}, matched {matched:,}, emails queued {queued:,}")
    path = write_results(
        "automation",
        {
            "events_per_side": per_block * args.blocks,
            "rules": args.rules,
            "blocks": args.blocks,
            "customers": len(customers),
            "events_per_second_without_rules": round(without, 1),
            "events_per_second_with_rules": round(with_rules, 1),
            "cost_ratio": round(ratio, 2),
            "target_ratio": TARGET_RATIO,
            "rule_runs_logged": runs,
            "rule_runs_matched": matched,
            "emails_queued": queued,
            "block_seconds": {side: [round(s, 3) for s in values] for side, values in seconds.items()},
        },
    )
    print(f"\nwritten to {path}")
    if not args.keep:
        drop_database(url)


if __name__ == "__main__":
    main()
