"""Documents of invoicing: rendered invoices, credit notes and statements, stored once and delivered."""
