"""Reference lists that nearly every report reads and that change a few times a year: the categories, the outcomes
and the districts' codes. They are kept in the cache (Redis, shared by every web process) and dropped whenever one
of their rows is saved or deleted (`patrols.signals`), after the change is committed; an update that bypasses
`save()` (a queryset `update`) is seen within `REFERENCE_SECONDS`. With the cache away they are read from the
database each time, as before.
"""

from __future__ import annotations

from django.core.cache import cache

from ..models import Category, District, Outcome

# The longest a change made without `save()` can go unseen.
REFERENCE_SECONDS = 600
CATEGORIES_KEY = "reference:categories:v1"
OUTCOMES_KEY = "reference:outcomes:v1"
DISTRICT_CODES_KEY = "reference:district-codes:v1"
KEYS = (CATEGORIES_KEY, OUTCOMES_KEY, DISTRICT_CODES_KEY)


def categories() -> dict[str, Category]:
    """Every category (active or not) by code."""
    return cache.get_or_set(
        CATEGORIES_KEY, lambda: {row.code: row for row in Category.objects.all()}, REFERENCE_SECONDS
    )


def outcomes() -> dict[str, Outcome]:
    """Every outcome by code."""
    return cache.get_or_set(OUTCOMES_KEY, lambda: {row.code: row for row in Outcome.objects.all()}, REFERENCE_SECONDS)


def district_codes() -> dict[int, str]:
    """Every district's code by id."""
    return cache.get_or_set(
        DISTRICT_CODES_KEY, lambda: dict(District.objects.values_list("pk", "code")), REFERENCE_SECONDS
    )


def category_codes() -> dict[int, str]:
    return {row.pk: code for code, row in categories().items()}


def outcome_codes() -> dict[int, str]:
    return {row.pk: code for code, row in outcomes().items()}


def reference_changed() -> None:
    """Drop the cached lists (once the change is committed, so no request refills them with the old rows)."""
    cache.delete_many(KEYS)
