"""Notifications beyond the outbox's plumbing: staff-edited templates rendered in a sandbox, the SMS
channel, the suppression list fed by the mail provider, and staff members' quiet hours and digest."""
