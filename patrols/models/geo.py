"""The country's map: regions, districts and settlements (SRID 4326, lng/lat)."""

from django.contrib.gis.db import models
from django.utils.translation import gettext_lazy as _

from ..choices import RegionKind
from ..scope import GeoQuerySet
from .base import KatoCoded, NamedInThreeLanguages


class Region(KatoCoded, NamedInThreeLanguages):
    """An oblys or a city of republican significance, coded by ISO 3166-2:KZ."""

    code = models.CharField(_("code"), max_length=12, unique=True)
    kind = models.CharField(_("kind"), max_length=10, choices=RegionKind.choices, default=RegionKind.REGION)
    centre_name_kk = models.CharField(_("administrative centre (Kazakh)"), max_length=100, blank=True)
    centre_name_ru = models.CharField(_("administrative centre (Russian)"), max_length=100, blank=True)
    centre_name_en = models.CharField(_("administrative centre (English)"), max_length=100, blank=True)
    centre = models.PointField(_("centre"), srid=4326)
    boundary = models.MultiPolygonField(_("boundary"), srid=4326, null=True, blank=True)

    objects = GeoQuerySet.as_manager()

    class Meta:
        ordering = ["code"]
        verbose_name = _("region")
        verbose_name_plural = _("regions")


class District(KatoCoded, NamedInThreeLanguages):
    """An audan or a city district: the unit an inspector answers for."""

    region = models.ForeignKey(Region, on_delete=models.PROTECT, related_name="districts", verbose_name=_("region"))
    code = models.CharField(_("code"), max_length=20, unique=True)
    centre = models.PointField(_("centre"), srid=4326)
    boundary = models.MultiPolygonField(_("boundary"), srid=4326, null=True, blank=True)
    checkin_max_distance_m = models.PositiveIntegerField(
        _("farthest check-in from the zone (m)"),
        null=True,
        blank=True,
        help_text=_(
            "Farther from the zone a check-in is refused; nearer but outside it waits for the inspector's "
            "confirmation. Empty: the installation's default."
        ),
    )

    objects = GeoQuerySet.as_manager()

    class Meta:
        ordering = ["region__code", "code"]
        verbose_name = _("district")
        verbose_name_plural = _("districts")


class Settlement(KatoCoded, NamedInThreeLanguages):
    """An auyl or a town inside a district."""

    district = models.ForeignKey(
        District, on_delete=models.PROTECT, related_name="settlements", verbose_name=_("district")
    )
    code = models.CharField(_("code"), max_length=24, unique=True)
    centre = models.PointField(_("centre"), srid=4326)
    boundary = models.MultiPolygonField(_("boundary"), srid=4326, null=True, blank=True)

    objects = GeoQuerySet.as_manager()

    class Meta:
        ordering = ["district__code", "code"]
        verbose_name = _("settlement")
        verbose_name_plural = _("settlements")
