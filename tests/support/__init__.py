"""What tests share beyond factories: the fixtures every directory may ask for (`fixtures`, registered
through `pytest_plugins` in tests/conftest.py), real threads racing on their own connections
(`races`), the outbox run by hand (`outbox`), and real Celery workers on Redis (`workers`)."""
