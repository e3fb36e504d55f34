"""`seed_demo --reports N`: N extra reports for load, filed on the past year's patrols, written in one go through
`loader`.
"""

from __future__ import annotations

import datetime
import random
import uuid
from collections import defaultdict

from django.db import transaction
from django.utils import timezone

from ..choices import (
    ReportFlag,
    ReportStatus,
)
from ..models import (
    District,
)
from ..services.ledger import ledger_rebuild
from ..services.tallies import tallies_rebuild
from .country import DISTRICTS_FILE, SEED, _read
from .loader import existing_reports, insert_report_history, insert_reports
from .reports import (
    OUTCOME_WEIGHTS,
    OUTSIDE_SHARE,
    QUESTIONS,
    REJECT_REASONS,
    REPORT_NAMESPACE,
    SEASON,
    _category,
    _Country,
    _office_moment,
    _pick,
    _received,
    _words,
)

# `seed_demo --reports N`: many more reports, fast


# Bulk reports are all decided: their statuses (also the kinds of the events that decided them, see _bulk_history),
# filed on shifts that ended at least this long ago.
BULK_STATUSES = {ReportStatus.VERIFIED: 93, ReportStatus.REJECTED: 5, ReportStatus.NEEDS_INFO: 2}
BULK_SETTLED = datetime.timedelta(days=4)


def _bulk_key(index: int) -> uuid.UUID:
    return uuid.uuid5(REPORT_NAMESPACE, f"bulk:{index}")


def _runs(ids: list[int]):
    """Sorted ids in runs of consecutive numbers, as (first, last): a range filter then touches only these rows."""
    ids = sorted(ids)
    start = 0
    for index in range(1, len(ids) + 1):
        if index == len(ids) or ids[index] != ids[index - 1] + 1:
            yield ids[start], ids[index - 1]
            start = index


@transaction.atomic
def demo_bulk_reports(count: int, *, now: datetime.datetime | None = None) -> int:
    """Reports `bulk:0` … `bulk:count-1` (keyed, so the same count again adds nothing): filed on the past year's
    shifts of every demo district by volunteers without a demo login, spread by district rate and season, all
    decided (mostly verified), with their history. Written in bulk, not through the API. Returns how many were new."""
    now = now or timezone.now()
    keys = [_bulk_key(index) for index in range(count)]
    known = existing_reports(keys)
    missing = [key for key in keys if key not in known]
    if not missing:
        return 0
    rows = _read(DISTRICTS_FILE)
    districts = District.objects.in_bulk([row["code"] for row in rows], field_name="code")
    country = _Country(rows=[row for row in rows if row["code"] in districts], districts=districts, users={}, now=now)
    duties = [duty for duty in country.duties if duty.user_id is None and duty.ends_at <= now - BULK_SETTLED]
    if not duties:
        return 0
    per_month: dict[tuple[str, tuple[int, int]], int] = defaultdict(int)
    months = []
    for duty in duties:
        local = timezone.localtime(duty.starts_at)
        months.append((local.year, local.month))
        per_month[(duty.district, months[-1])] += 1
    yearly = {code: country.yearly(code) for code in districts}
    total, cumulative = 0.0, []
    for duty, month in zip(duties, months, strict=True):
        total += yearly[duty.district] * SEASON[month[1] - 1] / per_month[(duty.district, month)]
        cumulative.append(total)
    rng = random.Random(f"{SEED}:bulk:{count}")
    # A zone's reports go to the district of its middle (`district_for_point` per point would be a query each).
    zone_district = {
        zone_id: country.places.district_of(zone.geometry.point_on_surface) for zone_id, zone in country.zones.items()
    }
    inspectors = {districts[code].pk: user_id for code, user_id in country.inspectors.items()}
    statuses, weights = list(BULK_STATUSES), list(BULK_STATUSES.values())
    new = []
    for key, duty in zip(missing, rng.choices(duties, cum_weights=cumulative, k=len(missing)), strict=True):
        start = duty.check_in_at + datetime.timedelta(minutes=10)
        end = min(duty.check_out_at, duty.ends_at) - datetime.timedelta(minutes=5)
        moment = start + (end - start) * rng.random()
        kind, _settlement = country.kind_of(rng, duty.volunteer_id)
        category = _category(rng, kind, moment)
        outcome = _pick(rng, OUTCOME_WEIGHTS[category])
        district_id = zone_district[duty.zone.pk]
        language = country.language(rng, duty.district, kind)
        spot = country.spots[duty.zone.pk]
        point, metres = spot.outside(rng, rng.uniform(220, 800)) if rng.random() < OUTSIDE_SHARE else spot.inside(rng)
        words = _words(
            rng,
            category=category,
            outcome=outcome,
            language=language,
            moment=moment,
            kind=kind,
            district=country.codes.get(district_id, duty.district),
        )
        status = rng.choices(statuses, weights)[0]
        received = _received(rng, moment, now)
        decided = min(_office_moment(rng, received), now - datetime.timedelta(hours=1))
        note = ""
        if status == ReportStatus.REJECTED:
            note = rng.choice(REJECT_REASONS)[language]
        elif status == ReportStatus.NEEDS_INFO:
            note = rng.choice(QUESTIONS)[0][language]
        verified = status == ReportStatus.VERIFIED
        flags = [{"code": ReportFlag.OUTSIDE_ZONE, "distance_m": metres}] if metres > country.tolerance else []
        new.append(
            {
                "client_uuid": key,
                "reporter_id": duty.volunteer_id,
                "shift_id": duty.shift_id,
                "district_id": district_id,
                "group_id": country.group_of.get((duty.volunteer_id, kind)),
                "group_kind": kind if (duty.volunteer_id, kind) in country.group_of else "",
                "occurred_at": moment,
                "location": point,
                "category_id": country.categories[category],
                "outcome_id": country.outcomes[outcome],
                "description": words.description,
                "case_number": words.case_number,
                "third_party_details": words.third_party,
                "status": status,
                "flags": flags,
                "status_note": note,
                "verified_by_id": inspectors.get(district_id) if verified else None,
                "verified_at": decided if verified else None,
                "created_at": received,
                "updated_at": decided,
            }
        )
    insert_reports(new)
    for first, last in _runs(list(existing_reports(missing).values())):
        insert_report_history(first, last)
    tallies_rebuild()
    ledger_rebuild()
    return len(new)
