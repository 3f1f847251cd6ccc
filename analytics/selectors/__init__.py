"""Read side of analytics: every report is one SQL statement (aggregates, window functions) over
the other apps' tables, never a loop over rows in Python. `receivables` covers aging, DSO, CEI and
the collection figures; `behaviour` covers RFM segments and churn risk."""
