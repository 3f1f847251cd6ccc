"""The loop guard's memory: while a rule's actions run, the events they publish are caused by that
rule (and by the rules that caused the event it runs for). The outbox receiver stores the chain on
each event it records; the runner does not run a rule for an event its own chain caused."""

import contextlib
from collections.abc import Iterator
from contextvars import ContextVar

_chain: ContextVar[tuple[int, ...]] = ContextVar("automation_rule_chain", default=())


def current_rule_chain() -> list[int]:
    """The rules (ids, outermost first) whose actions are running now; empty outside any rule."""
    return list(_chain.get())


@contextlib.contextmanager
def caused_by(chain: list[int]) -> Iterator[None]:
    token = _chain.set(tuple(chain))
    try:
        yield
    finally:
        _chain.reset(token)
