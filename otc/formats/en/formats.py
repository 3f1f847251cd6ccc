"""English as our customers read it: they trade across Europe, so a short date is ISO 8601 (2026-12-04),
not the American month first that Django's "en" would print. German and French keep Django's own
(04.12.2026, 04/12/2026)."""

SHORT_DATE_FORMAT = "Y-m-d"
