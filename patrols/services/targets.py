"""Setting the year's targets: the national one and every region's, on one page, all or nothing.

The dashboards read the targets through `figures`; each figure is shown against the target of its own scope, and the
national and region pages say whether the targets one level below add up (`figures.targets_check`).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from ..choices import BenchmarkLevel, Role
from ..models import Benchmark, Region, User
from ..scope import role_of
from ..validators import FIRST_YEAR, LAST_YEAR


@dataclass(frozen=True)
class TargetPair:
    """The two report targets of one scope (None for both means "no target"), and the prevention work's, each
    optional: meetings held, settlements with an initiative, crime-free ones among them."""

    prevented: int | None
    solved: int | None
    meetings: int | None = None
    initiative: int | None = None
    crime_free: int | None = None

    @property
    def empty(self) -> bool:
        return self.prevented is None and self.solved is None

    @property
    def prevention(self) -> tuple[int | None, int | None, int | None]:
        return self.meetings, self.initiative, self.crime_free


PREVENTION = ("meetings", "initiative", "crime_free")


def _pair_of(row: Benchmark) -> TargetPair:
    return TargetPair(
        row.prevented_target, row.solved_target, row.meetings_target, row.initiative_target, row.crime_free_target
    )


def year_targets(year: int) -> tuple[TargetPair, dict[int, TargetPair]]:
    """The national target and each region's (by region id) for the year, as they stand."""
    national, regions = TargetPair(None, None), {}
    for row in Benchmark.objects.filter(year=year, level__in=[BenchmarkLevel.NATIONAL, BenchmarkLevel.REGION]):
        pair = _pair_of(row)
        if row.level == BenchmarkLevel.NATIONAL:
            national = pair
        else:
            regions[row.region_id] = pair
    return national, regions


def _check(pair: TargetPair, prefix: str, errors: dict[str, str]) -> None:
    for name, value in zip(PREVENTION, pair.prevention, strict=True):
        if value is not None and value < 0:
            errors[f"{prefix}{name}"] = _("A target cannot be negative.")
        elif value is not None and pair.empty:
            errors[f"{prefix}{name}"] = _("Set the area's report targets too: the prevention targets go with them.")
    if pair.initiative is not None and pair.crime_free is not None and pair.crime_free > pair.initiative:
        errors[f"{prefix}crime_free"] = _("The crime-free villages are among those with an initiative: no more.")
    if pair.empty:
        return
    for name, value in (("prevented", pair.prevented), ("solved", pair.solved)):
        if value is None:
            errors[f"{prefix}{name}"] = _("Give both targets, or leave both empty for no target.")
        elif value < 0:
            errors[f"{prefix}{name}"] = _("A target cannot be negative.")


def _put(year: int, level: str, region: Region | None, pair: TargetPair, by: User) -> bool:
    """Create, change or remove one target; True when something changed."""
    current = Benchmark.objects.filter(year=year, level=level, region=region, district=None).first()
    if pair.empty:
        if current is None:
            return False
        current.delete()
        return True
    if current is not None and _pair_of(current) == pair:
        return False
    target = current or Benchmark(year=year, level=level, region=region)
    target.prevented_target, target.solved_target, target.updated_by = pair.prevented, pair.solved, by
    target.meetings_target, target.initiative_target, target.crime_free_target = pair.prevention
    target.full_clean()
    target.save()
    return True


@transaction.atomic
def year_targets_set(*, year: int, by: User, national: TargetPair, regions: dict[int, TargetPair]) -> int:
    """Set the national target and the regions' targets of a year at once; an error anywhere changes nothing.

    Returns how many targets changed. Errors are keyed `national_prevented`, `<region id>_solved` and so on."""
    if role_of(by) != Role.ADMIN:
        raise PermissionDenied(_("Only administrators set the targets."))
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise ValidationError(
            {"year": _("Give a year from %(first)d to %(last)d.") % {"first": FIRST_YEAR, "last": LAST_YEAR}}
        )
    errors: dict[str, str] = {}
    _check(national, "national_", errors)
    known = Region.objects.in_bulk(list(regions))
    for region_id, pair in regions.items():
        if region_id not in known:
            errors[f"{region_id}_prevented"] = _("There is no such region.")
        else:
            _check(pair, f"{region_id}_", errors)
    if errors:
        raise ValidationError(errors)
    changed = int(_put(year, BenchmarkLevel.NATIONAL, None, national, by))
    for region_id, pair in regions.items():
        changed += _put(year, BenchmarkLevel.REGION, known[region_id], pair, by)
    return changed
