"""Serializer fields the API needs beyond DRF's own, and the plain-function output of its long lists."""

import datetime

from django.core.validators import ProhibitNullCharactersValidator
from django.db import models
from django.utils import timezone
from rest_framework import serializers


class SlugRelatedField(serializers.SlugRelatedField):
    """DRF's field for a relation named by a code or username, refusing a NUL character with a clear 400.

    DRF's text fields refuse NUL already; this one would look it up, and PostgreSQL cannot compare text with it (a 500).
    """

    def to_internal_value(self, data):
        if isinstance(data, str) and "\x00" in data:
            raise serializers.ValidationError(
                ProhibitNullCharactersValidator.message, code="null_characters_not_allowed"
            )
        return super().to_internal_value(data)


def moment(value: datetime.datetime | None) -> str | None:
    """A datetime as DRF's DateTimeField writes it: ISO 8601 in the current time zone, `Z` for UTC."""
    if value is None:
        return None
    text = value.astimezone(timezone.get_current_timezone()).isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


class RowListSerializer(serializers.ListSerializer):
    """A read-only list written row by row by the child serializer's `row(obj)`, a plain function of the object.

    DRF builds a list's fields per request and runs each through its field objects for every row; for the long lists
    phones read often that costs more than the query. The child keeps its declared fields for the schema and for
    single objects; `row` must give the same dictionary (tests compare the two for every list that uses this)."""

    def to_representation(self, data):
        rows = data.all() if isinstance(data, models.manager.BaseManager) else data
        row = self.child.row
        return [row(item) for item in rows]


class ReferenceSlugField(SlugRelatedField):
    """A relation to a reference list (categories, outcomes) named by its code, found in the cached list
    (`selectors.reference`); anything that is not a known code goes the ordinary way, with DRF's errors."""

    def __init__(self, *, cached, **kwargs):
        self.cached = cached
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        if isinstance(data, str):
            found = self.cached().get(data)
            if found is not None:
                return found
        return super().to_internal_value(data)
