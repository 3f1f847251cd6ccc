"""Collections: dunning, promises to pay, payment plans, reminders before the due date."""
