# The OTC suite's one image. web (gunicorn), worker and beat run it with different commands; see
# docker-compose.yml and docs/operator-guide.md.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    DJANGO_SETTINGS_MODULE=otc.settings.production

# Pango, HarfBuzz and a font for WeasyPrint (invoice PDFs; the app imports it at start-up), and
# pg_dump/pg_restore for `manage.py backup_database` and `verify_backup`. They must be at least as new
# as the server (postgres:16 in docker-compose.yml), and Debian's own client is older, so the client
# comes from the PostgreSQL project's apt repository.
ARG POSTGRES_CLIENT_VERSION=16
RUN set -eux; \
    apt-get update; \
    apt-get install -y --no-install-recommends ca-certificates curl; \
    install -d /usr/share/postgresql-common/pgdg; \
    curl -fsSL -o /usr/share/postgresql-common/pgdg/apt.postgresql.org.asc \
        https://www.postgresql.org/media/keys/ACCC4CF8.asc; \
    . /etc/os-release; \
    echo "deb [signed-by=/usr/share/postgresql-common/pgdg/apt.postgresql.org.asc] https://apt.postgresql.org/pub/repos/apt ${VERSION_CODENAME}-pgdg main" \
        > /etc/apt/sources.list.d/pgdg.list; \
    apt-get update; \
    apt-get install -y --no-install-recommends "postgresql-client-${POSTGRES_CLIENT_VERSION}" \
        libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core gettext; \
    apt-get purge -y --auto-remove curl; \
    rm -rf /var/lib/apt/lists/*

WORKDIR /app

# Dependencies first, so a code change does not reinstall them: exactly the versions and hashes of the
# production lock (`make lock` writes it from pyproject.toml). The code runs from /app.
COPY requirements/production.lock ./requirements/
RUN pip install --require-hashes -r requirements/production.lock

COPY . .

# Static files are collected at build time and served by WhiteNoise. Production settings insist on
# their variables; these placeholders exist only for this step and are not in the image's environment.
RUN SECRET_KEY=collectstatic-only \
    DATABASE_URL=postgres://collectstatic@localhost/collectstatic \
    FIELD_ENCRYPTION_KEYS=collectstatic-only \
    ALLOWED_HOSTS=localhost \
    sh -c 'python manage.py collectstatic --noinput --verbosity 0 && python manage.py compilemessages --verbosity 0'

# Run as an unprivileged user; it may write only var/ (uploads, backups).
RUN set -eux; \
    groupadd --system --gid 10001 otc; \
    useradd --system --uid 10001 --gid otc --create-home --home-dir /home/otc otc; \
    mkdir -p var/media var/backups; \
    chown -R otc:otc var/media var/backups
USER otc

EXPOSE 8000
CMD ["gunicorn", "otc.wsgi:application", "--bind", "0.0.0.0:8000"]
