"""Meetings with residents, as the inspector logs them from the phone and the chief counts them.

The Talgar inspector plans a meeting in a village, holds it with the district's volunteer group and marks how many
residents came: from that moment it counts, once, in the month it took place, and the volunteer who was there has its
minutes. Another district's inspector sees nothing of it (404); bad input is a clear 400 and changes nothing.
"""

import datetime
import io
import uuid

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.utils import timezone
from PIL import Image

from patrols.choices import MeetingStatus
from patrols.models import Meeting, MeetingAttendee, MeetingEvent, MeetingTally
from patrols.services import meetings
from patrols.services.tallies import tallies_rebuild
from tests.factories import SettlementFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def village(district):
    """Belbulak, a village of our district."""
    return SettlementFactory(district=district, code="KZ-19-TAL-BEL", name_kk="Бельбулақ", name_ru="Бельбулак")


@pytest.fixture
def far_village(other_district):
    return SettlementFactory(district=other_district, code="KZ-35-ABA-TOP", name_kk="Топар", name_ru="Топар")


def meeting_body(village, **overrides) -> dict:
    """A village assembly about alcohol and livestock theft, planned for the day after tomorrow."""
    data = {
        "client_uuid": str(uuid.uuid4()),
        "settlement": village.code,
        "lat": village.centre.y + 0.01,
        "lng": village.centre.x + 0.01,
        "held_at": (timezone.now() + datetime.timedelta(days=2)).isoformat(),
        "kind": "village_assembly",
        "topics": ["alcohol", "livestock_theft"],
        "duration_minutes": 90,
    }
    return data | overrides


def tally_of(district) -> tuple[int, int]:
    rows = MeetingTally.objects.filter(district=district)
    return sum(row.meetings for row in rows), sum(row.residents for row in rows)


def test_the_inspector_plans_a_meeting_holds_it_and_it_counts_once(api, inspector, village, group, volunteer):
    client = api(inspector)
    body = meeting_body(village, groups=[group.pk], attendees=[volunteer.volunteer.pk])
    planned = client.post("/api/v1/meetings/", body, format="json")
    assert planned.status_code == 201, planned.json()
    meeting = planned.json()
    assert meeting["status"] == "planned" and meeting["settlement"] == village.code
    assert meeting["officers"] == ["inspector"] and sorted(meeting["topics"]) == ["alcohol", "livestock_theft"]
    assert tally_of(village.district) == (0, 0)
    # The phone retries the same meeting: the first one comes back, nothing is added.
    again = client.post("/api/v1/meetings/", body | {"residents": 5000}, format="json")
    assert again.status_code == 200 and again.json()["id"] == meeting["id"]
    assert Meeting.objects.count() == 1

    held = client.post(
        f"/api/v1/meetings/{meeting['id']}/hold/",
        {"residents": 64, "decisions": "Ауыл ішімдіктен бас тарту туралы шешім қабылдады."},
        format="json",
    )
    assert held.status_code == 200, held.json()
    assert held.json()["status"] == "held" and held.json()["residents"] == 64
    # Held before the planned day: it took place now, in this month.
    assert abs(Meeting.objects.get().held_at - timezone.now()) < datetime.timedelta(minutes=1)
    assert tally_of(village.district) == (1, 64)
    assert MeetingAttendee.objects.get().minutes == 90
    assert meetings.meeting_minutes(volunteer=volunteer.volunteer) == 90
    assert [event["kind"] for event in held.json()["history"]] == ["held", "planned"]

    # A correction of the residents moves the figures; the history says from what to what.
    corrected = client.patch(f"/api/v1/meetings/{meeting['id']}/", {"residents": 46}, format="json")
    assert corrected.status_code == 200
    assert tally_of(village.district) == (1, 46)
    assert corrected.json()["history"][0]["changes"] == {"residents": [64, 46]}
    assert tallies_rebuild(apply=False) == []


def test_a_meeting_logged_as_held_counts_and_cancelling_it_takes_it_back(api, chief, village):
    """Chiefs hold meetings too, anywhere in their region."""
    client = api(chief)
    past = (timezone.now() - datetime.timedelta(days=3)).isoformat()
    logged = client.post(
        "/api/v1/meetings/", meeting_body(village, status="held", held_at=past, residents=120), format="json"
    )
    assert logged.status_code == 201, logged.json()
    assert tally_of(village.district) == (1, 120)
    pk = logged.json()["id"]
    refused = client.post(f"/api/v1/meetings/{pk}/cancel/", {"reason": " "}, format="json")
    assert refused.status_code == 400 and "reason" in refused.json()
    assert tally_of(village.district) == (1, 120)
    cancelled = client.post(f"/api/v1/meetings/{pk}/cancel/", {"reason": "Logged twice"}, format="json")
    assert cancelled.json()["status"] == "cancelled"
    assert tally_of(village.district) == (0, 0)
    assert client.post(f"/api/v1/meetings/{pk}/hold/", {"residents": 3}, format="json").status_code == 400
    assert tallies_rebuild(apply=False) == []


@pytest.mark.parametrize(
    ("overrides", "field", "words"),
    [
        ({"lat": 49.8, "lng": 73.1}, "point", "outside"),
        ({"status": "held", "residents": 10}, "held_at", "future"),
        (
            {"status": "held", "residents": -4, "held_at": "2026-12-01T10:00:00+05:00"},
            "residents",
            "negative",
        ),
        ({"held_at": "2026-11-01T10:00:00+05:00"}, "held_at", "planned meeting is in the future"),
        ({"status": "held", "held_at": "2026-12-01T10:00:00+05:00"}, "residents", "how many residents"),
        ({"duration_minutes": 0}, "duration_minutes", "5 minutes"),
        ({"decisions": "ә" * 6000}, "decisions", "5000"),
        ({"topics": ["nonsense"]}, "topics", ""),
    ],
)
def test_bad_input_is_refused_clearly_and_changes_nothing(api, inspector, village, overrides, field, words):
    response = api(inspector).post(
        "/api/v1/meetings/", meeting_body(village, **overrides), format="json", HTTP_ACCEPT_LANGUAGE="en"
    )
    assert response.status_code == 400
    errors = response.json()
    assert field in errors, errors
    assert words in " ".join(errors[field]), errors
    assert not Meeting.objects.exists() and not MeetingTally.objects.exists()


def test_the_error_is_in_the_readers_language(api, inspector, village):
    response = api(inspector).post(
        "/api/v1/meetings/", meeting_body(village, lat=49.8, lng=73.1), format="json", HTTP_ACCEPT_LANGUAGE="kk"
    )
    assert response.status_code == 400
    message = response.json()["point"][0]
    assert "Талғар ауданы" in message and "outside" not in message


def test_another_districts_meetings_are_not_found_and_cannot_be_logged(
    api, inspector, other_inspector, village, far_village
):
    ours = api(inspector).post("/api/v1/meetings/", meeting_body(village), format="json").json()
    theirs = api(other_inspector)
    assert theirs.get(f"/api/v1/meetings/{ours['id']}/").status_code == 404
    assert theirs.post(f"/api/v1/meetings/{ours['id']}/hold/", {"residents": 9}, format="json").status_code == 404
    assert theirs.get("/api/v1/meetings/").json()["results"] == []
    refused = theirs.post("/api/v1/meetings/", meeting_body(village), format="json")
    assert refused.status_code == 400 and "settlement" in refused.json()
    # Nor can our inspector reuse a meeting id of theirs, or hold a meeting in their village.
    their_own = theirs.post("/api/v1/meetings/", meeting_body(far_village), format="json").json()
    reused = api(inspector).post(
        "/api/v1/meetings/", meeting_body(village, client_uuid=their_own["client_uuid"]), format="json"
    )
    assert reused.status_code == 400 and "client_uuid" in reused.json()
    assert Meeting.objects.count() == 2


def test_volunteers_see_the_meetings_their_group_took_part_in_and_log_none(
    api, inspector, village, group, volunteer, other_volunteer
):
    api(inspector).post("/api/v1/meetings/", meeting_body(village, groups=[group.pk]), format="json")
    api(inspector).post("/api/v1/meetings/", meeting_body(village), format="json")
    assert len(api(volunteer).get("/api/v1/meetings/").json()["results"]) == 1
    assert api(other_volunteer).get("/api/v1/meetings/").json()["results"] == []
    refused = api(volunteer).post("/api/v1/meetings/", meeting_body(village), format="json")
    assert refused.status_code == 403
    assert Meeting.objects.count() == 2


def test_groups_and_volunteers_of_another_district_cannot_take_part(
    api, inspector, village, other_group, other_volunteer
):
    client = api(inspector)
    group_refused = client.post("/api/v1/meetings/", meeting_body(village, groups=[other_group.pk]), format="json")
    assert group_refused.status_code == 400 and "groups" in group_refused.json()
    person = other_volunteer.volunteer.pk
    person_refused = client.post("/api/v1/meetings/", meeting_body(village, attendees=[person]), format="json")
    assert person_refused.status_code == 400 and "attendees" in person_refused.json()
    assert not Meeting.objects.exists()


def test_a_photo_of_the_meeting_is_kept_once_and_shown_in_scope(api, inspector, other_inspector, village):
    client = api(inspector)
    pk = client.post("/api/v1/meetings/", meeting_body(village), format="json").json()["id"]
    buffer = io.BytesIO()
    Image.new("RGB", (320, 240), "green").save(buffer, format="JPEG")
    for expected in (201, 200):
        upload = SimpleUploadedFile("hall.jpg", buffer.getvalue(), content_type="image/jpeg")
        response = client.post(f"/api/v1/meetings/{pk}/photos/", {"photo": upload}, format="multipart")
        assert response.status_code == expected
    url = client.get(f"/api/v1/meetings/{pk}/").json()["photos"][0]["url"]
    assert client.get(url).status_code == 200
    assert api(other_inspector).get(url).status_code == 404
    assert MeetingEvent.objects.filter(kind="photo_added").count() == 1


def test_a_held_meeting_far_in_the_past_is_refused(inspector, village):
    long_ago = timezone.now() - datetime.timedelta(days=400)
    with pytest.raises(ValidationError) as error:
        meetings.meeting_record(
            by=inspector,
            client_uuid=uuid.uuid4(),
            settlement=village,
            held_at=long_ago,
            kind="school",
            status=MeetingStatus.HELD,
            residents=30,
        )
    assert "held_at" in error.value.message_dict
    assert not Meeting.objects.exists()


def test_rebuild_tallies_puts_a_meeting_tally_that_went_wrong_right(inspector, village):
    meetings.meeting_record(
        by=inspector,
        client_uuid=uuid.uuid4(),
        settlement=village,
        held_at=timezone.now() - datetime.timedelta(hours=2),
        kind="school",
        status=MeetingStatus.HELD,
        residents=30,
    )
    MeetingTally.objects.update(residents=999)
    out = io.StringIO()
    with pytest.raises(CommandError):
        call_command("rebuild_tallies", "--check", stdout=out)
    assert "MeetingTally" in out.getvalue()
    call_command("rebuild_tallies", stdout=io.StringIO())
    assert tally_of(village.district) == (1, 30)


def test_a_planned_meeting_reminds_its_officers_and_volunteers_once(inspector, village, group, volunteer):
    from patrols.models import Notification
    from patrols.services import reminders

    meeting, _created = meetings.meeting_record(
        by=inspector,
        client_uuid=uuid.uuid4(),
        settlement=village,
        held_at=timezone.now() + datetime.timedelta(hours=1, minutes=30),
        kind="yard_meeting",
        groups=[group],
        attendees=[volunteer.volunteer],
    )
    for _ in range(2):
        reminders.sweep()
    sent = Notification.objects.filter(kind="meeting_reminder", meeting=meeting)
    assert sorted(sent.values_list("user__username", flat=True)) == ["inspector", "volunteer"]
    assert all(row.details["lead_hours"] == 2 for row in sent)
    text = reminders.render(sent.get(user=volunteer), "en")
    assert village.name_en in text.body or village.name in text.body
    meetings.meeting_cancel(meeting=meeting, by=inspector, reason="Әкімдік залы бос емес")
    other, _created = meetings.meeting_record(
        by=inspector,
        client_uuid=uuid.uuid4(),
        settlement=village,
        held_at=timezone.now() + datetime.timedelta(hours=30),
        kind="school",
    )
    reminders.sweep()
    assert not Notification.objects.filter(kind="meeting_reminder", meeting=other).exists()
