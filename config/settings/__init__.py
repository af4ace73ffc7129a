"""Settings, driven by the environment alone (docs/configuration in README.md).

Two run modes share one code path: without DATABASE_URL / REDIS_URL the project runs
embedded (SQLite, in-memory channel layer, local-memory cache, eager Celery); with them it
uses PostgreSQL, Redis channel layer, Redis cache and a Redis Celery broker.

One module per subject, read in this order (each imports what it needs of the ones
before it): base, services, monitoring, web, product, hardening.
"""

from config.settings.base import *  # noqa: F403
from config.settings.hardening import *  # noqa: F403
from config.settings.monitoring import *  # noqa: F403
from config.settings.product import *  # noqa: F403
from config.settings.services import *  # noqa: F403
from config.settings.web import *  # noqa: F403
