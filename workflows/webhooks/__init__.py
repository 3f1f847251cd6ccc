"""Partner webhooks: subscriptions per API client, signed deliveries (Standard Webhooks) of every
outbox event, retries with back-off into a dead-letter list, and the SSRF guard on every address.

Modules: errors, addresses (the SSRF guard and the pinned POST), signing (secrets and the Standard
Webhooks headers), services (the write side), selectors (the read side).
"""
