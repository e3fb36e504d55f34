"""Serializer fields the API's input needs beyond DRF's own."""

from django.core.validators import ProhibitNullCharactersValidator
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
