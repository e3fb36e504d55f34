"""The demo's prevention work: meetings with residents through the year, village initiatives, and the registered
crimes per village and month that show which initiative villages stayed crime-free.

Talgar District tells the story: a few meetings a month since January (and two planned for next week), five villages
that adopted a refusal of alcohol at one of them (one also a safe yard), zero crimes after the adoption in all but
one, which registered a crime in April. Every other district holds a meeting or two a month, and its first two
villages adopted an initiative last year. The rows are written in bulk, then the kept tallies are brought up to date
with the services' own functions (the villages' year figures here, the meetings tally by `demo_seed`'s recount);
a second run adds nothing.
"""

from __future__ import annotations

import datetime
import random
import uuid

from django.utils import timezone

from ..choices import MeetingKind, MeetingStatus
from ..clock import LOCAL_TZ
from ..models import (
    District,
    Group,
    Initiative,
    InitiativeKind,
    Meeting,
    MeetingAttendee,
    MeetingEvent,
    Membership,
    SettlementCrimeCount,
    Topic,
)
from ..services.villages import settlement_years_refresh
from .country import SEED, STORY_DISTRICT, STORY_REGION
from .loader import insert_rows

NAMESPACE = uuid.UUID("6f1c1b1e-5d53-4e4b-9a57-2025a1c0ffee")
STORY_INITIATIVE_VILLAGES = 5
# The Talgar initiative village that registered one crime in the spring.
SPRING_CRIME_MONTH = 4
SOURCE = "ЕРДР, аудандық полиция бөлімінің статистикасы"
DECISIONS = (
    "Ауыл тұрғындары ішімдіктен бас тарту туралы шешім қабылдады; той мен жиындарда алкоголь болмайды.",
    "Кешкі уақытта жасөспірімдердің көшеде жүруіне ата-аналар бақылау жасайды.",
    "Мал ұрлығына қарсы түнгі кезекшілік ұйымдастырылады.",
    "Интернет-алаяқтықтан сақтану туралы жадынамалар таратылады.",
)
KINDS = [kind.value for kind in MeetingKind]


def _months(year: int, until: datetime.date) -> list[datetime.date]:
    last = 12 if year < until.year else until.month
    return [datetime.date(year, month, 1) for month in range(1, last + 1)]


def _at(day: datetime.date, hour: int) -> datetime.datetime:
    return datetime.datetime(day.year, day.month, day.day, hour, tzinfo=LOCAL_TZ)


class _Writer:
    """Collects the demo's rows for one bulk write each."""

    def __init__(self, topics: list[Topic], now: datetime.datetime) -> None:
        self.topics, self.now = topics, now
        self.known = set(Meeting.objects.values_list("client_uuid", flat=True))
        self.meetings: list[tuple[Meeting, list[Topic], list[Group], list[int]]] = []
        self._settlements: dict[int, list] = {}
        self._members: dict[tuple[int, ...], list[int]] = {}

    def settlements(self, district: District) -> list:
        if district.pk not in self._settlements:
            self._settlements[district.pk] = list(district.settlements.order_by("code"))
        return self._settlements[district.pk]

    def members(self, groups: list[Group]) -> list[int]:
        """Up to 40 current members of the groups (read once per set of groups: memberships do not change here)."""
        key = tuple(group.pk for group in groups)
        if key not in self._members:
            self._members[key] = list(
                Membership.objects.filter(group__in=groups, left_on=None).values_list("volunteer_id", flat=True)[:40]
            )
        return self._members[key]

    def meeting(
        self, district: District, key: str, *, at: datetime.datetime, groups: list[Group], officer, place=None
    ) -> None:
        client_uuid = uuid.uuid5(NAMESPACE, key)
        if client_uuid in self.known:
            return
        # Each meeting draws from its own stream: the shared one (and so every later meeting) is the same whether
        # or not this one was there already.
        rng = random.Random(key)
        place = place or rng.choice(self.settlements(district))
        held = at <= self.now
        duration = rng.choice((45, 60, 60, 90, 120))
        kind = rng.choice(KINDS)
        residents = rng.randint(15, 160)
        decisions = rng.choice(DECISIONS)
        topics = rng.sample(self.topics, rng.randint(1, 3))
        share = rng.randint(2, 5)
        members = self.members(groups)
        meeting = Meeting(
            client_uuid=client_uuid,
            district=district,
            settlement=place,
            location=place.centre,
            held_at=at,
            duration_minutes=duration,
            kind=kind,
            status=MeetingStatus.HELD if held else MeetingStatus.PLANNED,
            residents=residents if held else None,
            decisions=decisions if held else "",
            created_by=officer,
        )
        attendees = rng.sample(members, min(len(members), share)) if groups else []
        self.meetings.append((meeting, topics, groups, attendees))
        self.known.add(client_uuid)

    def save(self) -> int:
        """Write the collected meetings with their relations and history; returns how many. They go in past the
        services: `demo_seed` counts them into the meetings tally after (tallies_rebuild)."""
        insert_rows(Meeting, [row[0] for row in self.meetings])
        topic_links, group_links, officer_links, attendees, events = [], [], [], [], []
        for meeting, topics, groups, people in self.meetings:
            topic_links += [Meeting.topics.through(meeting_id=meeting.pk, topic_id=t.pk) for t in topics]
            group_links += [Meeting.groups.through(meeting_id=meeting.pk, group_id=g.pk) for g in groups]
            if meeting.created_by_id:
                officer_links.append(Meeting.officers.through(meeting_id=meeting.pk, user_id=meeting.created_by_id))
            minutes = meeting.duration_minutes if meeting.status == MeetingStatus.HELD else 0
            attendees += [MeetingAttendee(meeting=meeting, volunteer_id=pk, minutes=minutes) for pk in people]
            events.append(MeetingEvent(meeting=meeting, kind=meeting.status, by_id=meeting.created_by_id))
        insert_rows(Meeting.topics.through, topic_links)
        insert_rows(Meeting.groups.through, group_links)
        insert_rows(Meeting.officers.through, officer_links)
        insert_rows(MeetingAttendee, attendees)
        insert_rows(MeetingEvent, events)
        return len(self.meetings)


def _initiatives(
    district: District, count: int, *, rng: random.Random, kinds: dict[str, InitiativeKind], by, today: datetime.date
) -> list:
    """The district's first `count` villages adopt an alcohol refusal at their latest held meeting (or in spring of
    last year when none was held there); returns [(initiative, adopted month)]."""
    if Initiative.objects.filter(district=district).exists():
        return []
    made = []
    for index, settlement in enumerate(district.settlements.order_by("code")[:count]):
        meeting = Meeting.objects.filter(settlement=settlement, status=MeetingStatus.HELD).order_by("held_at").first()
        adopted = meeting.held_at.astimezone(LOCAL_TZ).date() if meeting else datetime.date(SEED, 3 + index, 10)
        made.append(
            Initiative(
                settlement=settlement,
                district=district,
                kind=kinds["alcohol_refusal"],
                adopted_on=adopted,
                meeting=meeting,
                created_by=by,
            )
        )
        if index == 1 and "safe_yard" in kinds:
            made.append(
                Initiative(
                    settlement=settlement,
                    district=district,
                    kind=kinds["safe_yard"],
                    adopted_on=min(adopted + datetime.timedelta(days=rng.randint(20, 60)), today),
                    created_by=by,
                )
            )
    Initiative.objects.bulk_create(made)
    return made


def _counts(district: District, today: datetime.date, *, rng: random.Random, initiative_villages: dict, by) -> list:
    """Last year's and this year's monthly counts: an initiative village none this year (but the spring crime) or
    since its adoption, a few before it; the story region's other villages a crime now and then (elsewhere only the
    initiative villages have counts, which keeps the demo quick to seed)."""
    rows = []
    spring_village = next(iter(sorted(initiative_villages)), None) if district.code == STORY_DISTRICT else None
    villages = district.settlements.order_by("code")
    if district.region.code != STORY_REGION:
        villages = villages.filter(pk__in=list(initiative_villages))
    for settlement in villages:
        adopted = initiative_villages.get(settlement.pk)
        for month in _months(today.year - 1, today) + _months(today.year, today):
            if month >= today.replace(day=1):
                continue
            if adopted is not None and (month >= adopted.replace(day=1) or month.year == today.year):
                registered = 1 if (settlement.pk == spring_village and month == datetime.date(today.year, 4, 1)) else 0
            elif adopted is not None:
                registered = rng.choice((0, 1, 1, 2, 3))
            else:
                registered = rng.choice((0, 0, 0, 1, 1, 2))
            rows.append(
                SettlementCrimeCount(
                    settlement=settlement,
                    district=district,
                    month=month,
                    registered=registered,
                    source=SOURCE,
                    recorded_by=by,
                )
            )
    if SettlementCrimeCount.objects.filter(district=district).exists():
        SettlementCrimeCount.objects.bulk_create(rows, ignore_conflicts=True)
    else:
        insert_rows(SettlementCrimeCount, rows)
    return rows


def save_demo_prevention(*, now: datetime.datetime | None = None) -> dict[str, int]:
    """Meetings, initiatives and crime counts for every demo district (missing ones only)."""
    now = now or timezone.now()
    today = now.astimezone(LOCAL_TZ).date()
    rng = random.Random(f"{SEED}-prevention")
    topics = list(Topic.objects.filter(is_active=True))
    kinds = InitiativeKind.objects.in_bulk(field_name="code")
    writer = _Writer(topics, now)
    districts = list(
        District.objects.filter(settlements__isnull=False).select_related("region").distinct().order_by("code")
    )
    officers = {}
    for district in districts:
        officers[district.pk] = officer = district.inspectors.order_by("pk").first()
        groups = list(Group.objects.filter(district=district, is_active=True).order_by("pk"))
        story = district.code == STORY_DISTRICT
        villages = writer.settlements(district)
        for month in _months(today.year, today):
            for n in range(rng.randint(3, 5) if story else rng.randint(0, 2)):
                last_day = today.day if month.month == today.month else 28
                day = month.replace(day=rng.randint(1, max(1, min(28, last_day - 1))))
                taking_part = rng.sample(groups, min(len(groups), 1)) if groups and rng.random() < 0.6 else []
                # Talgar's initiative villages each hold their assembly in one of the first months.
                first = story and n == 0 and month.month <= STORY_INITIATIVE_VILLAGES
                writer.meeting(
                    district,
                    f"{district.code}:{month:%Y-%m}:{n}",
                    at=_at(day, 11),
                    groups=taking_part,
                    officer=officer,
                    place=villages[month.month - 1] if first and len(villages) >= month.month else None,
                )
        if story:
            for n, days in enumerate((3, 6)):
                at = _at(today + datetime.timedelta(days=days), 18)
                writer.meeting(district, f"{district.code}:planned:{n}", at=at, groups=groups[:1], officer=officer)
    meetings = writer.save()
    initiatives, counts, touched = 0, 0, set()
    for district in districts:
        story = district.code == STORY_DISTRICT
        count = STORY_INITIATIVE_VILLAGES if story else 2
        made = _initiatives(district, count, rng=rng, kinds=kinds, by=officers[district.pk], today=today)
        initiatives += len(made)
        adopted = {
            row.settlement_id: row.adopted_on
            for row in Initiative.objects.filter(district=district, kind=kinds["alcohol_refusal"])
        }
        if not made and SettlementCrimeCount.objects.filter(district=district).exists():
            continue
        rows = _counts(district, today, rng=rng, initiative_villages=adopted, by=officers[district.pk])
        counts += len(rows)
        touched |= {(row.settlement_id, year) for row in rows for year in (today.year - 1, today.year)}
        touched |= {(pk, year) for pk in adopted for year in range(SEED, today.year + 1)}
    settlement_years_refresh(touched)
    return {"meetings": meetings, "initiatives": initiatives, "crime_counts": counts}
