"""Many volunteers signed up for shifts starting soon, written in bulk (for the 1,000 and 10,000 reminder runs)."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.utils import timezone

from patrols.choices import AssignmentStatus, Role, VolunteerStatus
from patrols.models import Assignment, District, Group, Membership, NotificationPreference, User, Volunteer, Zone
from patrols.validators import build_iin
from tests.factories import DistrictFactory, GroupFactory, MembershipFactory, ShiftFactory, UserFactory, ZoneFactory

LANGUAGES = ("kk", "ru", "en")


@dataclass
class Area:
    district: District
    inspector: User
    group: Group
    zone: Zone


def patrol_area() -> Area:
    """A district with its inspector, one group and one zone (made with the factories)."""
    district = DistrictFactory()
    inspector = UserFactory(role=Role.INSPECTOR, districts=[district], email="inspector@example.kz")
    group = GroupFactory(district=district, inspector=inspector)
    return Area(district=district, inspector=inspector, group=group, zone=ZoneFactory(district=district))


def _unique_iins(count: int, *, birth_year: int) -> list[tuple[datetime.date, str]]:
    result, seen, serial = [], set(), 0
    day = 0
    while len(result) < count:
        born = datetime.date(birth_year, 1, 1) + datetime.timedelta(days=day)
        iin = build_iin(born, female=bool(serial % 2), serial=(serial % 900) * 10 + 1)
        if iin not in seen:
            seen.add(iin)
            result.append((born, iin))
        serial += 1
        if serial % 900 == 0:
            day += 1
    return result


def signed_up(
    count: int,
    *,
    area: Area,
    starts_at: datetime.datetime,
    tag: str = "v",
    per_shift: int = 250,
    sms: bool = False,
    birth_year: int = 1990,
) -> list[Assignment]:
    """`count` registered volunteers with email addresses (languages kk/ru/en in turn), each signed up for one of
    ceil(count / per_shift) shifts starting at `starts_at`; SMS off unless `sms`, so every message is an email."""
    shifts = [
        ShiftFactory(
            zone=area.zone,
            inspector=area.inspector,
            groups=[area.group],
            starts_at=starts_at,
            ends_at=starts_at + datetime.timedelta(hours=4),
            min_volunteers=1,
            max_volunteers=per_shift,
        )
        for _ in range(-(-count // per_shift))
    ]
    users = User.objects.bulk_create(
        [
            User(
                username=f"{tag}{i}",
                email=f"{tag}{i}@example.kz",
                first_name="Айгерім",
                last_name="Сейітова",
                role=Role.VOLUNTEER,
                language=LANGUAGES[i % len(LANGUAGES)],
                password="!",
            )
            for i in range(count)
        ],
        batch_size=2000,
    )
    NotificationPreference.objects.bulk_create(
        [NotificationPreference(user=user, sms_enabled=sms) for user in users], batch_size=2000
    )
    now = timezone.now()
    volunteers = Volunteer.objects.bulk_create(
        [
            Volunteer(
                user=user,
                district=area.district,
                last_name="Нұрланов",
                first_name=f"Ерлан {i}",
                birth_date=born,
                iin=iin,
                phone=f"+7702{i:07d}",
                status=VolunteerStatus.REGISTERED,
                applied_on=datetime.date(2024, 1, 15),
                vetted_on=datetime.date(2024, 2, 1),
                registration_number=f"{tag.upper()}-{i:05d}",
                registered_on=datetime.date(2024, 2, 10),
                consent_at=now,
                consent_version="2025-1",
            )
            for i, (user, (born, iin)) in enumerate(zip(users, _unique_iins(count, birth_year=birth_year), strict=True))
        ],
        batch_size=2000,
    )
    Membership.objects.bulk_create(
        [MembershipFactory.build(volunteer=volunteer, group=area.group) for volunteer in volunteers], batch_size=2000
    )
    return Assignment.objects.bulk_create(
        [
            Assignment(
                shift=shifts[i // per_shift],
                volunteer=volunteer,
                status=AssignmentStatus.SIGNED_UP,
                signed_up_by=volunteer.user,
            )
            for i, volunteer in enumerate(volunteers)
        ],
        batch_size=2000,
    )
