"""An inspector needs people now: "3 people at the school at 21:00, for 2 hours".

The message goes to every registered volunteer of the chosen groups (SMS and email, by their channels, with a
one-tap accept link) and to nobody else; the first three who accept get a seat on the shift made for it, the
others its waiting list; accepting twice changes nothing; a volunteer of another group cannot accept; an inspector
of another district does not see it.
"""

from __future__ import annotations

import datetime
import re

import pytest
from django.test import Client
from django.utils import timezone

from patrols.choices import AssignmentStatus, CallOutResult, DeliveryChannel, NotificationKind, VolunteerStatus
from patrols.models import Assignment, CallOut, Delivery, Notification, Shift
from patrols.services.messages import render
from tests.conftest import reader
from tests.factories import GroupFactory, MembershipFactory, UserFactory, VolunteerFactory

pytestmark = pytest.mark.django_db


def member(group, username: str, **fields):
    person = VolunteerFactory(
        district=group.district, user=UserFactory(username=username, email=f"{username}@example.kz"), **fields
    )
    MembershipFactory(volunteer=person, group=group)
    return person.user


@pytest.fixture
def five(group):
    return [member(group, f"v{n}") for n in range(1, 6)]


@pytest.fixture
def elsewhere(district, inspector):
    """A group of the same district that the call-out does not ask, with one volunteer."""
    return member(GroupFactory(name="Студенттер жасағы", district=district, inspector=inspector), "student")


def ask(api, inspector, zone, group, **overrides):
    start = timezone.now() + datetime.timedelta(hours=1)
    body = {
        "zone": zone.pk if zone else None,
        "place": "№3 мектеп алды",
        "starts_at": start.isoformat(),
        "hours": 2,
        "needed": 3,
        "groups": [group.pk],
        **overrides,
    }
    return api(inspector).post("/api/v1/callouts/", body, format="json")


def test_three_needed_five_accept_first_three_seated_the_rest_wait(api, inspector, zone, group, five, elsewhere):
    response = ask(api, inspector, zone, group)

    assert response.status_code == 201, response.json()
    callout = CallOut.objects.get(pk=response.json()["id"])
    shift = Shift.objects.get(pk=callout.shift_id)
    assert (shift.zone, shift.max_volunteers, list(shift.groups.all())) == (zone, 3, [group])
    assert shift.ends_at - shift.starts_at == datetime.timedelta(hours=2)

    results = [api(user).post(f"/api/v1/callouts/{callout.pk}/accept/").json()["result"] for user in five]

    assert results == ["assigned"] * 3 + ["waitlisted"] * 2
    statuses = [Assignment.objects.get(shift=shift, volunteer=u.volunteer).status for u in five]
    assert statuses == [AssignmentStatus.SIGNED_UP] * 3 + [AssignmentStatus.WAITLISTED] * 2
    detail = api(inspector).get(f"/api/v1/callouts/{callout.pk}/").json()
    assert (detail["assigned"], detail["waitlisted"], detail["status"]) == (3, 2, "filled")
    assert [a["result"] for a in detail["answers"]] == results
    # And the answers arrive on the inspector's live board.
    board = api(inspector).get("/api/v1/duty/now/").json()
    (row,) = [row for row in board["callouts"] if row["id"] == callout.pk]
    assert (row["needed"], row["assigned"], row["waitlisted"]) == (3, 3, 2)


def test_the_message_reaches_each_volunteer_of_the_chosen_groups_and_nobody_else(
    api, inspector, zone, group, five, elsewhere, volunteer, leader
):
    unregistered = member(group, "applicant", status=VolunteerStatus.APPLICANT)
    callout = CallOut.objects.get(pk=ask(api, inspector, zone, group).json()["id"])

    asked = {volunteer, leader, *five}
    told = set(Notification.objects.filter(kind=NotificationKind.CALLOUT).values_list("user__username", flat=True))
    assert told == {user.username for user in asked}
    assert elsewhere.username not in told and unregistered.username not in told
    for user in five:
        channels = set(Delivery.objects.filter(user=user).values_list("channel", flat=True))
        assert channels == {DeliveryChannel.SMS, DeliveryChannel.EMAIL}
    # Urgent: no quiet hours hold the SMS back; it is worth nothing once the call-out has started.
    sms = Delivery.objects.get(user=five[0], channel=DeliveryChannel.SMS)
    assert sms.not_before is None and sms.urgent and sms.expires_at == callout.starts_at
    assert not Delivery.objects.filter(user__in=[elsewhere, unregistered]).exists()

    # The SMS carries the one-tap link; it opens a page whose button accepts (no sign-in needed).
    text = render(sms.notification, "en").short
    assert "№3 мектеп алды" in text
    link = re.search(r"http://[^ ]+/callouts/accept/[^ ]+/", text).group(0)
    path = link.split("//", 1)[1].split("/", 1)[1]
    phone = Client(HTTP_ACCEPT_LANGUAGE="en")
    assert phone.get("/" + path).status_code == 200
    assert not callout.answers.exists()
    assert phone.post("/" + path).status_code == 200
    assert callout.answers.get().volunteer == five[0].volunteer


def test_accepting_twice_changes_nothing(api, inspector, zone, group, volunteer):
    callout_id = ask(api, inspector, zone, group).json()["id"]

    first = api(volunteer).post(f"/api/v1/callouts/{callout_id}/accept/")
    again = api(volunteer).post(f"/api/v1/callouts/{callout_id}/accept/")

    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json() == again.json()
    assert Assignment.objects.filter(volunteer=volunteer.volunteer).count() == 1


def test_a_volunteer_of_another_group_cannot_accept(api, inspector, zone, group, elsewhere, other_volunteer):
    callout_id = ask(api, inspector, zone, group).json()["id"]

    assert api(elsewhere).post(f"/api/v1/callouts/{callout_id}/accept/").status_code == 404
    assert api(other_volunteer).post(f"/api/v1/callouts/{callout_id}/accept/").status_code == 404
    assert not Assignment.objects.exists()


def test_an_overlapping_shift_refuses_as_sign_up_does(api, inspector, zone, group, shift, volunteer):
    from patrols.services import scheduling

    scheduling.shift_signup(shift=shift, volunteer=volunteer.volunteer, by=volunteer)
    callout_id = ask(
        api, inspector, zone, group, starts_at=(shift.starts_at + datetime.timedelta(hours=1)).isoformat()
    ).json()["id"]

    refused = api(volunteer).post(f"/api/v1/callouts/{callout_id}/accept/", HTTP_ACCEPT_LANGUAGE="en")

    assert refused.status_code == 400
    assert "overlaps" in str(refused.json())


def test_out_of_scope_inspector_gets_404(api, inspector, other_inspector, zone, group):
    callout_id = ask(api, inspector, zone, group).json()["id"]

    assert api(other_inspector).get(f"/api/v1/callouts/{callout_id}/").status_code == 404
    assert reader(other_inspector, "en").get(f"/callouts/{callout_id}/").status_code == 404
    assert reader(other_inspector, "en").get(f"/callouts/{callout_id}/answers/").status_code == 404
    # Nor can they call people out with our zone and group.
    assert ask(api, other_inspector, zone, group).status_code == 400


def test_the_inspector_calls_out_from_the_web_and_sees_the_answers(inspector, zone, group, five):
    browser = reader(inspector, "en")
    start = timezone.localtime(timezone.now() + datetime.timedelta(hours=2)).strftime("%Y-%m-%dT%H:00")

    form = browser.get("/callouts/new/")
    sent = browser.post(
        "/callouts/new/",
        {"zone": zone.pk, "place": "Саябақ", "starts_at": start, "hours": "2", "needed": "2", "groups": [group.pk]},
    )

    assert form.status_code == 200
    assert sent.status_code == 302, sent.content.decode()[:2000]
    callout = CallOut.objects.get()
    reader(five[0], "en").post(f"/callouts/{callout.pk}/accept/")
    page = browser.get(f"/callouts/{callout.pk}/").content.decode()
    assert five[0].volunteer.full_name in page
    answers = browser.get(f"/callouts/{callout.pk}/answers/").json()
    assert (answers["assigned"], answers["needed"]) == (1, 2)
    assert answers["answers"][0]["result"] == CallOutResult.ASSIGNED


def test_a_point_gets_a_small_zone_of_its_own(api, inspector, district, group):
    response = ask(api, inspector, None, group, lat=district.centre.y, lng=district.centre.x, place="Бекет")

    assert response.status_code == 201, response.json()
    callout = CallOut.objects.get()
    assert callout.zone.district == district
    assert callout.zone.geometry.covers(callout.point)
    assert callout.zone.geometry.area < 0.0002
