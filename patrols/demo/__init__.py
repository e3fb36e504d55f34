"""The demo country of `manage.py seed_demo` (and the benchmarks' larger one): not business rules, but data drawn to
tell one story with the services' own rules.

    country    the places: districts and settlements from data/*.tsv, boundaries, the seed and the story's district
    people     logins, inspectors, groups of the four kinds and their volunteers
    schedule   zones, weekly series, a year of shifts with attendance, the coming week
    reports    a year of reports in every state, with the flags the live rules give
    inbox      the demo logins' unread notifications
    benchmarks this year's targets, some met, some not
    bulk       `seed_demo --reports N`: extra reports for load
    loader     the one bulk writer (COPY) that the demo and the benchmarks use
    seed       all of it in order, idempotent

The public interface is below; the benchmarks use it, not the modules' private names.
"""

from .bulk import demo_bulk_reports
from .country import SEED, STORY_DISTRICT, STORY_REGION
from .people import DEMO_LOGINS, MEMBERS_PER_GROUP
from .seed import demo_exists, demo_seed

__all__ = [
    "DEMO_LOGINS",
    "MEMBERS_PER_GROUP",
    "SEED",
    "STORY_DISTRICT",
    "STORY_REGION",
    "demo_bulk_reports",
    "demo_exists",
    "demo_seed",
]
