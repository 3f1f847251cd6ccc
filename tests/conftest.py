"""The suite's shared fixtures live in tests/support; directory conftests only add their own."""

pytest_plugins = ["tests.support.fixtures", "tests.support.workers", "tests.support.receiver", "tests.support.servers"]
