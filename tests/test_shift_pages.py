"""The shift pages, told as Talgar's week: the inspector plans on the calendar and the zones map, volunteers sign up
and check in from their phones, and each volunteer's shifts reach their phone's calendar through a private feed."""

import datetime
import json
import re
from html import unescape

import pytest
from django.urls import reverse
from django.utils import timezone

from patrols.choices import AssignmentStatus, CheckInConfirmation
from patrols.models import Assignment, Shift, ShiftSeries, Zone
from patrols.services import scheduling
from patrols.web import ical
from tests.factories import LOCAL_TZ, MembershipFactory, ShiftFactory, UserFactory, VolunteerFactory, local

pytestmark = pytest.mark.django_db


def week_of(day: datetime.date) -> str:
    iso = day.isocalendar()
    return f"{iso.year}-W{iso.week:02d}"


def soon(minutes: int) -> datetime.datetime:
    return timezone.now() + datetime.timedelta(minutes=minutes)


def inside(zone) -> dict:
    centre = zone.geometry.centroid
    return {"lat": f"{centre.y:.6f}", "lng": f"{centre.x:.6f}"}


def english(client):
    client.cookies["django_language"] = "en"
    return client


def square_geojson(lng: float, lat: float, half: float = 0.005) -> str:
    ring = [[lng - half, lat - half], [lng + half, lat - half], [lng + half, lat + half], [lng - half, lat + half]]
    return json.dumps({"type": "Polygon", "coordinates": [[*ring, ring[0]]]})


def shift_form(zone, **changes) -> dict:
    tomorrow = timezone.localdate() + datetime.timedelta(days=1)
    data = {
        "zone": zone.pk,
        "date": tomorrow.isoformat(),
        "start_time": "20:00",
        "end_time": "02:00",
        "min_volunteers": 2,
        "max_volunteers": 4,
        "briefing": "Орталық саябақ, жарық жоқ жерлер.",
    }
    return data | changes


# Who sees what


@pytest.mark.parametrize("persona", ["inspector", "chief", "analyst", "admin_user", "volunteer", "leader"])
def test_the_shift_pages_open_for_every_role(web, request, persona, shift, volunteer, leader):
    client = web(request.getfixturevalue(persona))
    assert client.get(reverse("shift-list")).status_code == 200
    assert client.get(reverse("shift-detail", args=[shift.pk])).status_code == 200
    assert client.get(reverse("zone-list")).status_code == 200


def test_the_nav_offers_shifts_to_everyone_and_zones_to_the_police(web, inspector, volunteer):
    html = web(inspector).get(reverse("home")).content.decode()
    assert reverse("shift-list") in html
    assert reverse("zone-list") in html
    html = web(volunteer).get(reverse("home")).content.decode()
    assert reverse("shift-list") in html
    assert reverse("zone-list") not in html


def test_readers_and_volunteers_do_not_get_the_planning_pages(web, chief, analyst, volunteer, shift, zone):
    for user in (chief, analyst, volunteer):
        client = web(user)
        assert client.get(reverse("shift-create")).status_code == 403
        assert client.get(reverse("series-create")).status_code == 403
        assert client.get(reverse("zone-create")).status_code == 403
        assert client.get(reverse("shift-edit", args=[shift.pk])).status_code == 404
        assert client.post(reverse("zone-archive", args=[zone.pk])).status_code == 404


def test_another_districts_shift_and_zone_are_404(web, other_inspector, other_volunteer, shift, zone, volunteer):
    client = web(other_inspector)
    for name in ("shift-detail", "shift-edit", "shift-cancel"):
        assert client.get(reverse(name, args=[shift.pk])).status_code == 404
    for name in ("shift-signup", "shift-cancel-signup", "shift-check-in", "shift-check-out"):
        assert client.post(reverse(name, args=[shift.pk])).status_code == 404
    assert client.get(reverse("zone-edit", args=[zone.pk])).status_code == 404
    assert client.post(reverse("zone-archive", args=[zone.pk])).status_code == 404
    assignment = scheduling.shift_signup(shift=shift, volunteer=volunteer.volunteer, by=volunteer)
    url = reverse("shift-attendance", args=[shift.pk, assignment.pk])
    assert client.post(url, {"status": "excused"}).status_code == 404
    page = client.get(reverse("shift-list"), {"week": week_of(timezone.localdate(shift.starts_at))})
    assert all(not day["shifts"] for day in page.context["days"])
    assert zone not in client.get(reverse("zone-list")).context["zones"]
    assert web(other_volunteer).get(reverse("shift-detail", args=[shift.pk])).status_code == 404


# The inspector's week


def test_the_week_shows_a_shift_crossing_midnight_on_the_day_it_starts(web, inspector, shift):
    starts = timezone.localtime(shift.starts_at)
    page = web(inspector).get(reverse("shift-list"), {"week": week_of(starts.date())})
    assert page.status_code == 200
    days = {day["date"]: day["shifts"] for day in page.context["days"]}
    assert len(days) == 7
    assert list(days)[0].isoweekday() == 1
    assert days[starts.date()] == [shift]
    next_day = starts.date() + datetime.timedelta(days=1)
    assert shift not in days.get(next_day, [])
    html = page.content.decode()
    assert "20:00–02:00" in html
    assert "0 / 2 / 4" in html


def test_the_week_navigates_and_colours_staffing(web, inspector, zone, group, shift):
    day = timezone.localdate(shift.starts_at)
    monday = day - datetime.timedelta(days=day.weekday())
    crew = []
    for n in range(4):
        person = VolunteerFactory(district=group.district, first_name=f"Ерік{n}", user=UserFactory())
        MembershipFactory(volunteer=person, group=group)
        crew.append(person)
    for person in crew:
        scheduling.shift_signup(shift=shift, volunteer=person, by=person.user)
    cancelled = ShiftFactory(
        zone=zone, inspector=inspector, starts_at=shift.starts_at - datetime.timedelta(hours=6), groups=[group]
    )
    scheduling.shift_cancel(shift=cancelled, by=inspector, reason="Дауыл")
    client = english(web(inspector))
    page = client.get(reverse("shift-list"), {"week": week_of(monday)})
    assert page.context["previous_week"] == week_of(monday - datetime.timedelta(days=7))
    assert page.context["next_week"] == week_of(monday + datetime.timedelta(days=7))
    html = page.content.decode()
    assert "shift-card staff-full" in html
    assert "staff-low cancelled" in html
    assert f"?week={page.context['next_week']}" in html
    assert reverse("shift-create") in html
    assert reverse("series-create") in html
    assert reverse("zone-list") in html


def test_a_garbled_week_falls_back_to_this_week(web, inspector):
    page = web(inspector).get(reverse("shift-list"), {"week": "2025-W99"})
    assert page.context["week"] == week_of(timezone.localdate())


def test_the_week_costs_the_same_queries_for_many_shifts(web, inspector, zone, group, django_assert_max_num_queries):
    day = timezone.localdate() + datetime.timedelta(days=1)
    for hour in range(8, 20):
        ShiftFactory(zone=zone, inspector=inspector, starts_at=local(day, hour), groups=[group])
    client = web(inspector)
    with django_assert_max_num_queries(12):
        page = client.get(reverse("shift-list"), {"week": week_of(day)})
    assert page.context["total"] == 12


def test_the_chief_reads_the_week_without_planning_links(web, chief, shift):
    page = web(chief).get(reverse("shift-list"), {"week": week_of(timezone.localdate(shift.starts_at))})
    assert page.context["can_plan"] is False
    assert reverse("shift-create") not in page.content.decode()


# Planning on forms


def test_the_inspector_plans_a_shift_crossing_midnight_on_the_form(web, inspector, zone, group):
    response = web(inspector).post(reverse("shift-create"), shift_form(zone))
    shift = Shift.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("shift-detail", args=[shift.pk])
    tomorrow = timezone.localdate() + datetime.timedelta(days=1)
    assert shift.starts_at.astimezone(LOCAL_TZ) == local(tomorrow, 20)
    assert shift.ends_at.astimezone(LOCAL_TZ) == local(tomorrow + datetime.timedelta(days=1), 2)
    assert list(shift.groups.all()) == [group]
    assert shift.inspector == inspector


def test_the_new_shift_form_invites_all_district_groups_by_default(web, inspector, zone, group):
    form = web(inspector).get(reverse("shift-create"), {"date": "2030-01-02"}).context["form"]
    assert list(form.initial["groups"]) == [group]
    assert form.initial["date"] == datetime.date(2030, 1, 2)
    assert form.initial["inspector"] == inspector.pk


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"min_volunteers": 5, "max_volunteers": 3}, "The maximum cannot be below the minimum."),
        ({"date": "2020-01-01"}, "A new shift cannot start in the past."),
        ({"min_volunteers": 0}, "A shift needs at least one volunteer."),
    ],
)
def test_a_bad_shift_form_shows_the_error_and_saves_nothing(web, inspector, zone, changes, message):
    page = english(web(inspector)).post(reverse("shift-create"), shift_form(zone, **changes))
    assert page.status_code == 200
    assert message in page.content.decode()
    assert Shift.objects.count() == 0


def test_a_series_ending_before_it_starts_is_refused_on_the_form(web, inspector, zone):
    first = timezone.localdate() + datetime.timedelta(days=7)
    data = {
        "zone": zone.pk,
        "weekdays": [5, 6],
        "start_time": "20:00",
        "end_time": "02:00",
        "starts_on": first.isoformat(),
        "ends_on": (first - datetime.timedelta(days=3)).isoformat(),
        "min_volunteers": 2,
        "max_volunteers": 6,
    }
    client = english(web(inspector))
    page = client.post(reverse("series-create"), data)
    assert page.status_code == 200
    assert "The last day cannot be before the first day." in page.content.decode()
    assert ShiftSeries.objects.count() == 0
    assert Shift.objects.count() == 0
    page = client.post(reverse("series-create"), data | {"ends_on": "", "weekdays": []})
    assert "Choose at least one weekday" in page.content.decode()
    assert ShiftSeries.objects.count() == 0


def test_the_inspector_plans_a_weekly_series_on_the_form(web, inspector, zone, group):
    first = timezone.localdate() + datetime.timedelta(days=1)
    data = {
        "zone": zone.pk,
        "weekdays": [5, 6],
        "start_time": "20:00",
        "end_time": "02:00",
        "starts_on": first.isoformat(),
        "ends_on": (first + datetime.timedelta(days=13)).isoformat(),
        "min_volunteers": 2,
        "max_volunteers": 6,
        "groups": [group.pk],
    }
    response = web(inspector).post(reverse("series-create"), data)
    series = ShiftSeries.objects.get()
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("shift-list") + "?week=")
    assert series.shifts.count() == 4
    assert {timezone.localtime(s.starts_at).isoweekday() for s in series.shifts.all()} == {5, 6}


def test_the_inspector_edits_and_cancels_a_shift(web, inspector, shift, volunteer):
    scheduling.shift_signup(shift=shift, volunteer=volunteer.volunteer, by=volunteer)
    client = english(web(inspector))
    form = client.get(reverse("shift-edit", args=[shift.pk])).context["form"]
    assert form.initial["start_time"] == datetime.time(20, 0)
    data = shift_form(shift.zone, date=timezone.localdate(shift.starts_at).isoformat(), end_time="03:00")
    data["groups"] = [g.pk for g in shift.groups.all()]
    data["inspector"] = inspector.pk
    response = client.post(reverse("shift-edit", args=[shift.pk]), data)
    assert response.status_code == 302
    shift.refresh_from_db()
    assert timezone.localtime(shift.ends_at).hour == 3
    page = client.post(reverse("shift-cancel", args=[shift.pk]), {"reason": ""})
    assert "Say why the shift is cancelled" in page.content.decode()
    shift.refresh_from_db()
    assert shift.status == "scheduled"
    client.post(reverse("shift-cancel", args=[shift.pk]), {"reason": "Ауа райы нашар"})
    shift.refresh_from_db()
    assert shift.status == "cancelled"
    html = client.get(reverse("shift-detail", args=[shift.pk])).content.decode()
    assert "Ауа райы нашар" in html
    assert "Shift cancelled" in html


# Zones


def test_the_zones_map_carries_the_zones_as_geojson(web, inspector, zone):
    page = web(inspector).get(reverse("zone-list"))
    html = page.content.decode()
    assert 'id="zones-data" type="application/json"' in html
    data = page.context["map_data"]
    assert [f["properties"]["name"] for f in data["features"]] == [zone.name]
    assert data["features"][0]["geometry"]["type"] == "Polygon"
    assert 'data-map="shapes"' in html


def test_the_inspector_draws_a_zone_on_the_form(web, inspector, district):
    client = web(inspector)
    page = client.get(reverse("zone-create"))
    html = page.content.decode()
    assert 'data-map="draw"' in html
    assert "leaflet/draw/leaflet.draw.js" in html
    geometry = square_geojson(district.centre.x, district.centre.y)
    response = client.post(
        reverse("zone-create"),
        {"district": district.code, "name": "Базар маңы", "kind": "area", "geometry": geometry},
    )
    assert response.status_code == 302
    zone = Zone.objects.get(name="Базар маңы")
    assert zone.district == district
    assert zone.created_by == inspector
    response = client.post(
        reverse("zone-edit", args=[zone.pk]),
        {"name": "Базар маңы", "kind": "area", "geometry": geometry, "description": "Сенбі күндері"},
    )
    zone.refresh_from_db()
    assert zone.description == "Сенбі күндері"
    client.post(reverse("zone-archive", args=[zone.pk]))
    zone.refresh_from_db()
    assert zone.is_archived


@pytest.mark.parametrize(
    "kind, shape, message",
    [
        ("area", "far", "The zone must lie within the district's boundary."),
        ("route", "square", "A patrol route is a line: draw a line."),
        ("area", "none", "Draw the zone or route on the map."),
    ],
)
def test_a_bad_zone_shows_the_error_on_the_form_and_saves_nothing(web, inspector, district, kind, shape, message):
    geometry = {
        "far": square_geojson(76.9, 43.2),
        "square": square_geojson(district.centre.x, district.centre.y),
        "none": "",
    }[shape]
    page = english(web(inspector)).post(
        reverse("zone-create"), {"district": district.code, "name": "Шекара", "kind": kind, "geometry": geometry}
    )
    assert page.status_code == 200
    assert message in unescape(page.content.decode())
    assert page.context["form"].errors
    assert not Zone.objects.filter(name="Шекара").exists()


def test_archiving_a_zone_with_coming_shifts_is_refused_with_a_message(web, inspector, shift):
    response = english(web(inspector)).post(reverse("zone-archive", args=[shift.zone.pk]), follow=True)
    assert "Cancel or move the zone's coming shifts" in unescape(response.content.decode())
    shift.zone.refresh_from_db()
    assert not shift.zone.is_archived


# The volunteer's phone


def test_the_volunteer_sees_my_shifts_and_open_shifts(web, volunteer, shift):
    page = web(volunteer).get(reverse("shift-list"))
    assert page.status_code == 200
    assert list(page.context["open_shifts"]) == [shift]
    assert page.context["mine"] == []
    html = page.content.decode()
    assert reverse("shift-signup", args=[shift.pk]) in html
    assert reverse("calendar-renew") in html


def test_the_volunteer_signs_up_with_one_tap(web, volunteer, shift):
    client = english(web(volunteer))
    response = client.post(reverse("shift-signup", args=[shift.pk]), {"next": reverse("shift-list")})
    assert response.status_code == 302
    assert response["Location"] == reverse("shift-list")
    assignment = Assignment.objects.get(shift=shift)
    assert assignment.volunteer == volunteer.volunteer
    assert assignment.status == "signed_up"
    page = client.get(reverse("shift-list"))
    assert [a.shift for a in page.context["mine"]] == [shift]
    assert page.context["open_shifts"] == []
    assert "You are on the shift" in page.content.decode()
    client.post(reverse("shift-cancel-signup", args=[shift.pk]))
    assignment.refresh_from_db()
    assert assignment.status == "cancelled"


def test_a_full_shift_puts_the_volunteer_on_the_waiting_list(web, volunteer, group, shift):
    shift.max_volunteers = shift.min_volunteers = 1
    shift.save()
    other = VolunteerFactory(district=group.district, first_name="Ерік", user=UserFactory())
    MembershipFactory(volunteer=other, group=group)
    scheduling.shift_signup(shift=shift, volunteer=other, by=other.user)
    client = english(web(volunteer))
    html = client.get(reverse("shift-list")).content.decode()
    assert "Join the waiting list" in html
    response = client.post(reverse("shift-signup", args=[shift.pk]), follow=True)
    assert "waiting list" in response.content.decode()
    assert Assignment.objects.get(volunteer=volunteer.volunteer).status == "waitlisted"
    mine = client.get(reverse("shift-list")).context["mine"]
    assert mine[0].waiting_position == 1


def test_an_applicant_sees_open_shifts_without_sign_up_buttons(web, volunteer, shift):
    person = volunteer.volunteer
    person.status = "vetted"
    person.registration_number, person.registered_on = "", None
    person.save()
    html = english(web(volunteer)).get(reverse("shift-list")).content.decode()
    assert "once the akimat has registered you" in html
    assert reverse("shift-signup", args=[shift.pk]) not in html


def test_the_leader_signs_up_a_member_from_the_shift_page(web, leader, volunteer, shift):
    client = web(leader)
    page = client.get(reverse("shift-detail", args=[shift.pk]))
    assert volunteer.volunteer in page.context["member_form"].fields["volunteer"].queryset
    assert page.context["roster"] == []
    client.post(reverse("shift-signup", args=[shift.pk]), {"volunteer": volunteer.volunteer.pk})
    assignment = Assignment.objects.get(shift=shift, volunteer=volunteer.volunteer)
    assert assignment.signed_up_by == leader
    page = client.get(reverse("shift-detail", args=[shift.pk]))
    assert page.context["roster"] == [assignment]
    assert page.context["history"] is None


def test_a_volunteer_does_not_see_the_roster_or_the_history(web, volunteer, leader, shift):
    scheduling.shift_signup(shift=shift, volunteer=leader.volunteer, by=leader)
    page = web(volunteer).get(reverse("shift-detail", args=[shift.pk]))
    assert page.context["roster"] is None
    assert page.context["history"] is None
    assert page.context["may_sign_up"] is True


def test_the_volunteer_checks_in_and_out_with_the_phones_position(web, volunteer, zone, group, inspector):
    shift = scheduling.shift_create(
        by=inspector, zone=zone, starts_at=soon(10), ends_at=soon(190), groups=[group], min_volunteers=1
    )
    scheduling.shift_signup(shift=shift, volunteer=volunteer.volunteer, by=volunteer)
    client = english(web(volunteer))
    page = client.get(reverse("shift-list"))
    assert page.context["mine"][0].can_check_in
    html = page.content.decode()
    assert "data-geo-form" in html
    assert "turn on JavaScript and location access" in html
    response = client.post(reverse("shift-check-in", args=[shift.pk]), follow=True)
    assert "Checking in needs your position" in response.content.decode()
    assert Assignment.objects.get(shift=shift).status == "signed_up"
    response = client.post(reverse("shift-check-in", args=[shift.pk]), inside(zone) | {"next": "/shifts/"})
    assert response["Location"] == "/shifts/"
    assignment = Assignment.objects.get(shift=shift)
    assert assignment.status == "checked_in"
    assert assignment.check_in_distance_m == 0
    assert not client.get(reverse("shift-list")).context["mine"][0].can_check_out, "not before the start"
    Shift.objects.filter(pk=shift.pk).update(starts_at=soon(-60), ends_at=soon(120))
    page = client.get(reverse("shift-list"))
    assert page.context["mine"][0].can_check_out and page.context["mine"][0].leaving_early
    assert "why do you leave earlier?" in page.content.decode()
    silent = client.post(reverse("shift-check-out", args=[shift.pk]), inside(zone), follow=True)
    assert "say why you leave earlier" in silent.content.decode()
    assert Assignment.objects.get(shift=shift).status == "checked_in"
    client.post(reverse("shift-check-out", args=[shift.pk]), inside(zone) | {"reason": "Анам шақырды."})
    assignment.refresh_from_db()
    assert (assignment.status, assignment.check_out_reason) == ("completed", "Анам шақырды.")


def test_a_check_in_before_the_window_is_refused_with_the_services_message(web, volunteer, shift):
    scheduling.shift_signup(shift=shift, volunteer=volunteer.volunteer, by=volunteer)
    response = english(web(volunteer)).post(reverse("shift-check-in", args=[shift.pk]), inside(shift.zone), follow=True)
    assert "Check-in opens 30 minutes before the start." in response.content.decode()
    assert Assignment.objects.get(shift=shift).status == "signed_up"


def test_the_inspector_sees_attendance_with_the_distance_outside_the_zone(web, inspector, volunteer, zone, group):
    shift = scheduling.shift_create(by=inspector, zone=zone, starts_at=soon(5), ends_at=soon(120), groups=[group])
    scheduling.shift_signup(shift=shift, volunteer=volunteer.volunteer, by=volunteer)
    centre = zone.geometry.centroid
    far = {"lat": f"{centre.y:.6f}", "lng": f"{centre.x + 0.02:.6f}"}
    english(web(volunteer)).post(reverse("shift-check-in", args=[shift.pk]), far)
    assignment = Assignment.objects.get(shift=shift)
    assert assignment.check_in_outside
    client = english(web(inspector))
    page = client.get(reverse("shift-detail", args=[shift.pk]))
    html = page.content.decode()
    assert page.context["roster"] == [assignment]
    assert f"{assignment.check_in_distance_m} m outside" in html
    assert "Checked in" in html
    features = page.context["map_data"]["features"]
    assert [f["properties"]["role"] for f in features] == ["zone", "outside"]
    assert "outside the zone" in " ".join(e.detail for e in page.context["history"])


def test_the_inspector_marks_no_show_and_excuses_on_the_shift_page(web, inspector, volunteer, leader, zone, group):
    shift = scheduling.shift_create(by=inspector, zone=zone, starts_at=soon(3), ends_at=soon(120), groups=[group])
    first = scheduling.shift_signup(shift=shift, volunteer=volunteer.volunteer, by=volunteer)
    second = scheduling.shift_signup(shift=shift, volunteer=leader.volunteer, by=leader)
    Shift.objects.filter(pk=shift.pk).update(starts_at=timezone.now() - datetime.timedelta(minutes=5))
    client = english(web(inspector))
    html = client.get(reverse("shift-detail", args=[shift.pk])).content.decode()
    assert "Did not come" in html
    client.post(reverse("shift-attendance", args=[shift.pk, first.pk]), {"status": "no_show"})
    client.post(reverse("shift-attendance", args=[shift.pk, second.pk]), {"status": "excused", "note": "Ауырып қалды"})
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.status, second.status) == ("no_show", "excused")
    assert second.note == "Ауырып қалды"
    response = client.post(reverse("shift-attendance", args=[shift.pk, first.pk]), {"status": "bogus"}, follow=True)
    assert "did not come, or excused" in response.content.decode()


def test_a_late_cancellation_is_marked_on_the_roster(web, inspector, volunteer, zone, group):
    shift = scheduling.shift_create(by=inspector, zone=zone, starts_at=soon(120), ends_at=soon(300), groups=[group])
    scheduling.shift_signup(shift=shift, volunteer=volunteer.volunteer, by=volunteer)
    response = english(web(volunteer)).post(reverse("shift-cancel-signup", args=[shift.pk]), follow=True)
    assert "late cancellation" in response.content.decode()
    html = english(web(inspector)).get(reverse("shift-detail", args=[shift.pk])).content.decode()
    assert "late cancellation" in html


# Pages work under a Content Security Policy without 'unsafe-inline'

INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*type=\"application/json\")[^>]*>", re.IGNORECASE)


def test_the_shift_and_zone_pages_have_no_inline_scripts(web, inspector, volunteer, shift, zone):
    client = web(inspector)
    for url in (
        reverse("shift-list"),
        reverse("shift-detail", args=[shift.pk]),
        reverse("shift-create"),
        reverse("series-create"),
        reverse("zone-list"),
        reverse("zone-create"),
        reverse("zone-edit", args=[zone.pk]),
    ):
        html = client.get(url).content.decode()
        assert not INLINE_SCRIPT.findall(html), url
        assert " onclick=" not in html and " onsubmit=" not in html
    html = web(volunteer).get(reverse("shift-list")).content.decode()
    assert not INLINE_SCRIPT.findall(html)


# The calendar feed


def unfold(body: str) -> list[str]:
    return body.replace("\r\n ", "").split("\r\n")


def test_the_calendar_feed_lists_the_volunteers_shifts(client, web, volunteer, shift, zone, inspector, group):
    shift.briefing = "Жиналу: мектеп алдында, 19:45; фонарь, жилет және рация алыңыз.\nСұрақтар болса — учаскелік " * 2
    shift.save()
    signed = scheduling.shift_signup(shift=shift, volunteer=volunteer.volunteer, by=volunteer)
    dropped = ShiftFactory(zone=zone, inspector=inspector, starts_at=shift.starts_at + datetime.timedelta(days=2))
    dropped.groups.set([group])
    scheduling.shift_cancel_signup(
        assignment=scheduling.shift_signup(shift=dropped, volunteer=volunteer.volunteer, by=volunteer), by=volunteer
    )
    feed = scheduling.calendar_feed_for(volunteer=volunteer.volunteer)
    url = reverse("calendar-feed", kwargs={"token": feed.token})
    client.logout()
    response = client.get(url)
    assert response.status_code == 200
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    body = response.content.decode()
    assert body.startswith("BEGIN:VCALENDAR\r\nVERSION:2.0\r\n")
    assert body.endswith("END:VCALENDAR\r\n")
    assert "\n" not in body.replace("\r\n", "")
    assert all(len(line.encode()) <= 75 for line in body.split("\r\n"))
    lines = unfold(body)
    assert lines.count("BEGIN:VEVENT") == 1
    assert f"UID:assignment-{signed.pk}@testserver" in lines
    assert f"DTSTART:{shift.starts_at.astimezone(datetime.UTC):%Y%m%dT%H%M%SZ}" in lines
    assert f"DTEND:{shift.ends_at.astimezone(datetime.UTC):%Y%m%dT%H%M%SZ}" in lines
    summary = next(line for line in lines if line.startswith("SUMMARY:"))
    assert zone.name in summary
    assert any(line.startswith("LOCATION:") and zone.name in line for line in lines)
    description = next(line for line in lines if line.startswith("DESCRIPTION:"))
    assert "мектеп алдында\\, 19:45\\; фонарь\\, жилет" in description
    assert "\\nСұрақтар" in description
    assert client.get(url).content.decode().count(f"UID:assignment-{signed.pk}@") == 1


def test_renewing_the_calendar_address_revokes_the_old_one(client, web, volunteer, shift):
    old = scheduling.calendar_feed_for(volunteer=volunteer.volunteer).token
    page_client = web(volunteer)
    assert old in page_client.get(reverse("shift-list")).content.decode()
    response = page_client.post(reverse("calendar-renew"))
    assert response.status_code == 302
    new = scheduling.calendar_feed_for(volunteer=volunteer.volunteer).token
    assert new != old
    assert new in page_client.get(reverse("shift-list")).content.decode()
    page_client.logout()
    assert client.get(reverse("calendar-feed", kwargs={"token": old})).status_code == 404
    assert client.get(reverse("calendar-feed", kwargs={"token": new})).status_code == 200


def test_ical_folding_never_splits_a_character_and_escapes_text():
    line = "DESCRIPTION:" + ical.escape_text("Қауіпсіздік, тәртіп; түнгі патруль\\ " * 5)
    folded = ical.fold(line)
    pieces = folded.split("\r\n")
    assert len(pieces) > 1
    assert all(len(piece.encode()) <= 75 for piece in pieces)
    assert all(piece.startswith(" ") for piece in pieces[1:])
    assert folded.replace("\r\n ", "") == line
    assert "\\,  " not in line and "тәртіп\\; түнгі" in line and "патруль\\\\ " in line


def test_opening_my_shifts_writes_nothing_and_the_calendar_address_is_asked_for(web, volunteer):
    from patrols.models import CalendarFeed

    client = english(web(volunteer))
    page = client.get(reverse("shift-list")).content.decode()
    assert not CalendarFeed.objects.exists(), "a GET makes no calendar address"
    assert "Get my calendar address" in page
    answer = client.post(reverse("calendar-renew"), follow=True).content.decode()
    feed = CalendarFeed.objects.get(volunteer=volunteer.volunteer)
    assert "Your calendar address is ready" in answer and feed.token in answer


def test_a_correction_refused_for_want_of_a_reason_comes_back_as_it_was_typed(web, inspector, volunteer, zone):
    past = ShiftFactory(
        zone=zone,
        inspector=inspector,
        starts_at=timezone.now() - datetime.timedelta(hours=8),
        ends_at=timezone.now() - datetime.timedelta(hours=4),
    )
    seat = Assignment.objects.create(
        shift=past, volunteer=volunteer.volunteer, status="completed", credited_minutes=240
    )
    client = web(inspector)
    response = client.post(reverse("shift-attendance-hours", args=[past.pk, seat.pk]), {"hours": "3.25", "reason": ""})
    page = client.get(response["Location"]).content.decode()
    assert 'value="3.25"' in page
    assert re.search(r'<details class="correct-hours" open>', page), "the form is open where it was left"
    seat.refresh_from_db()
    assert seat.credited_minutes == 240 and seat.corrected_minutes is None
    again = client.get(response["Location"]).content.decode()
    assert 'value="3.25"' not in again and '<details class="correct-hours">' in again, "kept for one page only"


def test_a_confirmation_without_a_choice_keeps_the_reason_typed_for_one_page(web, inspector, volunteer, zone):
    past = ShiftFactory(
        zone=zone,
        inspector=inspector,
        starts_at=timezone.now() - datetime.timedelta(hours=8),
        ends_at=timezone.now() - datetime.timedelta(hours=4),
    )
    seat = Assignment.objects.create(
        shift=past,
        volunteer=volunteer.volunteer,
        status="completed",
        credited_minutes=240,
        confirmation=CheckInConfirmation.NEEDED,
    )
    client = web(inspector)
    reason = "Телефон орнын 3 км алыстан көрсетті, топ жетекшісі оны көрмеген."
    response = client.post(reverse("shift-attendance-confirm", args=[past.pk, seat.pk]), {"reason": reason})
    page = client.get(response["Location"]).content.decode()
    assert f'id="confirm-reason-{seat.pk}" placeholder' in page
    assert page.count(f'value="{reason}"') == 1
    seat.refresh_from_db()
    assert seat.confirmation == CheckInConfirmation.NEEDED
    assert reason not in client.get(response["Location"]).content.decode(), "kept for one page only"


def test_a_mark_refused_keeps_the_note_typed_for_one_page(web, inspector, volunteer, leader, zone, group):
    shift = scheduling.shift_create(by=inspector, zone=zone, starts_at=soon(3), ends_at=soon(120), groups=[group])
    seat = scheduling.shift_signup(shift=shift, volunteer=volunteer.volunteer, by=volunteer)
    other = scheduling.shift_signup(shift=shift, volunteer=leader.volunteer, by=leader)
    client = web(inspector)
    note = "Ауырып қалды, жетекшіге кешке хабарлады."
    # Not yet started: "did not come" is refused by the service, and the note comes back on this volunteer's row.
    response = client.post(reverse("shift-attendance", args=[shift.pk, seat.pk]), {"status": "no_show", "note": note})
    page = client.get(response["Location"]).content.decode()
    assert f'id="note-{seat.pk}" placeholder="' in page
    row = page.split(f'id="note-{seat.pk}"')[1].split(">")[0]
    assert f'value="{note}"' in row
    assert f'value="{note}"' not in page.split(f'id="note-{other.pk}"')[1].split(">")[0], "only on its own row"
    seat.refresh_from_db()
    assert seat.status == AssignmentStatus.SIGNED_UP and seat.note == ""
    assert note not in client.get(response["Location"]).content.decode(), "kept for one page only"
