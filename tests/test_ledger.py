"""A volunteer's ledger: what they did, verified, month by month, kept in step with every change and recountable.

Aigerim patrols five evenings of six hours (checked in and out on her phone), files a prevented offense that the
inspector verifies, a help to a citizen that he rejects, and a crime solved that he verifies and then rejects after
all; she takes part in a village meeting (another one, logged held by mistake, is cancelled), answers a call-out,
and misses one shift. Her ledger for the quarter shows exactly that, `rebuild_ledger --check` agrees, and a figure
meddled with is found and mended. She reads it on "My service" and downloads the record book; her inspector reads
it too; nobody outside their scope does.
"""

from __future__ import annotations

import datetime
import io
import re
import threading
import uuid
from decimal import Decimal

import openpyxl
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection, transaction
from django.db.models import F
from django.test.utils import CaptureQueriesContext
from django.utils import formats, timezone, translation

from patrols.choices import AssignmentStatus, MeetingStatus
from patrols.clock import local_day, local_today
from patrols.models import Assignment, Category, LedgerMonth, McIValue, Outcome, RewardBudget, Shift
from patrols.services import attendance, callouts, meetings, nominations, reporting, scheduling
from patrols.services.ledger import ledger_add, ledger_for, ledger_rebuild, quarter_bounds
from tests.conftest import api_reader, reader
from tests.factories import SettlementFactory, ShiftFactory
from tests.support.page_walk import ENGLISH_MONTHS

pytestmark = pytest.mark.django_db

CASE_NUMBER = "241975031000123"
EMPTY_REPORTS = {"prevented": 0, "solved": 0, "handed_over": 0, "assistance": 0, "info": 0}


def quarters_of(*moments: datetime.datetime) -> tuple[datetime.date, datetime.date]:
    """The quarter of the story (at the turn of a quarter, the two it falls in)."""
    days = sorted(local_day(moment) for moment in moments)
    first, _last = quarter_bounds(*nominations.current_quarter(days[0]))
    _first, last = quarter_bounds(*nominations.current_quarter(days[-1]))
    return first, last


def patrol(user, zone, inspector, group, *, hours: int) -> Assignment:
    """An evening's patrol that ended a minute ago: signed up before it started, checked in on the phone at the
    zone's centre (the check-in kept as at the start), checked out at the end."""
    now = timezone.now()
    shift = ShiftFactory(
        zone=zone,
        inspector=inspector,
        groups=[group],
        starts_at=now - datetime.timedelta(hours=hours, minutes=1),
        ends_at=now + datetime.timedelta(minutes=10),
    )
    seat = Assignment.objects.create(shift=shift, volunteer=user.volunteer)
    centre = zone.geometry.centroid
    seat = attendance.shift_check_in(assignment=seat, by=user, point=centre, accuracy_m=10)
    # Time passes: the phone's check-in was at the start, and now the shift is over.
    Assignment.objects.filter(pk=seat.pk).update(check_in_at=shift.starts_at)
    Shift.objects.filter(pk=shift.pk).update(ends_at=now - datetime.timedelta(minutes=1))
    return attendance.shift_check_out(assignment=seat, by=user, point=centre)


def missed(user, zone, inspector, group) -> Assignment:
    """A shift she signed up for, which ended an hour ago without her."""
    now = timezone.now()
    shift = ShiftFactory(zone=zone, inspector=inspector, groups=[group])
    seat = scheduling.shift_signup(shift=shift, volunteer=user.volunteer, by=user)
    Shift.objects.filter(pk=shift.pk).update(
        starts_at=now - datetime.timedelta(hours=4), ends_at=now - datetime.timedelta(hours=1)
    )
    return seat


def file(user, *, outcome: str, hours_ago: int, district, **extra):
    report, _created = reporting.report_submit(
        by=user,
        client_uuid=uuid.uuid4(),
        occurred_at=timezone.now() - datetime.timedelta(hours=hours_ago),
        point=district.centre,
        category=Category.objects.get(code="petty_hooliganism"),
        outcome=Outcome.objects.get(code=outcome),
        description="Аулада төбелес басталып кетті, тоқтаттық.",
        **extra,
    )
    return report


def meeting(inspector, village, attendees, *, hours_ago: int):
    held, _created = meetings.meeting_record(
        by=inspector,
        client_uuid=uuid.uuid4(),
        settlement=village,
        held_at=timezone.now() - datetime.timedelta(hours=hours_ago),
        kind="village_assembly",
        status=MeetingStatus.HELD,
        residents=40,
        attendees=attendees,
    )
    return held


@pytest.fixture
def village(district):
    return SettlementFactory(district=district, code="KZ-19-TAL-BEL", name_kk="Бельбулақ", name_ru="Бельбулак")


@pytest.fixture
def quarter_of_service(volunteer, inspector, zone, group, district, village):
    """Aigerim's quarter, lived through the services; returns its period (first and last day)."""
    for _evening in range(5):
        patrol(volunteer, zone, inspector, group, hours=6)
    prevented = file(volunteer, outcome="prevented", hours_ago=3, district=district)
    reporting.report_verify(report=prevented, by=inspector)
    helped = file(volunteer, outcome="assistance", hours_ago=2, district=district)
    reporting.report_reject(report=helped, by=inspector, reason="Бұл қызмет емес, жеке көмек.")
    solved = file(volunteer, outcome="solved", hours_ago=2, district=district, case_number=CASE_NUMBER)
    reporting.report_verify(report=solved, by=inspector)
    reporting.report_reject(report=solved, by=inspector, reason="Іс нөмірі басқа оқиғаға тиесілі екен.")
    meeting(inspector, village, [volunteer.volunteer], hours_ago=4)
    mistaken = meeting(inspector, village, [volunteer.volunteer], hours_ago=5)
    meetings.meeting_cancel(meeting=mistaken, by=inspector, reason="Қате енгізілді.")
    callout = callouts.callout_create(
        by=inspector,
        place="№3 мектеп алды",
        starts_at=timezone.now() + datetime.timedelta(hours=1),
        hours=2,
        needed=3,
        groups=[group],
        zone=zone,
    )
    callouts.callout_accept(callout=callout, volunteer=volunteer.volunteer, by=volunteer)
    seat = missed(volunteer, zone, inspector, group)
    scheduling.attendance_mark(assignment=seat, by=inspector, status=AssignmentStatus.NO_SHOW)
    now = timezone.now()
    return quarters_of(now - datetime.timedelta(hours=6, minutes=1), now + datetime.timedelta(hours=1))


def test_a_quarter_of_service_shows_exactly_what_was_verified(volunteer, quarter_of_service):
    ledger = ledger_for(volunteer.volunteer.pk, *quarter_of_service)

    assert ledger.as_dict() == {
        "shifts": 5,
        "hours": 30.0,
        "minutes": 30 * 60,
        "no_shows": 1,
        "meetings": 1,
        "callouts": 1,
        "reports": {**EMPTY_REPORTS, "prevented": 1},
    }


@translation.override("en")
def test_the_recount_agrees_then_finds_and_mends_a_meddled_figure(volunteer, quarter_of_service):
    out = io.StringIO()
    call_command("rebuild_ledger", "--check", stdout=out)
    assert "agree" in out.getvalue()

    mine = LedgerMonth.objects.filter(volunteer=volunteer.volunteer)
    mine.filter(measure="minutes").update(amount=F("amount") + 90)
    mine.filter(measure="meetings").delete()
    LedgerMonth.objects.create(volunteer=volunteer.volunteer, year=2024, month=5, measure="report:info", amount=3)

    out = io.StringIO()
    with pytest.raises(CommandError, match="3 ledger figures differ"):
        call_command("rebuild_ledger", "--check", stdout=out)
    found = out.getvalue()
    assert "measure=minutes" in found and f"kept {30 * 60 + 90}, counted {30 * 60}" in found
    assert "measure=meetings" in found and "kept 0, counted 1" in found
    assert "year=2024, month=5, measure=report:info" in found and "kept 3, counted 0" in found

    call_command("rebuild_ledger", stdout=io.StringIO())

    assert ledger_rebuild(apply=False) == []
    assert ledger_for(volunteer.volunteer.pk, *quarter_of_service).minutes == 30 * 60
    assert not LedgerMonth.objects.filter(year=2024).exists()


def test_the_close_of_a_shift_counts_its_absentees_and_its_open_check_ins(volunteer, leader, inspector, zone, group):
    """The periodic close: the one still checked in is checked out at the end, the one who never came is a no-show;
    the inspector then excuses the absent one, and sets the other's patrol to no time at all."""
    now = timezone.now()
    shift = ShiftFactory(zone=zone, inspector=inspector, groups=[group])
    absent = scheduling.shift_signup(shift=shift, volunteer=leader.volunteer, by=leader)
    Shift.objects.filter(pk=shift.pk).update(
        starts_at=now - datetime.timedelta(minutes=10), ends_at=now + datetime.timedelta(hours=3)
    )
    on_patrol = Assignment.objects.create(shift=shift, volunteer=volunteer.volunteer)
    attendance.shift_check_in(assignment=on_patrol, by=volunteer, point=zone.geometry.centroid, accuracy_m=10)
    ended = now - attendance.close_grace() - datetime.timedelta(minutes=1)
    Shift.objects.filter(pk=shift.pk).update(starts_at=ended - datetime.timedelta(hours=3), ends_at=ended)
    Assignment.objects.filter(pk=on_patrol.pk).update(check_in_at=ended - datetime.timedelta(hours=3))
    shift.refresh_from_db()
    period = quarters_of(shift.starts_at)

    assert scheduling.shifts_close_finished() == 1

    assert ledger_for(leader.volunteer.pk, *period).no_shows == 1
    patrolled = ledger_for(volunteer.volunteer.pk, *period)
    assert (patrolled.shifts, patrolled.minutes) == (1, 180)

    scheduling.attendance_mark(assignment=absent, by=inspector, status=AssignmentStatus.EXCUSED, note="Ауырып қалды.")
    attendance.attendance_correct_hours(assignment=on_patrol, by=inspector, minutes=0, reason="Аймаққа бармаған.")

    assert ledger_for(leader.volunteer.pk, *period).no_shows == 0
    patrolled = ledger_for(volunteer.volunteer.pk, *period)
    assert (patrolled.shifts, patrolled.minutes) == (0, 0)
    assert ledger_rebuild(apply=False) == []


def test_a_meeting_corrected_to_other_people_moves_to_them(volunteer, leader, inspector, village):
    held = meeting(inspector, village, [volunteer.volunteer], hours_ago=3)
    period = quarters_of(held.held_at)

    meetings.meeting_update(meeting=held, by=inspector, attendees=[leader.volunteer])

    assert ledger_for(volunteer.volunteer.pk, *period).meetings == 0
    assert ledger_for(leader.volunteer.pk, *period).meetings == 1
    assert ledger_rebuild(apply=False) == []


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_ten_changes_racing_to_open_a_month_all_count(volunteer):
    """The month's first figure is created by whichever change comes first; the others add to it."""
    barrier, errors = threading.Barrier(10), []
    day = datetime.date(2026, 11, 20)

    def add():
        try:
            barrier.wait()
            with transaction.atomic():
                ledger_add(volunteer_id=volunteer.volunteer.pk, day=day, measure="callouts", delta=1)
        except Exception as error:  # the test reports any failure below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=add) for _ in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert LedgerMonth.objects.get(volunteer=volunteer.volunteer, year=2026, month=11, measure="callouts").amount == 10


# Rewards the commission granted


@pytest.fixture
def granted(volunteer, inspector, district):
    """The commission granted Aigerim 10 MCI for this quarter's service, protocol No. 7 of today."""
    today = local_today()
    year, quarter = nominations.current_quarter(today)
    McIValue.objects.create(year=year, tenge=Decimal("4325"))
    RewardBudget.objects.create(district=district, year=year, quarter=quarter, tenge=Decimal("1000000"))
    nomination = nominations.nomination_open(district=district, year=year, quarter=quarter, by=inspector)
    item = nomination.items.filter(volunteer=volunteer.volunteer).first()
    if item is None:
        item = nominations.nomination_item_add(
            nomination=nomination, volunteer=volunteer.volunteer, by=inspector, kind="cash", amount_mci="10"
        )
    else:
        nominations.nomination_item_set(item=item, by=inspector, kind="cash", amount_mci="10")
    nominations.nomination_submit(nomination=nomination, by=inspector)
    nominations.nomination_decide(
        nomination=nomination,
        by=inspector,
        protocol_number="7",
        protocol_date=today,
        decisions=[nominations.Decision(item_id=item.pk, decision="granted")],
    )
    return today


# The API


def test_the_api_gives_the_ledger_and_the_rewards_to_whoever_may_see_the_volunteer(
    api, volunteer, inspector, chief, quarter_of_service, granted
):
    start, end = quarter_of_service
    path = f"/api/v1/volunteers/{volunteer.volunteer.pk}/ledger/?from={start}&to={end}"

    for reader_user in (volunteer, inspector, chief):
        response = api(reader_user).get(path)
        assert response.status_code == 200, (reader_user.username, response.content)
    body = response.json()
    assert body["from"] == start.isoformat() and body["to"] == end.isoformat()
    assert (body["shifts"], body["hours"], body["no_shows"], body["meetings"], body["callouts"]) == (5, 30.0, 1, 1, 1)
    assert body["reports"] == {**EMPTY_REPORTS, "prevented": 1}
    (reward,) = body["rewards"]
    assert reward["kind"] == "cash" and reward["amount_mci"] == "10.00" and reward["tenge"] == "43250.00"
    assert (reward["protocol_number"], reward["protocol_date"]) == ("7", granted.isoformat())


def test_the_ledger_api_defaults_to_this_year_so_far(api, volunteer, granted):
    body = api(volunteer).get(f"/api/v1/volunteers/{volunteer.volunteer.pk}/ledger/").json()
    today = local_today()
    assert (body["from"], body["to"]) == (datetime.date(today.year, 1, 1).isoformat(), today.isoformat())
    assert len(body["rewards"]) == 1
    last_year = api(volunteer).get(
        f"/api/v1/volunteers/{volunteer.volunteer.pk}/ledger/?from={today.year - 1}-01-01&to={today.year - 1}-12-31"
    )
    assert last_year.json()["rewards"] == [] and last_year.json()["minutes"] == 0


def test_someone_elses_ledger_is_not_found(api, volunteer, other_inspector, other_volunteer, quarter_of_service):
    path = f"/api/v1/volunteers/{volunteer.volunteer.pk}/ledger/"
    assert api(other_inspector).get(path).status_code == 404
    assert api(other_volunteer).get(path).status_code == 404
    assert api(volunteer).get("/api/v1/volunteers/999999/ledger/").status_code == 404


def test_a_bad_period_is_a_clear_400_in_the_readers_language(volunteer):
    path = f"/api/v1/volunteers/{volunteer.volunteer.pk}/ledger/"
    client = api_reader(volunteer, "ru")

    not_a_date = client.get(path, {"from": "03.12.2026"})
    assert not_a_date.status_code == 400 and list(not_a_date.json()) == ["from"]
    too_early = client.get(path, {"from": "1999-12-31", "to": "2026-01-31"})
    assert too_early.status_code == 400
    assert too_early.json() == {"from": ["Укажите дату между 2000 и 2100 годами."]}
    backwards = client.get(path, {"from": "2026-06-01", "to": "2026-05-31"})
    assert backwards.status_code == 400 and list(backwards.json()) == ["to"]


def test_the_ledger_api_costs_the_same_queries_for_a_long_service(api, volunteer, inspector, district):
    """A volunteer with three months and three rewards, then eight of each: the same number of queries."""
    path = f"/api/v1/volunteers/{volunteer.volunteer.pk}/ledger/?from=2020-01-01&to={local_today()}"
    year, quarter = nominations.current_quarter()
    quarters = []
    for _n in range(8):
        quarters.append((year, quarter))
        year, quarter = (year, quarter - 1) if quarter > 1 else (year - 1, 4)

    def serve(year: int, quarter: int) -> None:
        first, _last = quarter_bounds(year, quarter)
        for measure in ("minutes", "shifts", "report:prevented"):
            ledger_add(volunteer_id=volunteer.volunteer.pk, day=first, measure=measure, delta=1)
        nomination = nominations.nomination_open(district=district, year=year, quarter=quarter, by=inspector)
        item = nominations.nomination_item_add(nomination=nomination, volunteer=volunteer.volunteer, by=inspector)
        nominations.nomination_submit(nomination=nomination, by=inspector)
        nominations.nomination_decide(
            nomination=nomination,
            by=inspector,
            protocol_number=f"{year}-{quarter}",
            protocol_date=local_today(),
            decisions=[nominations.Decision(item_id=item.pk, decision="granted")],
        )

    def count() -> int:
        client = api(volunteer)
        with CaptureQueriesContext(connection) as captured:
            response = client.get(path)
        assert response.status_code == 200
        return len(captured)

    for year, quarter in quarters[:3]:
        serve(year, quarter)
    few = count()
    for year, quarter in quarters[3:]:
        serve(year, quarter)
    many = count()
    assert len(api(volunteer).get(path).json()["rewards"]) == 8
    assert many == few, (few, many)
    assert few <= 6


# The pages and the record book


def test_my_service_page_reads_in_kazakh(volunteer, quarter_of_service, granted):
    page = reader(volunteer, "kk").get("/service/")

    assert page.status_code == 200
    html = page.content.decode()
    with translation.override("kk"):
        this_month = formats.date_format(local_today().replace(day=1), "YEAR_MONTH_FORMAT")
        protocol_day = formats.date_format(granted, "DATE_FORMAT")
    assert re.fullmatch(r"\d{4} жылғы [а-яәғқңөұүһі]+", this_month)
    assert this_month in html
    assert protocol_day in html and "жылғы" in protocol_day
    assert f'data-month="{local_today():%Y-%m}"' in html and "/service/record-book.xlsx" in html
    assert not ENGLISH_MONTHS.search(html)


def test_home_links_to_my_service(volunteer):
    assert 'href="/service/"' in reader(volunteer, "kk").get("/").content.decode()


def test_the_inspector_reads_one_volunteers_service_in_scope_only(
    volunteer, inspector, other_inspector, quarter_of_service
):
    pk = volunteer.volunteer.pk
    assert reader(inspector, "ru").get(f"/volunteers/{pk}/service/").status_code == 200
    assert reader(inspector, "ru").get(f"/volunteers/{pk}/service/record-book.xlsx").status_code == 200
    assert reader(other_inspector, "ru").get(f"/volunteers/{pk}/service/").status_code == 404
    assert reader(other_inspector, "ru").get(f"/volunteers/{pk}/service/record-book.xlsx").status_code == 404
    # A police account has no service of its own.
    assert reader(inspector, "ru").get("/service/").status_code == 404


def test_the_record_book_holds_numbers_and_dates(volunteer, quarter_of_service, granted):
    response = reader(volunteer, "ru").get("/service/record-book.xlsx")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert "attachment" in response["Content-Disposition"]
    book = openpyxl.load_workbook(io.BytesIO(response.content))
    service, rewards = book.worksheets
    rows = list(service.iter_rows(values_only=True))
    assert isinstance(rows[3][1], datetime.datetime), "the day it was drawn up is a date"
    months = [row for row in rows if isinstance(row[0], datetime.datetime)]
    assert months, rows
    assert sum(row[1] for row in months) == 5 and all(isinstance(row[1], int) for row in months)
    assert sum(row[2] for row in months) == 30 and all(isinstance(row[2], int | float) for row in months)
    assert sum(row[3] for row in months) == 1
    assert all(row[0].day == 1 for row in months)
    _header, reward = list(rewards.iter_rows(values_only=True))
    assert reward[3] == 10 and isinstance(reward[3], int | float)
    assert reward[6] == datetime.datetime.combine(granted, datetime.time())
    assert isinstance(reward[0], int) and isinstance(reward[1], int)
