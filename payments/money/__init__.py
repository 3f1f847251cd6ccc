"""Money: payments, their allocations to invoices, refunds."""
