"""The prevention work at national scale for `make bench BENCH=dashboard`: the country's districts get villages up
to 6,000 settlements, 100,000 held meetings through this year, an initiative in one village of ten, and a registered
-crime count for every settlement and every month of the last twelve. Written in bulk (not through the API); the
kept tallies are then recounted by `tallies_rebuild()`, as an operator would after an import."""

from __future__ import annotations

import datetime
import random
import uuid

SETTLEMENTS = 6_000
MEETINGS = 100_000
INITIATIVE_SHARE = 0.1
BATCH = 5_000


def _months_back(today: datetime.date, count: int) -> list[datetime.date]:
    index = today.year * 12 + today.month - 1
    return [datetime.date((index - back) // 12, (index - back) % 12 + 1, 1) for back in range(1, count + 1)]


def load_prevention(*, now: datetime.datetime, seed: str = "bench:prevention") -> dict[str, int]:
    """Write the prevention work; returns how many rows of each kind."""
    from django.contrib.gis.geos import Point

    from patrols.choices import MeetingKind, MeetingStatus
    from patrols.clock import LOCAL_TZ
    from patrols.models import District, Initiative, InitiativeKind, Meeting, Settlement, SettlementCrimeCount

    rng = random.Random(seed)
    today = now.astimezone(LOCAL_TZ).date()
    districts = list(District.objects.order_by("code").only("pk", "code", "centre"))
    have = Settlement.objects.count()
    new = []
    for index in range(max(0, SETTLEMENTS - have)):
        district = districts[index % len(districts)]
        centre = Point(
            district.centre.x + rng.uniform(-0.3, 0.3), district.centre.y + rng.uniform(-0.2, 0.2), srid=4326
        )
        new.append(
            Settlement(
                district=district,
                code=f"{district.code}-B{index:05d}",
                name_kk=f"Ауыл {index}",
                name_ru=f"Аул {index}",
                name_en=f"Auyl {index}",
                centre=centre,
            )
        )
    Settlement.objects.bulk_create(new, batch_size=BATCH)
    places = list(Settlement.objects.values_list("pk", "district_id", "centre"))
    start = datetime.datetime(today.year, 1, 1, 9, tzinfo=LOCAL_TZ)
    span = max(1, int((now - start).total_seconds()))
    kinds = [kind.value for kind in MeetingKind]
    meetings = []
    for _ in range(MEETINGS):
        pk, district_id, centre = rng.choice(places)
        meetings.append(
            Meeting(
                client_uuid=uuid.UUID(int=rng.getrandbits(128)),
                district_id=district_id,
                settlement_id=pk,
                location=centre,
                held_at=start + datetime.timedelta(seconds=rng.randrange(span)),
                kind=rng.choice(kinds),
                status=MeetingStatus.HELD,
                residents=rng.randint(10, 200),
            )
        )
        if len(meetings) == BATCH:
            Meeting.objects.bulk_create(meetings)
            meetings = []
    Meeting.objects.bulk_create(meetings)
    refusal = InitiativeKind.objects.get(code="alcohol_refusal")
    chosen = rng.sample(places, int(len(places) * INITIATIVE_SHARE))
    Initiative.objects.bulk_create(
        [
            Initiative(
                settlement_id=pk,
                district_id=district_id,
                kind=refusal,
                adopted_on=today - datetime.timedelta(days=rng.randint(30, 700)),
            )
            for pk, district_id, _centre in chosen
        ],
        batch_size=BATCH,
    )
    with_initiative = {pk for pk, _district, _centre in chosen}
    counts = []
    months = _months_back(today, 12)
    for pk, district_id, _centre in places:
        for month in months:
            registered = 0 if pk in with_initiative and rng.random() < 0.95 else rng.choice((0, 0, 1, 2))
            counts.append(
                SettlementCrimeCount(settlement_id=pk, district_id=district_id, month=month, registered=registered)
            )
        if len(counts) >= BATCH:
            SettlementCrimeCount.objects.bulk_create(counts)
            counts = []
    SettlementCrimeCount.objects.bulk_create(counts)
    return {
        "settlements": len(places),
        "meetings": MEETINGS,
        "initiatives": len(chosen),
        "crime_counts": len(places) * len(months),
    }


def direct_meetings(year: int, *, region: str | None = None) -> int:
    """Held meetings of the Almaty year, counted straight from the meetings."""
    from patrols.choices import MeetingStatus
    from patrols.clock import LOCAL_TZ
    from patrols.models import Meeting

    start = datetime.datetime(year, 1, 1, tzinfo=LOCAL_TZ)
    meetings = Meeting.objects.filter(
        status=MeetingStatus.HELD, held_at__gte=start, held_at__lt=start.replace(year=year + 1)
    )
    if region:
        meetings = meetings.filter(district__region__code=region)
    return meetings.count()
