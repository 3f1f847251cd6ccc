# Two commands for a new machine: `make run` and `make test` (see README.md).
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
PYTHON ?= python3
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test install system-libs messages browser lint migrate seed worker beat check-deploy lock audit

# WeasyPrint renders documents with Pango and needs at least one font; Debian's packages bring both.
system-libs:
	@ldconfig -p | grep -q libpangoft2-1.0 && ldconfig -p | grep -q libharfbuzz-subset && fc-list | grep -q . || { apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core >/dev/null; }

# Every package comes from the lock, pinned and checked against its hashes; the project itself is then
# installed without dependencies or downloads. After changing pyproject.toml's dependencies: `make lock`.
LOCK := requirements/development.lock
# The lock's own pip is installed first: the one venv bundles (23.2 with Python 3.11) resolves an extra
# a dependency asks for (weasyprint's fonttools[woff]) to its newest release in hash-checking mode, past
# the lock's pin, and refuses the whole lock once such a release is out.
$(VENV)/.installed: $(LOCK) | system-libs
	$(PYTHON) -m venv $(VENV)
	awk '/^pip==/ {p = 1; print; next} p && /^ +--hash/ {print; next} {p = 0}' $(LOCK) > $(VENV)/pip.lock
	$(VENV)/bin/pip install --quiet --require-hashes -r $(VENV)/pip.lock
	$(VENV)/bin/pip install --quiet --require-hashes -r $(LOCK)
	$(VENV)/bin/pip install --quiet --no-deps --no-build-isolation -e .
	touch $@

install: $(VENV)/.installed messages

# Translation catalogues: locale/*/LC_MESSAGES/django.po are kept in git, the .mo files are built here.
messages: $(VENV)/.installed
	@command -v msgfmt >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq gettext >/dev/null; }
	$(VENV)/bin/python manage.py compilemessages --verbosity 0 --ignore .venv --ignore var

# Debian's chromium drives the browser tests (Playwright uses it; it never downloads a browser).
browser:
	@command -v chromium >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }

# With the embedded PostgreSQL, stopping `make run` (Ctrl-C) stops that server too.
run: install
	@set -e; \
	if [ -z "$$DATABASE_URL" ]; then DATABASE_URL=$$($(PY) -m otc.embedded_postgres); export DATABASE_URL; \
	  trap '$(PY) -m otc.embedded_postgres --stop; echo "Embedded PostgreSQL stopped."' EXIT; \
	  trap 'exit 0' INT TERM; \
	  echo "Using embedded PostgreSQL (var/pgdata)"; fi; \
	$(PY) manage.py migrate --noinput; \
	$(PY) manage.py seed_demo; \
	echo; echo "  Admin:   http://$(HOST):$(PORT)/admin/"; \
	echo "  Portal:  http://$(HOST):$(PORT)/portal/"; \
	echo "  API:     http://$(HOST):$(PORT)/api/docs/ (reference: /api/redoc/)"; \
	echo "  Health:  http://$(HOST):$(PORT)/readyz"; echo; \
	$(PY) manage.py runserver $(HOST):$(PORT)

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports

test: install browser lint
	DJANGO_SETTINGS_MODULE=otc.settings.test $(PY) manage.py makemigrations --check --dry-run
	DJANGO_SETTINGS_MODULE=otc.settings.test $(PY) manage.py compile_einvoice_rules --check
	@# The pytest process runs tasks eagerly; a REDIS_URL exported for `make worker` must not leak in.
	env -u REDIS_URL $(PY) -m pytest -n auto --dist loadfile -q

worker: install
	$(VENV)/bin/celery -A otc worker -l info

beat: install
	$(VENV)/bin/celery -A otc beat -l info

check-deploy: install
	DJANGO_SETTINGS_MODULE=otc.settings.production SECRET_KEY=$$($(PY) -c 'import secrets;print(secrets.token_urlsafe(50))') \
	  DATABASE_URL=postgres://postgres@127.0.0.1:5432/otc ALLOWED_HOSTS=otc.example.com \
	  FIELD_ENCRYPTION_KEYS=$$($(PY) -c 'from cryptography.fernet import Fernet;print(Fernet.generate_key().decode())') \
	  $(PY) manage.py check --deploy --fail-level WARNING

# Regenerate both locks from pyproject.toml (needs PyPI); commit them with the pyproject change.
lock: install
	$(VENV)/bin/pip-compile --quiet --generate-hashes --strip-extras --allow-unsafe --no-emit-index-url \
	  --no-emit-find-links -o requirements/production.lock pyproject.toml
	$(VENV)/bin/pip-compile --quiet --generate-hashes --strip-extras --allow-unsafe --no-emit-index-url \
	  --no-emit-find-links --extra dev -o requirements/development.lock pyproject.toml

# Known vulnerabilities in the locked packages. pip-audit asks the PyPI/OSV vulnerability service, which
# build machines without internet access cannot reach: operators run it (docs/operator-guide.md).
audit: install
	$(VENV)/bin/pip-audit --require-hashes --disable-pip -r requirements/production.lock
	$(VENV)/bin/pip-audit --require-hashes --disable-pip -r requirements/development.lock
