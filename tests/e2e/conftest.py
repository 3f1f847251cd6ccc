"""Browser tests: Playwright's sync API driving Debian's Chromium against pytest-django's live server.

Chromium comes from the system package (`make browser` installs it); Playwright never downloads a
browser. A missing Chromium fails these tests, it never skips them.
"""

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SCREENSHOTS = Path("/tmp")  # screenshots for a person to look at; nothing secret


@pytest.fixture(scope="module")
def browser(django_db_setup) -> Iterator:
    """One Chromium per test module, started after the test database exists.

    Playwright's sync API keeps an event loop in this thread while it runs, so Django's guard
    against ORM calls from async code is lifted for exactly that long (the tests' own factories,
    assertions and database flushes are plain synchronous code); the loop and the lift end with
    the module, so tests that run later in the same process are unaffected.
    """
    if not CHROMIUM.exists():
        pytest.fail(f"Chromium is missing at {CHROMIUM}; install it with `make browser` (apt-get install chromium).")
    from playwright.sync_api import sync_playwright

    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            yield browser
            browser.close()
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


# Refusals that are the policy doing its job on third-party code we serve: ReDoc always asks for
# Redocly's logo from their CDN (the policy refuses it, ReDoc then hides the image).
EXPECTED_REFUSALS = ("https://cdn.redoc.ly/redoc/logo-mini.svg",)


def _refusal(text: str) -> bool:
    return "Content Security Policy" in text and not any(url in text for url in EXPECTED_REFUSALS)


@pytest.fixture
def page(browser, live_server) -> Iterator:
    """A page of a fresh browser context; the test fails if the Content-Security-Policy refused anything."""
    context = browser.new_context(base_url=live_server.url, viewport={"width": 1400, "height": 900})
    context.set_default_timeout(15_000)
    page = context.new_page()
    refused: list[str] = []
    page.on("console", lambda message: refused.append(message.text) if _refusal(message.text) else None)
    yield page
    context.close()
    assert not refused, "the Content-Security-Policy refused:\n" + "\n".join(refused)


@pytest.fixture
def screenshot(page):
    """screenshot("name") saves /tmp/e2e-<name>.png of the whole page and returns its path."""

    def take(name: str) -> Path:
        path = SCREENSHOTS / f"e2e-{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take
