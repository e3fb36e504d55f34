"""Each person's home opens with what they need first: the volunteer's next shift (when, where, who else, the
check-in button when it is time, the way there), the group leader's roster for tonight, the inspector's night
(shifts, who has checked in, who is missing, reports waiting), the chief's region against its targets."""

import datetime
import re

import pytest
from django.utils import timezone

from patrols.choices import AssignmentStatus, Role
from patrols.models import Assignment, Benchmark
from patrols.selectors.home import tonight
from tests.factories import MembershipFactory, ShiftFactory, UserFactory, VolunteerFactory, ZoneFactory


@pytest.fixture
def zone(district):
    return ZoneFactory(district=district, name="Орталық саябақ")


@pytest.fixture
def partner(group):
    person = VolunteerFactory(district=group.district, first_name="Айгерім", last_name="Сейітова")
    MembershipFactory(volunteer=person, group=group)
    return person


def _on(shift, volunteer, status=AssignmentStatus.SIGNED_UP, **fields):
    return Assignment.objects.create(shift=shift, volunteer=volunteer, status=status, **fields)


def _text(response) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", response.content.decode()).split())


def test_the_volunteer_sees_the_next_shift_first_with_who_else_and_the_check_in(
    db, web, volunteer, partner, zone, group, inspector
):
    now = timezone.now()
    later = ShiftFactory(zone=zone, starts_at=now + datetime.timedelta(days=3), inspector=inspector, groups=[group])
    soon = ShiftFactory(
        zone=zone,
        starts_at=now + datetime.timedelta(minutes=10),
        ends_at=now + datetime.timedelta(hours=3),
        inspector=inspector,
        groups=[group],
        briefing="Мектеп қақпасының алдында жиналамыз.",
    )
    _on(later, volunteer.volunteer)
    _on(soon, volunteer.volunteer)
    _on(soon, partner)

    page = web(volunteer).get("/", HTTP_ACCEPT_LANGUAGE="en")
    html = page.content.decode()
    text = _text(page)
    assert text.index("My next shift") < text.index("My registration")
    assert "Орталық саябақ" in text and "Мектеп қақпасының алдында жиналамыз." in text
    assert "With you: Айгерім Сейітова" in text or "With you: Сейітова Айгерім" in text
    assert f'action="/shifts/{soon.pk}/check-in/"' in html, "the check-in button of the shift about to start"
    assert f"/shifts/{later.pk}/" not in html, "only the next shift"
    place = zone.geometry.point_on_surface
    assert f'href="geo:{place.y:.5f},{place.x:.5f}' in html


def test_a_volunteer_with_no_shift_is_sent_to_the_open_ones(db, web, volunteer):
    text = _text(web(volunteer).get("/", HTTP_ACCEPT_LANGUAGE="en"))
    assert "You have no coming shifts." in text and "Find an open shift" in text


def test_the_leader_sees_tonights_roster_of_the_group(db, web, leader, volunteer, partner, zone, group, inspector):
    now = timezone.now()
    running = ShiftFactory(
        zone=zone,
        starts_at=now - datetime.timedelta(hours=1),
        ends_at=now + datetime.timedelta(hours=2),
        inspector=inspector,
        groups=[group],
    )
    _on(running, volunteer.volunteer, AssignmentStatus.CHECKED_IN, check_in_at=now - datetime.timedelta(minutes=50))
    _on(running, partner)
    outsider = VolunteerFactory(district=group.district, first_name="Бөтен", last_name="Адам")
    _on(running, outsider)

    text = _text(web(leader).get("/", HTTP_ACCEPT_LANGUAGE="en"))
    tonight = text[text.index("Tonight in Талғар қоғамдық көмекшілері") :]
    assert "1 checked in" in tonight and "1 missing" in tonight
    assert re.search(r"Missing: (Айгерім Сейітова|Сейітова Айгерім)", tonight)
    assert "Бөтен" not in tonight, "only the group's own members"


def later_tonight(now: datetime.datetime) -> datetime.datetime:
    """A start still to come tonight whatever the hour of the run: halfway between now and 06:00 of the morning."""
    _now, morning = tonight(now)
    return now + (morning - now) / 2


def test_the_inspector_opens_on_tonight_then_the_reports_waiting(db, web, inspector, volunteer, partner, zone):
    now = timezone.now()
    running = ShiftFactory(
        zone=zone,
        starts_at=now - datetime.timedelta(minutes=30),
        ends_at=now + datetime.timedelta(hours=3),
        inspector=inspector,
    )
    evening = ShiftFactory(zone=zone, starts_at=later_tonight(now), inspector=inspector)
    next_week = ShiftFactory(zone=zone, starts_at=now + datetime.timedelta(days=7), inspector=inspector)
    _on(running, volunteer.volunteer, AssignmentStatus.CHECKED_IN, check_in_at=now - datetime.timedelta(minutes=25))
    _on(running, partner)
    _on(evening, partner)

    page = web(inspector).get("/", HTTP_ACCEPT_LANGUAGE="en")
    html = page.content.decode()
    text = _text(page)
    assert text.index("Tonight") < text.index("Verify:") < text.index("Districts")
    assert f"/shifts/{running.pk}/" in html and f"/shifts/{evening.pk}/" in html
    assert f"/shifts/{next_week.pk}/" not in html
    assert "1 checked in" in text and "1 missing" in text and "1 still to come" in text


def test_an_inspector_of_another_district_does_not_see_our_night(db, web, other_inspector, zone, inspector):
    shift = ShiftFactory(zone=zone, starts_at=later_tonight(timezone.now()), inspector=inspector)
    html = web(other_inspector).get("/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert f"/shifts/{shift.pk}/" not in html and "No shifts tonight." in html


def test_the_chief_opens_on_the_regions_figures_against_the_targets(db, web, chief, district):
    year = timezone.localdate().year
    Benchmark.objects.create(year=year, level="region", region=district.region, prevented_target=1500, solved_target=30)
    page = web(chief).get("/", HTTP_ACCEPT_LANGUAGE="en")
    text = _text(page)
    assert "verified figures against the targets" in text
    assert text.index("Offenses prevented") < text.index("Districts")
    assert "/ 1,500" in text and "/ 30" in text
    assert "Talgar District" in text


def test_a_volunteer_account_without_a_profile_still_gets_a_home(db, web):
    user = UserFactory(username="newcomer", role=Role.VOLUNTEER)
    assert web(user).get("/").status_code == 200
