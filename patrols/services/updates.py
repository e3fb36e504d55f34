"""The one way a service applies a partial update to a model (like the HackSoft styleguide's `model_update`)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Model
from django.utils.translation import gettext as _


def only_fields(changes: dict[str, Any], allowed: Iterable[str]) -> None:
    """Refuse changes to any field but the `allowed` ones, naming them."""
    unknown = set(changes) - set(allowed)
    if unknown:
        raise ValidationError(_("These fields cannot be changed: %(fields)s") % {"fields": ", ".join(sorted(unknown))})


def model_update(instance: Model, *, allowed: Iterable[str], changes: dict[str, Any]) -> dict[str, Any]:
    """Set the `changes` on `instance` (strings stripped), refusing any field not `allowed`.

    Returns {field: value before} for the fields whose value really changed, for the history; nothing is saved (the
    service checks the whole object first, then saves it)."""
    only_fields(changes, allowed)
    before = {}
    for field, value in changes.items():
        value = value.strip() if isinstance(value, str) else value
        old = getattr(instance, field)
        if old != value:
            before[field] = old
        setattr(instance, field, value)
    return before
