"""The project's settings with `tests.support.error_urls` as the address map (a server process started by a test)."""

from coordination.settings import *  # noqa: F403

ROOT_URLCONF = "tests.support.error_urls"
