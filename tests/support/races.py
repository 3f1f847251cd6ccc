"""Real threads on real PostgreSQL connections: what two clerks clicking at once do."""

import threading
from collections.abc import Callable

from django.db import connection


def in_thread(call: Callable[[], object]) -> Callable[[], object]:
    """`call` as a thread body: it runs on the thread's own connection, closed when it ends."""

    def run() -> object:
        try:
            return call()
        finally:
            connection.close()

    return run


def race(*calls: Callable[[], object], timeout: float = 60) -> list[object]:
    """Run the calls in threads released together by a barrier; each gives what it returned or raised."""
    barrier = threading.Barrier(len(calls))
    results: list[object] = [None] * len(calls)

    def run(index: int, call: Callable[[], object]) -> None:
        try:
            barrier.wait()
            results[index] = call()
        except Exception as error:  # the test asserts on it
            results[index] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(index, call)) for index, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=timeout)
    return results
