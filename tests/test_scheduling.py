"""The patrol rules, told as Talgar's week: zones, shifts, series; sign-up, the waiting list, check-in, closing."""

import datetime

import pytest
from django.contrib.gis.geos import LineString, Point
from django.core.exceptions import ValidationError
from django.utils import timezone, translation

from patrols.models import Assignment, Notification, Shift, ShiftEvent, Zone
from patrols.services import attendance, scheduling
from tests.factories import (
    LOCAL_TZ,
    MembershipFactory,
    ShiftFactory,
    VolunteerFactory,
    ZoneFactory,
    local,
    square_polygon,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def english():
    """Messages are checked in English here; the languages themselves are tested with the pages."""
    with translation.override("en"):
        yield


@pytest.fixture
def crew(group):
    """Five more registered volunteers of `group`, with accounts."""
    from tests.factories import UserFactory

    people = []
    for n in range(5):
        person = VolunteerFactory(district=group.district, first_name=f"Ерік{n}", user=UserFactory())
        MembershipFactory(volunteer=person, group=group)
        people.append(person)
    return people


def soon(minutes: int) -> datetime.datetime:
    return timezone.now() + datetime.timedelta(minutes=minutes)


def test_a_friday_night_series_crosses_midnight_in_almaty_time(inspector, zone, group):
    friday = timezone.localdate() + datetime.timedelta(days=(4 - timezone.localdate().weekday()) % 7 or 7)
    series = scheduling.series_create(
        by=inspector,
        zone=zone,
        weekdays=[5, 6],
        start_time=datetime.time(20, 0),
        end_time=datetime.time(2, 0),
        starts_on=friday,
        ends_on=friday + datetime.timedelta(days=13),
    )
    shifts = list(series.shifts.order_by("starts_at"))
    assert len(shifts) == 4
    first = shifts[0]
    assert first.starts_at.astimezone(LOCAL_TZ) == local(friday, 20)
    assert first.ends_at.astimezone(LOCAL_TZ) == local(friday + datetime.timedelta(days=1), 2)
    assert first.starts_at.astimezone(datetime.UTC).hour == 15
    assert (first.ends_at - first.starts_at) == datetime.timedelta(hours=6)
    assert list(first.groups.all()) == [group]


def test_generating_a_series_twice_creates_each_shift_once(inspector, zone, group):
    series = scheduling.series_create(
        by=inspector,
        zone=zone,
        weekdays=[3],
        start_time=datetime.time(18),
        end_time=datetime.time(22),
        starts_on=timezone.localdate(),
    )
    count = series.shifts.count()
    assert count >= 3
    assert scheduling.series_generate(series=series) == 0
    assert scheduling.series_generate_all() == 0
    assert series.shifts.count() == count
    later = timezone.localdate() + datetime.timedelta(days=60)
    added = scheduling.series_generate(series=series, until=later)
    assert added > 0
    assert scheduling.series_generate(series=series, until=later) == 0


@pytest.mark.parametrize(
    "change, field",
    [
        ({"ends_at": "before"}, "ends_at"),
        ({"max_volunteers": 1, "min_volunteers": 3}, "max_volunteers"),
        ({"min_volunteers": 0}, "min_volunteers"),
        ({"starts_at": "past"}, "starts_at"),
    ],
)
def test_a_bad_shift_is_refused_and_nothing_is_saved(inspector, zone, change, field):
    starts = soon(24 * 60)
    data = {
        "starts_at": starts,
        "ends_at": starts + datetime.timedelta(hours=4),
        "min_volunteers": 2,
        "max_volunteers": 4,
    }
    data.update(change)
    if data["ends_at"] == "before":
        data["ends_at"] = starts - datetime.timedelta(hours=1)
    if data["starts_at"] == "past":
        data["starts_at"] = soon(-60)
    with pytest.raises(ValidationError) as caught:
        scheduling.shift_create(by=inspector, zone=zone, **data)
    assert field in caught.value.message_dict
    assert Shift.objects.count() == 0


def test_a_zone_must_lie_in_its_district(inspector, district):
    far = square_polygon(district.centre.x + 3, district.centre.y)
    with pytest.raises(ValidationError) as caught:
        scheduling.zone_create(by=inspector, district=district, name="Алыс", kind="area", geometry=far)
    assert "geometry" in caught.value.message_dict
    line = LineString((district.centre.x, district.centre.y), (district.centre.x + 0.01, district.centre.y), srid=4326)
    with pytest.raises(ValidationError):
        scheduling.zone_create(by=inspector, district=district, name="Сызық", kind="area", geometry=line)
    route = scheduling.zone_create(by=inspector, district=district, name="Маршрут", kind="route", geometry=line)
    assert route.kind == "route"
    assert Zone.objects.count() == 1


def test_another_districts_inspector_cannot_plan_here(other_inspector, zone):
    with pytest.raises(ValidationError):
        scheduling.shift_create(by=other_inspector, zone=zone, starts_at=soon(600), ends_at=soon(800))


def test_a_full_shift_puts_people_on_the_waiting_list_and_promotes_them_when_a_seat_frees(shift, crew):
    shift.max_volunteers = 2
    shift.save()
    seats = [scheduling.shift_signup(shift=shift, volunteer=p, by=p.user) for p in crew[:2]]
    waiting = [scheduling.shift_signup(shift=shift, volunteer=p, by=p.user) for p in crew[2:4]]
    assert [a.status for a in seats] == ["signed_up", "signed_up"]
    assert [a.status for a in waiting] == ["waitlisted", "waitlisted"]

    scheduling.shift_cancel_signup(assignment=seats[0], by=crew[0].user)

    waiting[0].refresh_from_db()
    waiting[1].refresh_from_db()
    assert waiting[0].status == "signed_up"
    assert waiting[1].status == "waitlisted"
    assert Notification.objects.filter(user=crew[2].user, kind="promoted", shift=shift).count() == 1
    assert shift.events.filter(kind="promoted", volunteer=crew[2]).exists()


def test_one_person_cannot_be_on_two_overlapping_shifts(shift, crew, zone, inspector, group):
    overlapping = ShiftFactory(
        zone=zone,
        inspector=inspector,
        groups=[group],
        starts_at=shift.starts_at + datetime.timedelta(hours=3),
        ends_at=shift.ends_at + datetime.timedelta(hours=3),
    )
    scheduling.shift_signup(shift=shift, volunteer=crew[0], by=crew[0].user)
    with pytest.raises(ValidationError) as caught:
        scheduling.shift_signup(shift=overlapping, volunteer=crew[0], by=crew[0].user)
    assert "overlaps" in caught.value.messages[0]
    assert not overlapping.assignments.exists()
    back_to_back = ShiftFactory(
        zone=zone,
        inspector=inspector,
        groups=[group],
        starts_at=shift.ends_at,
        ends_at=shift.ends_at + datetime.timedelta(hours=2),
    )
    assert scheduling.shift_signup(shift=back_to_back, volunteer=crew[0], by=crew[0].user).status == "signed_up"


def test_signing_up_twice_or_after_the_start_or_uninvited_is_refused(shift, crew, zone, inspector, other_group):
    scheduling.shift_signup(shift=shift, volunteer=crew[0], by=crew[0].user)
    with pytest.raises(ValidationError):
        scheduling.shift_signup(shift=shift, volunteer=crew[0], by=crew[0].user)
    started = ShiftFactory(
        zone=zone, inspector=inspector, groups=list(shift.groups.all()), starts_at=soon(-10), ends_at=soon(200)
    )
    with pytest.raises(ValidationError) as caught:
        scheduling.shift_signup(shift=started, volunteer=crew[1], by=crew[1].user)
    assert "closed" in caught.value.messages[0]
    uninvited = ShiftFactory(zone=zone, inspector=inspector, groups=[], starts_at=soon(3000), ends_at=soon(3100))
    with pytest.raises(ValidationError):
        scheduling.shift_signup(shift=uninvited, volunteer=crew[1], by=crew[1].user)
    assert Assignment.objects.count() == 1


def test_an_applicant_cannot_patrol_yet(shift, group):
    from tests.factories import UserFactory

    applicant = VolunteerFactory(
        district=group.district, status="applicant", registration_number="", registered_on=None, user=UserFactory()
    )
    MembershipFactory(volunteer=applicant, group=group)
    with pytest.raises(ValidationError):
        scheduling.shift_signup(shift=shift, volunteer=applicant, by=applicant.user)


def test_a_leader_signs_up_a_member_and_the_inspector_anyone_in_scope(shift, leader, inspector, crew, other_volunteer):
    by_leader = scheduling.shift_signup(shift=shift, volunteer=crew[0], by=leader)
    assert by_leader.signed_up_by == leader
    assert Notification.objects.filter(user=crew[0].user, kind="assigned").exists()
    assert scheduling.shift_signup(shift=shift, volunteer=crew[1], by=inspector).status == "signed_up"
    with pytest.raises(ValidationError):
        scheduling.shift_signup(shift=shift, volunteer=other_volunteer.volunteer, by=inspector)
    with pytest.raises(ValidationError):
        scheduling.shift_signup(shift=shift, volunteer=crew[2], by=crew[3].user)


def test_a_cancellation_close_to_the_start_is_late(zone, inspector, group, crew, settings):
    settings.SHIFT_LATE_CANCEL_HOURS = 12
    near = ShiftFactory(zone=zone, inspector=inspector, groups=[group], starts_at=soon(120), ends_at=soon(360))
    far = ShiftFactory(zone=zone, inspector=inspector, groups=[group], starts_at=soon(60 * 48), ends_at=soon(60 * 50))
    late = scheduling.shift_cancel_signup(
        assignment=scheduling.shift_signup(shift=near, volunteer=crew[0], by=crew[0].user), by=crew[0].user
    )
    early = scheduling.shift_cancel_signup(
        assignment=scheduling.shift_signup(shift=far, volunteer=crew[0], by=crew[0].user), by=crew[0].user
    )
    assert late.cancelled_late is True
    assert early.cancelled_late is False


def test_check_in_inside_the_zone_is_clean_and_near_it_waits_for_confirmation(zone, inspector, group, crew):
    now_shift = ShiftFactory(zone=zone, inspector=inspector, groups=[group], starts_at=soon(10), ends_at=soon(250))
    inside = scheduling.shift_signup(shift=now_shift, volunteer=crew[0], by=crew[0].user)
    outside = scheduling.shift_signup(shift=now_shift, volunteer=crew[1], by=crew[1].user)
    centre = zone.geometry.centroid
    inside = attendance.shift_check_in(assignment=inside, by=crew[0].user, point=Point(centre.x, centre.y, srid=4326))
    # About 0.01° of longitude east of the zone's edge at 43°N is roughly 800 m.
    east = Point(zone.geometry.extent[2] + 0.01, centre.y, srid=4326)
    outside = attendance.shift_check_in(assignment=outside, by=crew[1].user, point=east)
    assert (inside.status, inside.check_in_outside, inside.check_in_distance_m) == ("checked_in", False, 0)
    assert inside.confirmation == "not_needed"
    assert outside.status == "checked_in"
    assert outside.check_in_outside is True
    assert (outside.confirmation, outside.confirmation_doubt) == ("needed", "outside_zone")
    assert 700 < outside.check_in_distance_m < 900
    near_edge = Point(zone.geometry.extent[2] + 0.001, centre.y, srid=4326)
    third = scheduling.shift_signup(shift=now_shift, volunteer=crew[2], by=crew[2].user)
    third = attendance.shift_check_in(assignment=third, by=crew[2].user, point=near_edge)
    assert third.check_in_outside is False and 0 < third.check_in_distance_m <= 150
    assert third.confirmation == "not_needed"


def test_check_in_waits_for_the_window_and_only_the_volunteer_checks_in(shift, crew, inspector):
    assignment = scheduling.shift_signup(shift=shift, volunteer=crew[0], by=crew[0].user)
    point = shift.zone.geometry.centroid
    with pytest.raises(ValidationError) as caught:
        attendance.shift_check_in(assignment=assignment, by=crew[0].user, point=point)
    assert "opens" in caught.value.messages[0]
    with pytest.raises(ValidationError):
        attendance.shift_check_in(assignment=assignment, by=inspector, point=point)


def test_patrol_hours_run_from_check_in_to_check_out(zone, inspector, group, crew):
    now_shift = ShiftFactory(zone=zone, inspector=inspector, groups=[group], starts_at=soon(5), ends_at=soon(240))
    assignment = scheduling.shift_signup(shift=now_shift, volunteer=crew[0], by=crew[0].user)
    centre = zone.geometry.centroid
    attendance.shift_check_in(assignment=assignment, by=crew[0].user, point=centre)
    # Three hours later: the shift ran from three hours ago until a minute ago.
    Shift.objects.filter(pk=now_shift.pk).update(starts_at=soon(-180), ends_at=soon(-1))
    Assignment.objects.filter(pk=assignment.pk).update(check_in_at=soon(-180))
    done = attendance.shift_check_out(assignment=assignment, by=crew[0].user, point=centre)
    assert done.status == "completed"
    assert 2.95 <= done.patrol_hours <= 2.99
    assert scheduling.patrol_hours(volunteer=crew[0]) == done.patrol_hours


def test_shifts_left_open_are_closed_after_the_grace_period(zone, inspector, group, crew, settings):
    settings.SHIFT_CLOSE_GRACE_MINUTES = 60
    past = ShiftFactory(zone=zone, inspector=inspector, groups=[group], starts_at=soon(5), ends_at=soon(120))
    came = scheduling.shift_signup(shift=past, volunteer=crew[0], by=crew[0].user)
    absent = scheduling.shift_signup(shift=past, volunteer=crew[1], by=crew[1].user)
    attendance.shift_check_in(assignment=came, by=crew[0].user, point=zone.geometry.centroid)

    assert scheduling.shifts_close_finished(now=past.ends_at + datetime.timedelta(minutes=30)) == 0
    assert scheduling.shifts_close_finished(now=past.ends_at + datetime.timedelta(minutes=61)) == 1
    assert scheduling.shifts_close_finished(now=past.ends_at + datetime.timedelta(minutes=90)) == 0

    past.refresh_from_db()
    came.refresh_from_db()
    absent.refresh_from_db()
    assert past.status == "closed"
    assert (came.status, came.check_out_at, came.closed_automatically) == ("completed", past.ends_at, True)
    # Checked in five minutes early: the hours count from the start, to the end.
    assert came.credited_minutes == 115
    assert absent.status == "no_show"
    excused = scheduling.attendance_mark(assignment=absent, by=inspector, status="excused", note="Ауырып қалды")
    assert excused.status == "excused"
    assert ShiftEvent.objects.filter(shift=past, kind="excused", by=inspector).exists()


def test_an_understaffed_shift_is_flagged_once_to_its_inspector(zone, inspector, group, crew):
    thin = ShiftFactory(zone=zone, inspector=inspector, groups=[group], starts_at=soon(600), ends_at=soon(800))
    full = ShiftFactory(
        zone=zone, inspector=inspector, groups=[group], starts_at=soon(900), ends_at=soon(1000), min_volunteers=1
    )
    scheduling.shift_signup(shift=full, volunteer=crew[0], by=crew[0].user)
    later = ShiftFactory(zone=zone, inspector=inspector, groups=[group], starts_at=soon(60 * 30), ends_at=soon(60 * 32))

    assert scheduling.shifts_flag_understaffed() == 1
    assert scheduling.shifts_flag_understaffed() == 0
    thin.refresh_from_db()
    assert thin.understaffed_at is not None
    assert Notification.objects.filter(user=inspector, kind="understaffed", shift=thin).count() == 1
    assert not Notification.objects.filter(shift__in=[full, later]).exists()


def test_changing_or_cancelling_a_shift_tells_the_people_on_it(shift, crew, inspector):
    scheduling.shift_signup(shift=shift, volunteer=crew[0], by=crew[0].user)
    scheduling.shift_update(shift=shift, by=inspector, briefing="Жиналу орны — әкімдік алдында")
    assert Notification.objects.filter(user=crew[0].user, kind="shift_changed").count() == 1
    with pytest.raises(ValidationError):
        scheduling.shift_cancel(shift=shift, by=inspector, reason=" ")
    scheduling.shift_cancel(shift=shift, by=inspector, reason="Ауа райы нашар")
    assert Notification.objects.filter(user=crew[0].user, kind="shift_cancelled").count() == 1
    assert shift.assignments.get().status == "cancelled"
    assert list(shift.events.values_list("kind", flat=True)) == ["cancelled", "updated", "signed_up"]


def test_the_maximum_cannot_drop_below_the_seats_taken(shift, crew, inspector):
    for person in crew[:3]:
        scheduling.shift_signup(shift=shift, volunteer=person, by=person.user)
    with pytest.raises(ValidationError) as caught:
        scheduling.shift_update(shift=shift, by=inspector, max_volunteers=2)
    assert "max_volunteers" in caught.value.message_dict
    shift.refresh_from_db()
    assert shift.max_volunteers == 4


def test_raising_the_maximum_promotes_the_waiting_list(shift, crew, inspector):
    shift.max_volunteers = 2
    shift.save()
    for person in crew[:3]:
        scheduling.shift_signup(shift=shift, volunteer=person, by=person.user)
    scheduling.shift_update(shift=shift, by=inspector, max_volunteers=3)
    assert shift.assignments.filter(status="signed_up").count() == 3


def test_archiving_a_zone_with_coming_shifts_is_refused(shift, inspector):
    with pytest.raises(ValidationError):
        scheduling.zone_archive(zone=shift.zone, by=inspector)
    spare = ZoneFactory(district=shift.district)
    assert scheduling.zone_archive(zone=spare, by=inspector).is_archived
