"""The figures the programme is judged by: yearly benchmarks and the kept counts of verified reports and meetings.

Dashboards never count reports. They read the tallies below, which `services/figures.py` changes in the same
transaction as every report status change (rule 2 of DESIGN.md: only verified reports count, a duplicate once).
Each tally is one grain of the same numbers, chosen so that a dashboard reads a few thousand rows at most,
however many reports there are:

- `ReportTally`: day x district x group x category x outcome, the full grain (district pages, groups, exports);
- `DistrictMonthTally`: month x district x group kind x outcome (a region's districts, a district's headline);
- `RegionMonthTally`: month x region x group kind x outcome (the national page and its regions);
- `CategoryYearTally`: year x district x category x outcome (the "by category" tables);
- `HoursTally`: month x district, the patrol minutes that count (`services/attendance.py` keeps them).
- `MeetingTally`: month x district, held meetings and residents reached (`services/meetings.py` keeps them);
- `SettlementYearTally`: year x settlement, an active initiative, the months with a crime count and the crimes.
"""

from django.conf import settings
from django.contrib.gis.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from ..choices import BenchmarkLevel, GroupKind
from ..scope import BenchmarkQuerySet
from .geo import District, Region
from .people import Group
from .reports import Category, Outcome


class Benchmark(models.Model):
    """The targets for one year and one scope: offenses prevented and crimes solved with volunteers' help, and the
    prevention work's meetings, initiative settlements and crime-free ones among them (optional)."""

    year = models.PositiveSmallIntegerField(_("year"))
    level = models.CharField(_("scope"), max_length=10, choices=BenchmarkLevel.choices)
    region = models.ForeignKey(
        Region, on_delete=models.CASCADE, null=True, blank=True, related_name="benchmarks", verbose_name=_("region")
    )
    district = models.ForeignKey(
        District,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="benchmarks",
        verbose_name=_("district"),
    )
    prevented_target = models.PositiveIntegerField(_("offenses prevented: target"))
    solved_target = models.PositiveIntegerField(_("crimes solved: target"))
    meetings_target = models.PositiveIntegerField(_("meetings with residents held: target"), null=True, blank=True)
    initiative_target = models.PositiveIntegerField(_("settlements with an initiative: target"), null=True, blank=True)
    crime_free_target = models.PositiveIntegerField(
        _("crime-free initiative settlements: target"), null=True, blank=True
    )
    note = models.CharField(_("source"), max_length=200, blank=True, help_text=_("Where the figures come from."))
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("updated by"),
    )

    objects = BenchmarkQuerySet.as_manager()

    class Meta:
        ordering = ["-year", "level", "region__code", "district__code"]
        verbose_name = _("benchmark")
        verbose_name_plural = _("benchmarks")
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(level=BenchmarkLevel.NATIONAL, region__isnull=True, district__isnull=True)
                    | Q(level=BenchmarkLevel.REGION, region__isnull=False, district__isnull=True)
                    | Q(level=BenchmarkLevel.DISTRICT, region__isnull=True, district__isnull=False)
                ),
                name="benchmark_scope_matches_level",
                violation_error_message=_("Choose a region for a regional target and a district for a district one."),
            ),
            models.UniqueConstraint(
                fields=["year"],
                condition=Q(level=BenchmarkLevel.NATIONAL),
                name="one_national_benchmark_a_year",
                violation_error_message=_("This year already has a national target."),
            ),
            models.UniqueConstraint(
                fields=["year", "region"],
                condition=Q(level=BenchmarkLevel.REGION),
                name="one_region_benchmark_a_year",
                violation_error_message=_("This region already has a target for this year."),
            ),
            models.UniqueConstraint(
                fields=["year", "district"],
                condition=Q(level=BenchmarkLevel.DISTRICT),
                name="one_district_benchmark_a_year",
                violation_error_message=_("This district already has a target for this year."),
            ),
        ]

    def __str__(self) -> str:
        area = self.district or self.region or _("Kazakhstan")
        return f"{self.year} · {area}: {self.prevented_target} / {self.solved_target}"


class _Tally(models.Model):
    count = models.IntegerField(_("verified reports"), default=0)

    class Meta:
        abstract = True


class ReportTally(_Tally):
    """Verified reports per day (Asia/Almaty), district, group, category and outcome."""

    day = models.DateField(_("day"))
    year = models.PositiveSmallIntegerField(_("year"))
    month = models.PositiveSmallIntegerField(_("month"))
    region = models.ForeignKey(Region, on_delete=models.CASCADE, related_name="+")
    district = models.ForeignKey(District, on_delete=models.CASCADE, related_name="+")
    group = models.ForeignKey(Group, on_delete=models.CASCADE, null=True, related_name="+")
    group_kind = models.CharField(_("kind of group"), max_length=20, choices=GroupKind.choices, blank=True)
    category = models.ForeignKey(Category, on_delete=models.CASCADE, related_name="+")
    outcome = models.ForeignKey(Outcome, on_delete=models.CASCADE, related_name="+")

    class Meta:
        verbose_name = _("daily tally")
        verbose_name_plural = _("daily tallies")
        constraints = [
            models.UniqueConstraint(
                fields=["day", "district", "group", "group_kind", "category", "outcome"],
                name="report_tally_key",
                nulls_distinct=False,
            )
        ]
        indexes = [
            models.Index(fields=["district", "year"]),
            models.Index(fields=["region", "year"]),
        ]


class DistrictMonthTally(_Tally):
    """Verified reports per month, district, kind of group and outcome."""

    year = models.PositiveSmallIntegerField(_("year"))
    month = models.PositiveSmallIntegerField(_("month"))
    region = models.ForeignKey(Region, on_delete=models.CASCADE, related_name="+")
    district = models.ForeignKey(District, on_delete=models.CASCADE, related_name="+")
    group_kind = models.CharField(_("kind of group"), max_length=20, choices=GroupKind.choices, blank=True)
    outcome = models.ForeignKey(Outcome, on_delete=models.CASCADE, related_name="+")

    class Meta:
        verbose_name = _("monthly district tally")
        verbose_name_plural = _("monthly district tallies")
        constraints = [
            models.UniqueConstraint(
                fields=["year", "month", "district", "group_kind", "outcome"], name="district_month_tally_key"
            )
        ]
        indexes = [models.Index(fields=["region", "year"])]


class RegionMonthTally(_Tally):
    """Verified reports per month, region, kind of group and outcome."""

    year = models.PositiveSmallIntegerField(_("year"))
    month = models.PositiveSmallIntegerField(_("month"))
    region = models.ForeignKey(Region, on_delete=models.CASCADE, related_name="+")
    group_kind = models.CharField(_("kind of group"), max_length=20, choices=GroupKind.choices, blank=True)
    outcome = models.ForeignKey(Outcome, on_delete=models.CASCADE, related_name="+")

    class Meta:
        verbose_name = _("monthly region tally")
        verbose_name_plural = _("monthly region tallies")
        constraints = [
            models.UniqueConstraint(
                fields=["year", "month", "region", "group_kind", "outcome"], name="region_month_tally_key"
            )
        ]


class CategoryYearTally(_Tally):
    """Verified reports per year, district, category and outcome."""

    year = models.PositiveSmallIntegerField(_("year"))
    region = models.ForeignKey(Region, on_delete=models.CASCADE, related_name="+")
    district = models.ForeignKey(District, on_delete=models.CASCADE, related_name="+")
    category = models.ForeignKey(Category, on_delete=models.CASCADE, related_name="+")
    outcome = models.ForeignKey(Outcome, on_delete=models.CASCADE, related_name="+")

    class Meta:
        verbose_name = _("yearly category tally")
        verbose_name_plural = _("yearly category tallies")
        constraints = [
            models.UniqueConstraint(fields=["year", "district", "category", "outcome"], name="category_year_tally_key")
        ]
        indexes = [models.Index(fields=["year", "region"])]


class HoursTally(models.Model):
    """Patrol minutes that count, per month (of the shift's start, Asia/Almaty) and district."""

    year = models.PositiveSmallIntegerField(_("year"))
    month = models.PositiveSmallIntegerField(_("month"))
    region = models.ForeignKey(Region, on_delete=models.CASCADE, related_name="+")
    district = models.ForeignKey(District, on_delete=models.CASCADE, related_name="+")
    minutes = models.BigIntegerField(_("patrol minutes"), default=0)

    class Meta:
        verbose_name = _("monthly hours tally")
        verbose_name_plural = _("monthly hours tallies")
        constraints = [models.UniqueConstraint(fields=["year", "month", "district"], name="hours_tally_key")]
        indexes = [models.Index(fields=["region", "year"])]


class MeetingTally(models.Model):
    """Held meetings with residents and the residents they reached, per month (Asia/Almaty) and district."""

    year = models.PositiveSmallIntegerField(_("year"))
    month = models.PositiveSmallIntegerField(_("month"))
    region = models.ForeignKey(Region, on_delete=models.CASCADE, related_name="+")
    district = models.ForeignKey(District, on_delete=models.CASCADE, related_name="+")
    meetings = models.IntegerField(_("meetings held"), default=0)
    residents = models.BigIntegerField(_("residents reached"), default=0)

    class Meta:
        verbose_name = _("monthly meetings tally")
        verbose_name_plural = _("monthly meetings tallies")
        constraints = [models.UniqueConstraint(fields=["year", "month", "district"], name="meeting_tally_key")]
        indexes = [models.Index(fields=["region", "year"])]


class SettlementYearTally(models.Model):
    """Per settlement and year: whether an initiative was active in it, which months have a registered-crime count
    (`months_recorded`, bit 0 for January) and the crimes registered in them (`services/villages.py` keeps it)."""

    year = models.PositiveSmallIntegerField(_("year"))
    region = models.ForeignKey(Region, on_delete=models.CASCADE, related_name="+")
    district = models.ForeignKey(District, on_delete=models.CASCADE, related_name="+")
    settlement = models.ForeignKey("patrols.Settlement", on_delete=models.CASCADE, related_name="+")
    initiative = models.BooleanField(_("with an active initiative"), default=False)
    months_recorded = models.PositiveIntegerField(_("months with a count"), default=0)
    crimes = models.PositiveIntegerField(_("crimes registered"), default=0)

    class Meta:
        verbose_name = _("settlement's year tally")
        verbose_name_plural = _("settlements' year tallies")
        constraints = [models.UniqueConstraint(fields=["year", "settlement"], name="settlement_year_tally_key")]
        indexes = [models.Index(fields=["year", "region"]), models.Index(fields=["year", "district"])]
