"""Cash application: bank statement formats and import, the matching engine, reconciliation and auto-apply."""
