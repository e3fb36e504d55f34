"""The police duty units the app reaches when the shift's own people do not answer or a report cannot wait: each
district's duty unit (tier 2 of an SOS) and each region's operational control centre, ЖБО (tier 3)."""

import secrets

from django.contrib.gis.db import models
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from ..choices import DutyUnitLevel
from ..validators import normalise_phone
from .geo import District, Region


def new_secret() -> str:
    """The key a unit's webhook messages are signed with (HMAC-SHA256), and its answers checked by."""
    return secrets.token_urlsafe(32)


class DutyUnit(models.Model):
    """A duty unit with the ways to reach it: phones (SMS), an email address, a webhook of its own system."""

    level = models.CharField(_("level"), max_length=10, choices=DutyUnitLevel.choices)
    district = models.OneToOneField(
        District,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="duty_unit",
        verbose_name=_("district"),
    )
    region = models.ForeignKey(Region, on_delete=models.CASCADE, related_name="duty_units", verbose_name=_("region"))
    name = models.CharField(_("name"), max_length=200)
    phones = models.JSONField(
        _("phone numbers"), default=list, blank=True, help_text=_("For SMS, in the form +77XXXXXXXXX.")
    )
    email = models.EmailField(_("email"), blank=True)
    webhook_url = models.URLField(_("webhook address"), blank=True)
    secret = models.CharField(_("signing key"), max_length=64, default=new_secret, editable=False)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["region__code", "level", "name"]
        verbose_name = _("duty unit")
        verbose_name_plural = _("duty units")
        constraints = [
            models.CheckConstraint(
                condition=(Q(level=DutyUnitLevel.DISTRICT) & Q(district__isnull=False))
                | (Q(level=DutyUnitLevel.REGION) & Q(district__isnull=True)),
                name="duty_unit_district_only_at_district_level",
            ),
            models.UniqueConstraint(
                fields=["region"],
                condition=Q(level=DutyUnitLevel.REGION),
                name="one_operational_centre_per_region",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        try:
            self.phones = [normalise_phone(phone) for phone in self.phones or []]
        except ValidationError as error:
            raise ValidationError({"phones": error.messages}) from error
        if self.district_id and self.district.region_id != self.region_id:
            raise ValidationError({"district": _("The district is not in the unit's region.")})
