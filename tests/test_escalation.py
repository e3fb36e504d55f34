"""A report that needs the police now goes straight to the district's duty unit.

The duty unit's system is played by a local HTTP server that checks every message's signature with the unit's key
and answers as the test tells it (a 500 first, then 200). The unit answers back on the integration endpoint,
signed the same way; a forged answer is refused and changes nothing. The volunteer sees the state on the report.
"""

from __future__ import annotations

import datetime
import hashlib
import hmac
import json
import uuid

import pytest
from django.contrib.gis.geos import Point
from django.utils import timezone

from patrols.choices import DutyUnitLevel, EscalationStatus, NotificationKind, ReportStatus
from patrols.models import DutyUnit, Escalation, Notification, Report
from patrols.services import escalation as escalations
from tests.conftest import reader
from tests.factories import DistrictFactory
from tests.support.duty_system import DutySystem

pytestmark = pytest.mark.django_db


@pytest.fixture
def unit(district):
    return DutyUnit.objects.create(
        level=DutyUnitLevel.DISTRICT, district=district, region=district.region, name="Талғар АПБ кезекші бөлімі"
    )


@pytest.fixture
def duty_system(unit):
    with DutySystem(unit.secret) as system:
        unit.webhook_url = system.url
        unit.save()
        yield system


@pytest.fixture
def report(volunteer, district):
    from patrols.models import Category, Outcome

    return Report.objects.create(
        reporter=volunteer.volunteer,
        filed_by=volunteer,
        district=district,
        occurred_at=timezone.now() - datetime.timedelta(minutes=3),
        location=Point(district.centre.x, district.centre.y, srid=4326),
        category=Category.objects.get(code="petty_hooliganism"),
        outcome=Outcome.objects.get(code="info"),
        description="Дүкен алдында төбелес жүріп жатыр, біреу жараланған.",
        third_party_details="Бұзақы: Серік Ахметов, ЖСН 900101300123",
    )


@pytest.fixture
def committed(django_capture_on_commit_callbacks, eager_celery):
    """`with committed():` runs what waits for the commit (the first attempt to reach the unit) as it would."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


@pytest.fixture
def escalate(api, committed):
    """`escalate(user, report, reason=..., note=...)`: the API call, its first sending attempt included."""

    def post(user, report, **body):
        with committed():
            return api(user).post(
                f"/api/v1/reports/{report.pk}/escalate/", {"reason": "crime_in_progress", **body}, format="json"
            )

    return post


def answer(api_client, unit, key, body: dict, *, secret: str | None = None):
    raw = json.dumps(body).encode()
    signature = "sha256=" + hmac.new((secret or unit.secret).encode(), raw, hashlib.sha256).hexdigest()
    return api_client.post(
        f"/api/v1/integrations/duty-units/{unit.pk}/escalations/{key}/status/",
        raw,
        content_type="application/json",
        HTTP_X_SIGNATURE=signature,
    )


def later(seconds: int) -> datetime.datetime:
    return timezone.now() + datetime.timedelta(seconds=seconds)


def test_the_unit_gets_a_signed_message_and_a_retry_after_a_500_carries_the_same_key(
    escalate, volunteer, report, unit, duty_system
):
    duty_system.answers = [500]

    response = escalate(volunteer, report, note="Тез келіңіздер")

    # The first attempt ran as the escalation was committed (eagerly here) and met a 500.
    assert response.status_code == 201, response.json()
    escalation = Escalation.objects.get(pk=response.json()["id"])
    assert escalation.status == EscalationStatus.PENDING
    assert escalation.attempts == 1
    first = duty_system.received[0]
    assert first["signature_ok"]
    assert first["key"] == str(escalation.key) == first["body"]["key"]
    assert first["body"]["reason"] == "crime_in_progress"
    assert first["body"]["report"]["id"] == report.pk
    assert first["body"]["report"]["district"] == report.district.code
    assert "Серік" not in json.dumps(first["body"], ensure_ascii=False)

    # Not yet due: nothing is sent again.
    assert escalations.escalation_send(escalation_id=escalation.pk) == "later"
    assert len(duty_system.received) == 1

    # 30 s later the retry goes out with the same key, and the unit takes it.
    assert escalations.escalation_send(escalation_id=escalation.pk, now=later(31)) == "sent"
    retry = duty_system.received[1]
    assert retry["signature_ok"]
    assert retry["key"] == first["key"]
    escalation.refresh_from_db()
    assert escalation.status == EscalationStatus.SENT
    assert escalation.delivered == ["webhook"]
    kinds = list(escalation.events.values_list("kind", flat=True))
    assert kinds == ["created", "attempt_failed", "delivered"]

    # Once through, it is never sent again, even when the sweep comes by.
    assert escalations.escalation_send(escalation_id=escalation.pk, now=later(4000)) == "done"
    assert escalations.escalations_due(now=later(4000)) == []
    assert len(duty_system.received) == 2


def test_asking_twice_returns_the_escalation_under_way_and_sends_nothing_more(
    escalate, volunteer, inspector, report, unit, duty_system
):
    first = escalate(volunteer, report)
    again = escalate(inspector, report, reason="injured_person")

    assert first.status_code == 201
    assert again.status_code == 200
    assert again.json()["id"] == first.json()["id"]
    assert again.json()["reason"] == "crime_in_progress"
    assert Escalation.objects.count() == 1
    assert len(duty_system.received) == 1


def test_a_unit_that_never_answers_is_given_up_after_the_last_wait(
    escalate, volunteer, report, unit, duty_system, settings
):
    settings.ESCALATION_RETRY_SECONDS = [30, 120]
    duty_system.answers = [503, 503, 503]
    escalation = Escalation.objects.get(pk=escalate(volunteer, report).json()["id"])

    assert escalations.escalation_send(escalation_id=escalation.pk, now=later(31)) == "retry"
    assert escalations.escalation_send(escalation_id=escalation.pk, now=later(200)) == "failed"

    escalation.refresh_from_db()
    assert escalation.status == EscalationStatus.FAILED
    assert escalation.attempts == 3
    assert "503" in escalation.last_error
    assert {r["key"] for r in duty_system.received} == {str(escalation.key)}
    # The volunteer is told the police could not be reached, so they call 102 themselves.
    told = Notification.objects.get(user=volunteer, kind=NotificationKind.ESCALATION_UPDATE)
    assert told.details["status"] == EscalationStatus.FAILED


def test_the_units_answer_moves_the_status_and_the_reporter_sees_it(
    api, escalate, client, volunteer, report, unit, duty_system
):
    escalation = Escalation.objects.get(pk=escalate(volunteer, report).json()["id"])

    received = answer(client, unit, escalation.key, {"status": "received", "text": "Қабылданды"})
    on_way = answer(client, unit, escalation.key, {"status": "officer_sent", "text": "Экипаж 12 жолда, 7 минут"})
    replay = answer(client, unit, escalation.key, {"status": "officer_sent", "text": "Экипаж 12 жолда, 7 минут"})

    assert received.status_code == on_way.status_code == replay.status_code == 200
    escalation.refresh_from_db()
    assert escalation.status == EscalationStatus.OFFICER_SENT
    answers = escalation.events.filter(kind="answered")
    assert [(e.status, e.text) for e in answers] == [
        ("received", "Қабылданды"),
        ("officer_sent", "Экипаж 12 жолда, 7 минут"),
    ]
    # An answer that comes late never moves the status back; its words stay in the history.
    answer(client, unit, escalation.key, {"status": "received", "text": "Қайталау"})
    escalation.refresh_from_db()
    assert escalation.status == EscalationStatus.OFFICER_SENT

    # The volunteer is told (in the inbox) and reads it on the report's page.
    updates = Notification.objects.filter(user=volunteer, kind=NotificationKind.ESCALATION_UPDATE)
    assert {n.details.get("answer") for n in updates} >= {"received", "officer_sent"}
    page = reader(volunteer, "en").get(f"/reports/{report.pk}/")
    assert page.status_code == 200
    text = page.content.decode()
    assert "An officer is on the way" in text
    assert "Экипаж 12 жолда, 7 минут" in text

    # The phone reads the same on the report through the API.
    seen = api(volunteer).get(f"/api/v1/reports/{report.pk}/").json()["escalation"]
    assert seen["status"] == "officer_sent"
    assert seen["history"][-1]["text"] == "Қайталау"

    # The escalation changes nothing in the figures: the report still waits for verification.
    report.refresh_from_db()
    assert report.status == ReportStatus.SUBMITTED


def test_a_forged_or_other_units_answer_is_refused_and_changes_nothing(
    escalate, client, volunteer, report, unit, duty_system, other_district
):
    escalation = Escalation.objects.get(pk=escalate(volunteer, report).json()["id"])
    other_unit = DutyUnit.objects.create(
        level=DutyUnitLevel.DISTRICT, district=other_district, region=other_district.region, name="Абай АПБ"
    )
    before = (escalation.status, escalation.events.count())

    forged = answer(client, unit, escalation.key, {"status": "closed"}, secret="not-the-key")
    unsigned = client.post(
        f"/api/v1/integrations/duty-units/{unit.pk}/escalations/{escalation.key}/status/",
        {"status": "closed"},
        content_type="application/json",
    )
    # Another unit signing with its own key cannot answer for this one: the key is not among its escalations.
    wrong_unit = answer(client, other_unit, escalation.key, {"status": "closed"})
    # Another unit's signature on this unit's address is a forgery.
    wrong_key = answer(client, unit, escalation.key, {"status": "closed"}, secret=other_unit.secret)
    unknown = answer(client, unit, uuid.uuid4(), {"status": "closed"})

    assert forged.status_code == unsigned.status_code == wrong_key.status_code == 403
    assert wrong_unit.status_code == unknown.status_code == 404
    escalation.refresh_from_db()
    assert (escalation.status, escalation.events.count()) == before
    junk = answer(client, unit, escalation.key, {"status": "sent"})
    assert junk.status_code == 400


def test_a_district_without_a_duty_unit_gets_a_clear_400(api, volunteer, report, eager_celery):
    response = api(volunteer).post(
        f"/api/v1/reports/{report.pk}/escalate/",
        {"reason": "missing_child"},
        format="json",
        HTTP_ACCEPT_LANGUAGE="en",
    )

    assert response.status_code == 400
    assert "has no duty unit" in json.dumps(response.json())
    assert "102" in json.dumps(response.json())
    assert not Escalation.objects.exists()


def test_out_of_scope_is_404_and_others_in_scope_cannot_escalate(
    escalate, report, unit, other_inspector, chief, inspector, duty_system
):
    assert escalate(other_inspector, report).status_code == 404
    assert escalate(chief, report).status_code == 403
    assert not Escalation.objects.exists()
    # The district's inspector may.
    assert escalate(inspector, report).status_code == 201


def test_the_report_page_offers_the_button_with_a_confirm_step(volunteer, report, unit, duty_system, committed):
    browser = reader(volunteer, "en")

    page = browser.get(f"/reports/{report.pk}/").content.decode()
    assert "Needs the police now" in page

    confirm = browser.get(f"/reports/{report.pk}/escalate/")
    assert confirm.status_code == 200
    assert not Escalation.objects.exists()

    with committed():
        done = browser.post(f"/reports/{report.pk}/escalate/", {"reason": "injured_person", "note": ""})
    assert done.status_code == 302
    escalation = Escalation.objects.get()
    assert escalation.reason == "injured_person"
    assert duty_system.received[0]["signature_ok"]


def test_a_district_elsewhere_is_not_reached(escalate, volunteer, report, unit, duty_system):
    """The unit of the report's own district is the one reached, never a neighbour's."""
    neighbour = DistrictFactory(code="KZ-19-ENB")
    DutyUnit.objects.create(level=DutyUnitLevel.DISTRICT, district=neighbour, region=neighbour.region, name="Еңбек")
    escalate(volunteer, report)
    assert Escalation.objects.get().unit == unit
