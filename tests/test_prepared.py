"""A prepared query answers what its queryset answers, builds its SQL once, and refuses a builder it cannot prepare."""

import datetime
import uuid

import pytest
from django.contrib.gis.geos import GEOSGeometry, Point
from django.core.exceptions import ImproperlyConfigured
from django.db import connection
from django.forms.models import model_to_dict
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from patrols.models import Assignment, District, Membership, Shift, ShiftEvent, Volunteer
from patrols.prepared import PreparedQuery
from tests.factories import VolunteerFactory


def _rows(objects) -> list[dict]:
    return [
        model_to_dict(obj, exclude=["boundary", "centre", "geometry", "groups", "user_permissions"]) for obj in objects
    ]


def test_a_volunteer_with_user_and_district_reads_as_the_queryset_reads_it_in_one_query(volunteer, other_volunteer):
    built = []

    def build(user_id):
        built.append(user_id)
        return Volunteer.objects.filter(user_id=user_id).select_related("user", "district").order_by("pk")

    prepared = PreparedQuery(build, user_id=int)
    for person in (volunteer.volunteer, other_volunteer.volunteer, volunteer.volunteer):
        with CaptureQueriesContext(connection) as queries:
            found = prepared(user_id=person.user_id)
        assert len(queries) == 1
        expected = list(build(person.user_id))
        assert _rows(found) == _rows(expected) and [v.pk for v in found] == [person.pk]
        # The related rows came with it, as select_related gives them: no query to read them.
        with CaptureQueriesContext(connection) as queries:
            assert (found[0].user.username, found[0].district.code) == (person.user.username, person.district.code)
        assert len(queries) == 0
    # Built with the stand-ins once, then once per comparison above: never again for a call.
    assert len(built) == 1 + 3


def test_lists_of_any_length_and_an_empty_one(shift, volunteer, inspector):
    others = VolunteerFactory.create_batch(4, district=shift.district)
    for person in [volunteer.volunteer, *others]:
        Assignment.objects.create(shift=shift, volunteer=person, status="signed_up")
    built = []

    def build(ids):
        built.append(len(ids))
        return Assignment.objects.filter(volunteer_id__in=ids).order_by("pk").values_list("volunteer_id", "status")

    prepared = PreparedQuery(build, ids=list[int])
    everyone = [volunteer.volunteer.pk, *(other.pk for other in others)]
    for ids in (everyone, everyone[:1], everyone[1:3], everyone[:3], everyone[2:], []):
        assert prepared(ids=ids) == list(
            Assignment.objects.filter(volunteer_id__in=ids).order_by("pk").values_list("volunteer_id", "status")
        )
    assert [status for _, status in prepared(ids=everyone)] == ["signed_up"] * 5
    assert prepared(ids=[]) == []
    # Compiled for 8, 1, 2 and 4 stand-ins (a list is padded to a power of two: three ids share the shape of
    # four), built as it is for the two empty lists.
    assert built == [8, 1, 2, 4, 0, 0]


def test_moments_and_dates_take_their_place(shift, inspector):
    now = timezone.now()
    events = []
    for hours in (1, 5, 30):
        event = ShiftEvent.objects.create(shift=shift, kind="created", by=inspector)
        ShiftEvent.objects.filter(pk=event.pk).update(at=now - datetime.timedelta(hours=hours))
        events.append(event)
    prepared = PreparedQuery(
        lambda since, shift_id: ShiftEvent.objects.filter(shift_id=shift_id, at__gte=since).order_by("at"),
        since=datetime.datetime,
        shift_id=int,
    )
    assert [e.pk for e in prepared(since=now - datetime.timedelta(hours=6), shift_id=shift.pk)] == [
        events[1].pk,
        events[0].pk,
    ]
    assert [e.pk for e in prepared(since=now - datetime.timedelta(days=2), shift_id=shift.pk)] == [
        e.pk for e in reversed(events)
    ]
    assert prepared(since=now, shift_id=shift.pk) == []
    joined = PreparedQuery(lambda day: Membership.objects.filter(joined_on__lte=day).order_by("pk"), day=datetime.date)
    today = timezone.localdate()
    assert [m.pk for m in joined(day=today)] == list(
        Membership.objects.filter(joined_on__lte=today).order_by("pk").values_list("pk", flat=True)
    )
    assert joined(day=datetime.date(1990, 1, 1)) == []


def test_a_point_finds_the_district_holding_it(district, other_district):
    holding = PreparedQuery(
        lambda point: District.objects.filter(boundary__intersects=point).defer("boundary").order_by("code"),
        point=GEOSGeometry,
    )
    for place in (district.centre, other_district.centre, Point(0, -80, srid=4326)):
        assert [d.code for d in holding(point=place)] == [
            d.code for d in District.objects.filter(boundary__intersects=place).order_by("code")
        ]
    assert [d.code for d in holding(point=district.centre)] == [district.code]
    with pytest.raises(ImproperlyConfigured, match="SRID"):
        holding(point=Point(500000, 5000000, srid=32643))


def test_ids_and_uuids_as_values(shift):
    prepared = PreparedQuery(lambda key: Shift.objects.filter(series__isnull=True, pk=key), key=int)
    assert [s.pk for s in prepared(key=shift.pk)] == [shift.pk]
    assert prepared(key=shift.pk + 10_000) == []
    # As a queryset's first() and get(): the row or None, the row or the model's DoesNotExist.
    assert (prepared.first(key=shift.pk).pk, prepared.first(key=shift.pk + 10_000)) == (shift.pk, None)
    assert prepared.get(key=shift.pk).pk == shift.pk
    with pytest.raises(Shift.DoesNotExist):
        prepared.get(key=shift.pk + 10_000)
    by_uuid = PreparedQuery(lambda key: Volunteer.objects.filter(user__username=str(key)), key=uuid.UUID)
    with pytest.raises(ImproperlyConfigured, match="'key'"):
        # The builder turned the value into text: it no longer reaches the parameters as given.
        by_uuid(key=uuid.uuid4())


def test_builders_it_cannot_prepare_are_refused_by_name(volunteer):
    with pytest.raises(ImproperlyConfigured, match="'active'"):
        PreparedQuery(lambda active: Volunteer.objects.filter(user__is_active=active), active=bool)
    containing = PreparedQuery(lambda text: Volunteer.objects.filter(last_name__contains=text), text=str)
    with pytest.raises(ImproperlyConfigured, match="'text'"):
        containing(text="Айгүл")
    with pytest.raises(TypeError):
        containing(other="x")
