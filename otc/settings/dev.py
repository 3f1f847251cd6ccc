"""Local development: `make run` sets DATABASE_URL to the embedded PostgreSQL when none is given."""

from .base import *  # noqa: F403
from .base import env_bool

DEBUG = env_bool("DEBUG", True)
