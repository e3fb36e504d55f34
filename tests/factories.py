"""Factories for the domain, so tests say only what matters to their story."""

import datetime

import factory
from django.contrib.gis.geos import MultiPolygon, Point, Polygon
from django.utils import timezone

from patrols.choices import GroupKind, Role, VolunteerStatus
from patrols.clock import LOCAL_TZ
from patrols.models import District, Group, Membership, Region, Settlement, Shift, User, Volunteer, Zone
from patrols.validators import build_iin

PASSWORD = "correct-horse-42"


def square(lng: float, lat: float, half: float = 0.2) -> MultiPolygon:
    """A square boundary around a point, `half` degrees each way."""
    ring = (
        (lng - half, lat - half),
        (lng + half, lat - half),
        (lng + half, lat + half),
        (lng - half, lat + half),
        (lng - half, lat - half),
    )
    return MultiPolygon(Polygon(ring), srid=4326)


class DistrictFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = District
        django_get_or_create = ("code",)

    region = factory.LazyFunction(lambda: Region.objects.get(code="KZ-19"))
    code = factory.Sequence(lambda n: f"TEST-D{n:03d}")
    name_kk = factory.Sequence(lambda n: f"Сынақ ауданы {n}")
    name_ru = factory.Sequence(lambda n: f"Тестовый район {n}")
    name_en = factory.Sequence(lambda n: f"Test District {n}")
    centre = factory.LazyAttribute(lambda o: Point(o.region.centre.x, o.region.centre.y, srid=4326))
    boundary = factory.LazyAttribute(lambda o: square(o.centre.x, o.centre.y))


class SettlementFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Settlement

    district = factory.SubFactory(DistrictFactory)
    code = factory.Sequence(lambda n: f"TEST-S{n:04d}")
    name_kk = factory.Sequence(lambda n: f"Ауыл {n}")
    name_ru = factory.Sequence(lambda n: f"Аул {n}")
    name_en = factory.Sequence(lambda n: f"Auyl {n}")
    centre = factory.LazyAttribute(lambda o: o.district.centre)


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    first_name = "Айгерім"
    last_name = "Сейітова"
    role = Role.VOLUNTEER
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def districts(self, create, extracted, **kwargs):
        if create and extracted:
            self.inspector_districts.set(extracted)
        if create:
            self.save()


class VolunteerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Volunteer

    district = factory.SubFactory(DistrictFactory)
    last_name = "Нұрланов"
    first_name = "Ерлан"
    patronymic = "Серікұлы"
    birth_date = datetime.date(1995, 4, 12)
    iin = factory.Sequence(lambda n: build_iin(datetime.date(1995, 4, 12), female=False, serial=n * 7 + 1))
    phone = factory.Sequence(lambda n: f"+7701{n % 10_000_000:07d}")
    status = VolunteerStatus.REGISTERED
    applied_on = datetime.date(2024, 1, 15)
    vetted_on = datetime.date(2024, 2, 1)
    registration_number = factory.Sequence(lambda n: f"REG-{n:05d}")
    registered_on = datetime.date(2024, 2, 10)
    consent_at = factory.LazyFunction(timezone.now)
    consent_version = "2025-1"


class GroupFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Group

    name = factory.Sequence(lambda n: f"Қоғамдық көмекшілер №{n}")
    kind = GroupKind.PUBLIC_ASSISTANTS
    district = factory.SubFactory(DistrictFactory)


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    volunteer = factory.SubFactory(VolunteerFactory)
    group = factory.SubFactory(GroupFactory)
    joined_on = datetime.date(2024, 3, 1)


def square_polygon(lng: float, lat: float, half: float = 0.01) -> Polygon:
    return square(lng, lat, half)[0]


class ZoneFactory(factory.django.DjangoModelFactory):
    """A square patrol zone of about 2 km around the district's centre."""

    class Meta:
        model = Zone

    district = factory.SubFactory(DistrictFactory)
    name = factory.Sequence(lambda n: f"Орталық аймақ {n}")
    kind = "area"
    geometry = factory.LazyAttribute(lambda o: square_polygon(o.district.centre.x, o.district.centre.y))


def local(day: datetime.date, hour: int, minute: int = 0) -> datetime.datetime:
    """An aware datetime in Asia/Almaty."""
    return datetime.datetime(day.year, day.month, day.day, hour, minute, tzinfo=LOCAL_TZ)


class ShiftFactory(factory.django.DjangoModelFactory):
    """Tomorrow evening 20:00–02:00 (crossing midnight), 2 to 4 volunteers."""

    class Meta:
        model = Shift
        skip_postgeneration_save = True

    zone = factory.SubFactory(ZoneFactory)
    district = factory.LazyAttribute(lambda o: o.zone.district)
    starts_at = factory.LazyFunction(lambda: local(timezone.localdate() + datetime.timedelta(days=1), 20))
    ends_at = factory.LazyAttribute(lambda o: o.starts_at + datetime.timedelta(hours=6))
    min_volunteers = 2
    max_volunteers = 4
    inspector = factory.SubFactory(UserFactory, role=Role.INSPECTOR)

    @factory.post_generation
    def groups(self, create, extracted, **kwargs):
        if create and extracted:
            self.groups.set(extracted)
