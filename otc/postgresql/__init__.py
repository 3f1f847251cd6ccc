"""The database engine: Django's PostgreSQL backend with statements prepared on the server (base.py)."""
