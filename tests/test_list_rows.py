"""The long lists phones read most (shifts, reports) are written row by row by plain functions, and a filed report is
answered from what the request holds; the reference lists a report reads come from the cache. Each must give
exactly what DRF's serializers give for the same rows, and a change to a reference list is seen at once."""

import datetime
import io
import uuid

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from PIL import Image
from rest_framework import serializers as drf
from rest_framework.request import Request
from rest_framework.test import APIRequestFactory

from patrols.api.reports import ReportSerializer, ReportViewSet
from patrols.api.serializers import ShiftSerializer
from patrols.models import AccessLogEntry, Category, Outcome, Report, Shift
from patrols.selectors import reference
from patrols.selectors.schedule import attach_staffing, shift_rows, shifts_with_staffing
from patrols.services import reporting, scheduling
from tests.factories import MembershipFactory, ShiftFactory, UserFactory, VolunteerFactory

pytestmark = pytest.mark.django_db

# Filing a report (with the reference lists cached): is it a retry, the shift, the group, the district, the previous
# position (a report, a check-in), likely duplicates, the savepoint, the report, its history line, the savepoint's
# release, the history read back. No second read of the report, no escalation, no category or outcome.
FILING_QUERIES = 12


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def drf_request(user, path: str = "/api/v1/") -> Request:
    request = Request(APIRequestFactory().get(path))
    request.user = user
    return request


def teammate(group, name: str):
    person = VolunteerFactory(district=group.district, user=UserFactory(username=name))
    MembershipFactory(volunteer=person, group=group)
    return person


@pytest.fixture
def busy_shifts(zone, group, inspector, volunteer):
    """Three shifts: one full with a waiting list, one the volunteer cancelled and took again, one empty."""
    start = timezone.now() + datetime.timedelta(days=2)
    full, retaken, empty = (
        ShiftFactory(zone=zone, inspector=inspector, groups=[group], starts_at=start + datetime.timedelta(days=n))
        for n in range(3)
    )
    for n in range(full.max_volunteers + 2):
        person = teammate(group, f"mate{n}")
        scheduling.shift_signup(shift=full, volunteer=person, by=person.user)
    first = scheduling.shift_signup(shift=retaken, volunteer=volunteer.volunteer, by=volunteer)
    scheduling.shift_cancel_signup(assignment=first, by=volunteer)
    scheduling.shift_signup(shift=retaken, volunteer=volunteer.volunteer, by=volunteer)
    full.cancel_reason = "Жаңбыр"
    full.save(update_fields=["cancel_reason"])
    return full, retaken, empty


@pytest.mark.parametrize("persona", ["volunteer", "inspector"])
def test_a_shift_list_row_is_what_the_serializer_gives(request, persona, busy_shifts):
    user = request.getfixturevalue(persona)
    visible = Shift.objects.visible_to(user)
    rows = attach_staffing(list(shift_rows(visible)), user)
    full = drf.ListSerializer(list(shifts_with_staffing(visible, user)), child=ShiftSerializer()).data
    assert ShiftSerializer(rows, many=True).data == full
    assert len(full) == 3
    assert [(row["signed_up"], row["waitlisted"]) for row in full] == [(4, 2), (1, 0), (0, 0)]
    expected_mine = [None, "signed_up", None] if persona == "volunteer" else [None, None, None]
    assert [row["my_assignment"] for row in full] == expected_mine


def test_a_volunteers_open_list_is_the_general_lists_answer(api, monkeypatch, volunteer, busy_shifts):
    """`?open=1` from a volunteer takes a query built once; any other form of the request the general way."""
    from rest_framework.pagination import PageNumberPagination

    client = api(volunteer)
    quick, general = client.get("/api/v1/shifts/?open=1").json(), client.get("/api/v1/shifts/?open=1&page=1").json()
    assert quick == general
    assert quick["count"] == len(quick["results"]) == 3
    assert [row["my_assignment"] for row in quick["results"]] == [None, "signed_up", None]
    # A full first page needs the count of the whole list and the link to the next: the general way gives them.
    monkeypatch.setattr(PageNumberPagination, "page_size", 2)
    full = client.get("/api/v1/shifts/?open=1").json()
    assert (full["count"], len(full["results"]), "page=2" in full["next"]) == (3, 2, True)
    assert full["results"] == general["results"][:2]


def test_a_volunteers_own_shifts_from_a_day_are_the_general_lists_answer(api, volunteer, busy_shifts):
    client = api(volunteer)
    today = timezone.localdate().isoformat()
    quick = client.get(f"/api/v1/shifts/?mine=1&from={today}").json()
    assert quick == client.get(f"/api/v1/shifts/?mine=1&from={today}&page=1").json()
    assert [row["my_assignment"] for row in quick["results"]] == ["signed_up"]
    later = (timezone.localdate() + datetime.timedelta(days=60)).isoformat()
    assert client.get(f"/api/v1/shifts/?mine=1&from={later}").json()["results"] == []
    # A day the filter refuses is refused the general way, with its message.
    assert client.get("/api/v1/shifts/?mine=1&from=someday").status_code == 400


def test_a_phones_unread_messages_are_the_general_lists_answer(api, monkeypatch, volunteer, shift):
    from rest_framework.pagination import PageNumberPagination

    from patrols.choices import NotificationKind
    from patrols.models import Notification

    for n in range(3):
        Notification.objects.create(user=volunteer, kind=NotificationKind.SHIFT_CHANGED, shift=shift, key=f"m{n}")
    Notification.objects.create(user=volunteer, kind=NotificationKind.SHIFT_CHANGED, key="read", read_at=timezone.now())
    client = api(volunteer)
    quick = client.get("/api/v1/notifications/?unread=1").json()
    assert quick == client.get("/api/v1/notifications/?unread=1&page=1").json()
    assert (quick["count"], [row["read"] for row in quick["results"]]) == (3, [False] * 3)
    assert all(shift.zone.name in row["text"] for row in quick["results"])
    monkeypatch.setattr(PageNumberPagination, "page_size", 2)
    full = client.get("/api/v1/notifications/?unread=1").json()
    assert full == client.get("/api/v1/notifications/?unread=1&page=1").json()
    assert (full["count"], len(full["results"]), "page=2" in full["next"]) == (3, 2, True)


def test_a_volunteers_own_reports_are_the_general_lists_answer(api, monkeypatch, volunteer, reports):
    """`?mine=1` from a volunteer takes queries built once, a full first page its count too; other forms of the
    request go the general way."""
    from rest_framework.pagination import PageNumberPagination

    client = api(volunteer)
    reference.category_codes(), reference.outcome_codes(), reference.district_codes()
    with CaptureQueriesContext(connection) as quick_queries:
        quick = client.get("/api/v1/reports/?mine=1").json()
    # The page and its photos (the reference lists are cached): no count for a page that is not full. (Counted
    # before the next request, which empties the connection's query log.)
    assert len(quick_queries) == 2, [q["sql"][:80] for q in quick_queries.captured_queries]
    general = client.get("/api/v1/reports/?mine=1&page=1").json()
    assert quick == general
    assert quick["count"] == len(quick["results"]) == 2
    assert [len(row["photos"]) for row in quick["results"]] == [1, 0]
    monkeypatch.setattr(PageNumberPagination, "page_size", 1)
    full, full_general = client.get("/api/v1/reports/?mine=1").json(), client.get("/api/v1/reports/?mine=1&page=1")
    assert full["count"] == full_general.json()["count"] == 2
    assert full["results"] == full_general.json()["results"] == general["results"][:1]
    assert full["next"] == "http://testserver/api/v1/reports/?mine=1&page=2"
    assert client.get(full["next"]).json()["results"] == general["results"][1:]


def test_a_sign_ups_answer_is_what_the_serializer_gives(shift, volunteer, inspector):
    from patrols.api.serializers import AttendanceSerializer
    from patrols.models import Assignment
    from patrols.selectors.schedule import assignment_as_answered

    now = timezone.now()
    confirmation = Assignment._meta.get_field("confirmation").choices[-1][0]
    doubt = Assignment._meta.get_field("confirmation_doubt").choices[-1][0]
    signed_up = Assignment.objects.create(shift=shift, volunteer=volunteer.volunteer, status="signed_up")
    mate = teammate(shift.groups.first(), "checked")
    checked_in = Assignment.objects.create(
        shift=shift,
        volunteer=mate,
        status="checked_in",
        check_in_at=now - datetime.timedelta(minutes=30),
        check_in_distance_m=140,
        check_in_outside=True,
        check_in_accuracy_m=35,
        confirmation=confirmation,
        confirmation_doubt=doubt,
        confirmed_by=inspector,
        confirmed_at=now,
        note="Кешікті",
    )
    for assignment in (signed_up, checked_in):
        answered = assignment_as_answered(assignment.pk)
        assert AttendanceSerializer.row(answered) == AttendanceSerializer(answered).data
    assert AttendanceSerializer.row(assignment_as_answered(checked_in.pk))["confirmed_by"] == inspector.username


def test_the_shift_lists_of_a_phone_take_a_fixed_number_of_queries(client, volunteer, busy_shifts, group, zone):
    from patrols.models import ApiToken

    _token, secret = ApiToken.objects.create(user=volunteer, device="phone")
    headers = {"HTTP_AUTHORIZATION": f"Token {secret}"}
    client.get("/api/v1/categories/", **headers)  # the token's first use of the minute writes last_used_at
    for week, path in enumerate(("/api/v1/shifts/?open=1", "/api/v1/shifts/?mine=1")):
        with CaptureQueriesContext(connection) as few:
            assert client.get(path, **headers).status_code == 200
        for n in range(4):
            more = ShiftFactory(
                zone=zone, groups=[group], starts_at=timezone.now() + datetime.timedelta(days=9 + 7 * week + n)
            )
            scheduling.shift_signup(shift=more, volunteer=volunteer.volunteer, by=volunteer)
        with CaptureQueriesContext(connection) as many:
            answer = client.get(path, **headers)
        # The token with its user, the page, its seats and its invited groups: no count within one page.
        assert len(few) == len(many) == 4, path
        assert answer.json()["count"] >= 4


def photo() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 30, 30)).save(buffer, "JPEG")
    return buffer.getvalue()


@pytest.fixture
def reports(volunteer, district, group):
    """A report with a photo, its likely duplicate by a teammate, and one filed away from any shift."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    mate = teammate(group, "mate")
    made = []
    for n, by in enumerate((volunteer, mate.user, volunteer)):
        report, _ = reporting.report_submit(
            by=by,
            client_uuid=uuid.uuid4(),
            occurred_at=timezone.now() - datetime.timedelta(minutes=10 + n),
            point=district.centre,
            category=Category.objects.get(code="petty_hooliganism"),
            outcome=Outcome.objects.get(code="prevented"),
            description=f"Оқиға №{n}",
            third_party_details="Бұзақы: Серік",
        )
        made.append(report)
    reporting.report_photo_add(report=made[0], by=volunteer, upload=SimpleUploadedFile("a.jpg", photo()))
    return made


@pytest.mark.parametrize("persona", ["volunteer", "inspector"])
def test_a_report_list_row_is_what_the_serializer_gives(request, persona, reports):
    user = request.getfixturevalue(persona)
    http = drf_request(user, "/api/v1/reports/")
    view = ReportViewSet(request=http, action="list", format_kwarg=None, kwargs={})
    rows = list(view.get_queryset())
    context = {"request": http}
    full = drf.ListSerializer(rows, child=ReportSerializer(context=context), context=context).data
    assert ReportSerializer(rows, many=True, context=dict(context)).data == full
    assert len(full) == (2 if persona == "volunteer" else 3)
    assert any(row["photos"] for row in full)
    assert any(row["flags"] for row in full)
    shown = {row["third_party_details"] for row in full}
    assert shown == ({None} if persona == "volunteer" else {"Бұзақы: Серік"})


def test_the_inspectors_report_list_still_logs_the_third_party_details_it_shows(api, inspector, reports):
    before = AccessLogEntry.objects.count()
    listed = api(inspector).get("/api/v1/reports/").json()["results"]
    assert len(listed) == 3
    assert AccessLogEntry.objects.count() > before


def test_the_answer_to_a_filed_report_is_the_report_as_it_reads_back(api, volunteer, district):
    client = api(volunteer)
    body = {
        "client_uuid": str(uuid.uuid4()),
        "occurred_at": (timezone.now() - datetime.timedelta(minutes=5)).isoformat(),
        "lat": district.centre.y,
        "lng": district.centre.x,
        "category": "petty_hooliganism",
        "outcome": "prevented",
        "description": "  Төбелес тоқтатылды.  ",
    }
    reference.categories(), reference.outcomes()
    with CaptureQueriesContext(connection) as filing:
        filed = client.post("/api/v1/reports/", body, format="json")
    assert filed.status_code == 201
    # The rules' own reads and the two inserts; the answer reads back only the history line.
    assert len(filing) <= FILING_QUERIES, [query["sql"][:120] for query in filing.captured_queries]
    assert filed.json() == client.get(f"/api/v1/reports/{filed.json()['id']}/").json()
    again = client.post("/api/v1/reports/", body, format="json")
    assert (again.status_code, again.json()) == (200, filed.json())
    assert Report.objects.filter(client_uuid=body["client_uuid"]).count() == 1


def test_the_reference_lists_are_read_once_and_dropped_on_every_change(django_assert_num_queries, district):
    reference.categories(), reference.outcomes(), reference.district_codes()
    with django_assert_num_queries(0):
        assert "petty_hooliganism" in reference.categories()
        assert reference.outcomes()["solved"].requires_case_number
        assert reference.district_codes()[district.pk] == district.code
    added = Category.objects.create(code="graffiti", name_kk="Граффити", name_ru="Граффити", name_en="Graffiti")
    assert reference.categories()["graffiti"].pk == added.pk
    added.is_active = False
    added.save()
    assert reference.categories()["graffiti"].is_active is False
    added.delete()
    assert "graffiti" not in reference.categories()
    district.code = "TALGAR-NEW"
    district.save()
    assert reference.district_codes()[district.pk] == "TALGAR-NEW"


def test_a_report_names_a_category_by_the_cached_list_and_an_unknown_one_is_refused(api, volunteer, district):
    reference.categories()
    Category.objects.create(code="graffiti", name_kk="Граффити", name_ru="Граффити", name_en="Graffiti")
    client = api(volunteer)
    body = {
        "client_uuid": str(uuid.uuid4()),
        "lat": district.centre.y,
        "lng": district.centre.x,
        "outcome": "prevented",
        "description": "Қабырғаға жазу.",
    }
    assert client.post("/api/v1/reports/", {**body, "category": "graffiti"}, format="json").status_code == 201
    refused = client.post(
        "/api/v1/reports/", {**body, "client_uuid": str(uuid.uuid4()), "category": "no-such"}, format="json"
    )
    assert refused.status_code == 400
    assert "category" in refused.json()
