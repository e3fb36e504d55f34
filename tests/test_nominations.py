"""The quarterly nomination for rewards, as the district lives it: the inspector opens the quarter's nomination, the
app proposes the volunteers who meet the district's rules with their facts, the inspector proposes rewards and
submits, the akimat's commission decides (cash at most 15 MCI a person, within the quarter's budget), the volunteer
is told and sees it. Submitted nominations are frozen; a change makes a new version. The chief reads the region's;
anyone else gets 404. The nomination prints as a PDF in Kazakh and Russian and as an XLSX.
"""

import datetime
import io
from decimal import Decimal

import pytest
from django.contrib.gis.geos import Point
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from openpyxl import load_workbook

from patrols.choices import AssignmentStatus, NominationStatus, NotificationKind, RewardKind, VolunteerStatus
from patrols.models import (
    Assignment,
    LedgerMonth,
    McIValue,
    Nomination,
    NominationItem,
    Notification,
    RecognitionRules,
    RewardBudget,
)
from patrols.services import attendance, nomination_print, nominations, reporting, scheduling
from patrols.services.ledger import quarter_bounds
from tests.conftest import api_reader, reader
from tests.factories import MembershipFactory, ShiftFactory, UserFactory, VolunteerFactory
from tests.support.pdf_text import pdf_text
from tests.support.reports import file_report

pytestmark = pytest.mark.django_db

YEAR, QUARTER = nominations.current_quarter()
THIS_QUARTER = nominations.quarter_code(YEAR, QUARTER)
# The MCI of 2026 by the budget law, in tenge; a district's quarterly budget for cash rewards.
MCI = Decimal("4325")
BUDGET = Decimal("500000")
KAZAKH_LETTERS = "әғқңөұүһі"


@pytest.fixture
def api():
    """A DRF client for a persona, reading English (the words the tests look for)."""
    return lambda user: api_reader(user, "en")


@pytest.fixture
def web():
    """A browser of its own for a persona, reading English."""
    return lambda user: reader(user, "en")


@pytest.fixture
def mci(db):
    return McIValue.objects.create(year=YEAR, tenge=MCI)


@pytest.fixture
def budget(district):
    return RewardBudget.objects.create(district=district, year=YEAR, quarter=QUARTER, tenge=BUDGET)


def member(group, **names):
    """Another registered volunteer of `group`, with an account."""
    person = VolunteerFactory(district=group.district, user=UserFactory(), **names)
    MembershipFactory(volunteer=person, group=group)
    return person


def ledger(person, *, hours: float = 0, prevented: int = 0, no_shows: int = 0, shifts: int = 0) -> None:
    """A volunteer's ledger for this quarter, written directly (the stories about nominations only)."""
    today = timezone.localdate()
    figures = {"minutes": round(hours * 60), "report:prevented": prevented, "no_shows": no_shows, "shifts": shifts}
    for measure, amount in figures.items():
        if amount:
            LedgerMonth.objects.update_or_create(
                volunteer=person, year=today.year, month=today.month, measure=measure, defaults={"amount": amount}
            )


def patrolled(user, zone, inspector, group, *, shifts: int = 5, hours: int = 6) -> None:
    """`shifts` patrols of `hours` each, back to back before now: each checked in at its start (the phone did it
    then), the last checked out by the volunteer now, the rest closed by the periodic close at their end."""
    now = timezone.now()
    centre = zone.geometry.centroid
    last = None
    for number in range(shifts):
        ends = now - datetime.timedelta(minutes=1) - datetime.timedelta(hours=hours, minutes=10) * number
        shift = ShiftFactory(
            zone=zone,
            inspector=inspector,
            groups=[group],
            starts_at=ends - datetime.timedelta(hours=hours),
            ends_at=ends,
        )
        assignment = Assignment.objects.create(
            shift=shift,
            volunteer=user.volunteer,
            status=AssignmentStatus.CHECKED_IN,
            check_in_at=shift.starts_at,
            check_in_point=Point(centre.x, centre.y, srid=4326),
        )
        last = last or assignment
    attendance.shift_check_out(assignment=last, by=user, point=Point(centre.x, centre.y, srid=4326), accuracy_m=10)
    scheduling.shifts_close_finished()


def opened(client, district) -> Nomination:
    response = client.post("/nominations/open/", {"district": district.code, "quarter": THIS_QUARTER})
    assert response.status_code == 302, response.content[:500]
    return Nomination.objects.get(pk=int(response["Location"].rstrip("/").rsplit("/", 1)[1]))


def decide(api_client, nomination, *decisions, number="12", date=None):
    return api_client.post(
        f"/api/v1/nominations/{nomination.pk}/decide/",
        {
            "protocol_number": number,
            "protocol_date": (date or timezone.localdate()).isoformat(),
            "decisions": list(decisions),
        },
        format="json",
    )


def snapshot(nomination) -> list[tuple]:
    """Everything a refused change must leave as it was."""
    nomination.refresh_from_db()
    items = NominationItem.objects.filter(nomination=nomination).order_by("pk")
    return [
        (nomination.status, nomination.protocol_number, nomination.version),
        *items.values_list("volunteer_id", "kind", "amount_mci", "merit", "decision", "decided_tenge", "facts"),
    ]


# The story


def test_a_quarter_of_patrols_becomes_a_granted_reward_the_volunteer_sees(
    web, api, inspector, volunteer, zone, group, mci, budget
):
    patrolled(volunteer, zone, inspector, group)
    kept = file_report(volunteer)
    reporting.report_verify(report=kept, by=inspector)
    wrong = file_report(volunteer, description="Көршілер айқайлады, бірақ құқық бұзушылық болмады.")
    reporting.report_reject(report=wrong, by=inspector, reason="Құқық бұзушылық жоқ.")
    idle = member(group, last_name="Жұмабаев", first_name="Бауыржан")

    browser = web(inspector)
    nomination = opened(browser, volunteer.volunteer.district)
    [item] = nomination.items.all()
    assert item.volunteer == volunteer.volunteer and item.proposed_by_rules and item.kind == RewardKind.THANKS
    assert item.facts["hours"] == 30 and item.facts["reports"]["prevented"] == 1
    assert item.facts["group"] == group.name
    page = browser.get(f"/nominations/{nomination.pk}/")
    assert page.status_code == 200 and volunteer.volunteer.full_name in page.content.decode()
    assert idle.full_name in page.content.decode()  # offered to add, not proposed

    answer = browser.post(
        f"/nominations/{nomination.pk}/items/{item.pk}/",
        {"kind": RewardKind.CASH, "amount_mci": "10", "merit": "Түнгі рейдтерде тәртіп сақтады."},
    )
    assert answer.status_code == 302
    assert browser.post(f"/nominations/{nomination.pk}/submit/").status_code == 302
    nomination.refresh_from_db()
    assert nomination.status == NominationStatus.SUBMITTED

    granted = decide(api(inspector), nomination, {"item": item.pk, "decision": "granted"}, number="7-Қ")
    assert granted.status_code == 200, granted.content
    assert granted.json()["status"] == NominationStatus.DECIDED
    item.refresh_from_db()
    assert (item.decided_kind, item.decided_amount_mci, item.decided_tenge) == (
        RewardKind.CASH,
        Decimal("10.00"),
        Decimal("43250.00"),
    )
    assert granted.json()["budget"]["left"] == "456750.00"

    told = Notification.objects.get(user=volunteer, kind=NotificationKind.REWARD_DECIDED)
    assert told.details["decision"] == "granted"
    own = reader(volunteer, "en")
    inbox = own.get("/notifications/").content.decode()
    assert "cash reward of 10 MCI (43,250 tenge)" in inbox and "7-Қ" in inbox
    profile = own.get(f"/volunteers/{volunteer.volunteer.pk}/").content.decode()
    assert 'id="rewards"' in profile and "43,250" in profile


def test_a_cash_reward_over_15_mci_is_refused_and_nothing_changes(api, inspector, volunteer, mci, budget):
    ledger(volunteer.volunteer, hours=30, prevented=1)
    nomination = nominations.nomination_open(
        district=volunteer.volunteer.district, year=YEAR, quarter=QUARTER, by=inspector
    )
    [item] = nomination.items.all()
    client = api(inspector)
    before = snapshot(nomination)
    answer = client.patch(
        f"/api/v1/nominations/{nomination.pk}/items/{item.pk}/", {"kind": "cash", "amount_mci": "16"}, format="json"
    )
    assert answer.status_code == 400
    assert "at most 15 MCI" in answer.json()["amount_mci"][0]
    assert snapshot(nomination) == before

    fifteen = client.patch(
        f"/api/v1/nominations/{nomination.pk}/items/{item.pk}/", {"kind": "cash", "amount_mci": "15"}, format="json"
    )
    assert fifteen.status_code == 200, fifteen.content
    assert fifteen.json()["amount_mci"] == "15.00"
    assert client.post(f"/api/v1/nominations/{nomination.pk}/submit/").status_code == 200
    before = snapshot(nomination)
    changed = decide(client, nomination, {"item": item.pk, "decision": "changed", "kind": "cash", "amount_mci": "16"})
    assert changed.status_code == 400
    assert "at most 15 MCI" in " ".join(changed.json()["decisions"])
    assert snapshot(nomination) == before
    assert not Notification.objects.filter(kind=NotificationKind.REWARD_DECIDED).exists()


def test_cash_beyond_the_quarters_budget_is_refused_saying_what_is_left(
    api, inspector, volunteer, group, mci, district
):
    RewardBudget.objects.create(district=district, year=YEAR, quarter=QUARTER, tenge=Decimal("60000"))
    ledger(volunteer.volunteer, hours=30, prevented=1)
    other = member(group, last_name="Серікова", first_name="Дана")
    ledger(other, hours=40, prevented=2)
    nomination = nominations.nomination_open(district=district, year=YEAR, quarter=QUARTER, by=inspector)
    items = list(nomination.items.all())
    assert len(items) == 2
    for item in items:
        nominations.nomination_item_set(item=item, by=inspector, kind=RewardKind.CASH, amount_mci=Decimal("10"))
    nominations.nomination_submit(nomination=nomination, by=inspector)
    client = api(inspector)
    before = snapshot(nomination)

    # Two times 10 MCI is 86,500 tenge: more than the 60,000 of the budget.
    refused = decide(client, nomination, *[{"item": item.pk, "decision": "granted"} for item in items])
    assert refused.status_code == 400
    message = " ".join(refused.json()["decisions"])
    assert "86,500" in message and "60,000" in message
    assert snapshot(nomination) == before

    # One of them for 10, the other changed to a letter of thanks: within it, and the budget shows what is left.
    first, second = items
    granted = decide(
        client,
        nomination,
        {"item": first.pk, "decision": "granted"},
        {"item": second.pk, "decision": "changed", "kind": "thanks", "note": "Бюджет жетпеді."},
    )
    assert granted.status_code == 200, granted.content
    budget = nominations.budget_for(district, YEAR, QUARTER)
    assert (budget.granted, budget.left) == (Decimal("43250.00"), Decimal("16750.00"))


def test_no_cash_without_the_years_mci_value_or_a_budget(api, inspector, volunteer, district):
    ledger(volunteer.volunteer, hours=30, prevented=1)
    nomination = nominations.nomination_open(district=district, year=YEAR, quarter=QUARTER, by=inspector)
    [item] = nomination.items.all()
    nominations.nomination_item_set(item=item, by=inspector, kind=RewardKind.CASH, amount_mci=Decimal("5"))
    nominations.nomination_submit(nomination=nomination, by=inspector)
    before = snapshot(nomination)
    no_mci = decide(api(inspector), nomination, {"item": item.pk, "decision": "granted"})
    assert no_mci.status_code == 400 and "MCI value" in " ".join(no_mci.json()["decisions"])
    McIValue.objects.create(year=YEAR, tenge=MCI)
    no_budget = decide(api(inspector), nomination, {"item": item.pk, "decision": "granted"})
    assert no_budget.status_code == 400 and "No budget" in " ".join(no_budget.json()["decisions"])
    assert snapshot(nomination) == before


def test_every_person_gets_a_decision_and_a_protocol(api, inspector, volunteer, district, mci, budget):
    ledger(volunteer.volunteer, hours=30, prevented=1)
    nomination = nominations.nomination_open(district=district, year=YEAR, quarter=QUARTER, by=inspector)
    [item] = nomination.items.all()
    client = api(inspector)
    assert decide(client, nomination, {"item": item.pk, "decision": "granted"}).status_code == 400  # a draft
    nominations.nomination_submit(nomination=nomination, by=inspector)
    before = snapshot(nomination)
    assert decide(client, nomination, {"item": item.pk + 999, "decision": "granted"}).status_code == 400
    future = timezone.localdate() + datetime.timedelta(days=3)
    assert "protocol_date" in decide(client, nomination, {"item": item.pk, "decision": "refused"}, date=future).json()
    assert snapshot(nomination) == before
    refused = decide(client, nomination, {"item": item.pk, "decision": "refused", "note": "Келесі тоқсанда."})
    assert refused.status_code == 200
    told = Notification.objects.get(user=volunteer, kind=NotificationKind.REWARD_DECIDED)
    assert told.details["decision"] == "refused"
    assert nominations.rewards_of(volunteer.volunteer).count() == 0


# The district's rules and who may be nominated


def test_the_proposal_follows_the_districts_rules(web, inspector, volunteer, group, district):
    ledger(volunteer.volunteer, hours=24, prevented=1, no_shows=1)
    short = member(group, last_name="Әлиев", first_name="Арман")
    ledger(short, hours=23.5, prevented=3)
    absent = member(group, last_name="Бекова", first_name="Гүлнар")
    ledger(absent, hours=50, prevented=2, no_shows=2)
    applicant = member(group, last_name="Омаров", first_name="Ілияс")
    applicant.status = VolunteerStatus.APPLICANT
    applicant.registration_number, applicant.registered_on = "", None
    applicant.save()
    ledger(applicant, hours=60, prevented=4)

    proposed = {pk for pk, _facts in nominations.proposal(district, YEAR, QUARTER)}
    assert proposed == {volunteer.volunteer.pk}

    browser = web(inspector)
    saved = browser.post(
        f"/nominations/rules/{district.code}/", {"min_hours": "20", "min_prevented": "1", "max_no_shows": "2"}
    )
    assert saved.status_code == 302
    rules = RecognitionRules.objects.get(district=district)
    assert (rules.min_hours, rules.max_no_shows, rules.updated_by) == (20, 2, inspector)
    proposed = {pk for pk, _facts in nominations.proposal(district, YEAR, QUARTER)}
    assert proposed == {volunteer.volunteer.pk, short.pk, absent.pk}


def test_only_the_districts_registered_volunteers_can_be_added(
    api, inspector, volunteer, group, district, other_volunteer
):
    nomination = nominations.nomination_open(district=district, year=YEAR, quarter=QUARTER, by=inspector)
    assert nomination.items.count() == 0
    client = api(inspector)
    added = client.post(
        f"/api/v1/nominations/{nomination.pk}/items/", {"volunteer": volunteer.volunteer.pk}, format="json"
    )
    assert added.status_code == 201 and added.json()["kind"] == "thanks" and not added.json()["proposed_by_rules"]
    again = client.post(f"/api/v1/nominations/{nomination.pk}/items/", {"volunteer": volunteer.volunteer.pk})
    assert again.status_code == 400 and "already" in again.json()["volunteer"][0]
    # Another district's volunteer is not even in the inspector's scope.
    stranger = client.post(f"/api/v1/nominations/{nomination.pk}/items/", {"volunteer": other_volunteer.volunteer.pk})
    assert stranger.status_code == 400
    with pytest.raises(ValidationError):
        nominations.nomination_item_add(nomination=nomination, volunteer=other_volunteer.volunteer, by=inspector)
    gift_with_money = client.post(
        f"/api/v1/nominations/{nomination.pk}/items/",
        {"volunteer": member(group).pk, "kind": "gift", "amount_mci": "3"},
        format="json",
    )
    assert gift_with_money.status_code == 400 and "only for a cash reward" in gift_with_money.json()["amount_mci"][0]
    item = NominationItem.objects.get(nomination=nomination, volunteer=volunteer.volunteer)
    assert client.delete(f"/api/v1/nominations/{nomination.pk}/items/{item.pk}/").status_code == 204
    assert nomination.items.count() == 0
    assert client.post(f"/api/v1/nominations/{nomination.pk}/submit/").status_code == 400  # nobody on it


def test_one_current_version_per_quarter_and_no_quarter_ahead(api, inspector, district):
    client = api(inspector)
    first = client.post("/api/v1/nominations/", {"district": district.code, "quarter": THIS_QUARTER}, format="json")
    assert first.status_code == 201 and first.json()["quarter_code"] == THIS_QUARTER
    again = client.post("/api/v1/nominations/", {"district": district.code}, format="json")
    assert again.status_code == 200 and again.json()["id"] == first.json()["id"]
    ahead = f"{YEAR + 1}-Q1"
    assert client.post("/api/v1/nominations/", {"district": district.code, "quarter": ahead}).status_code == 400
    assert client.post("/api/v1/nominations/", {"district": district.code, "quarter": "2026/4"}).status_code == 400
    assert Nomination.objects.count() == 1


# Frozen once submitted


def test_a_submitted_nomination_is_frozen_and_a_revision_makes_version_2(web, api, inspector, volunteer, district):
    ledger(volunteer.volunteer, hours=30, prevented=1)
    nomination = nominations.nomination_open(district=district, year=YEAR, quarter=QUARTER, by=inspector)
    [item] = nomination.items.all()
    nominations.nomination_item_set(item=item, by=inspector, kind=RewardKind.CERTIFICATE, merit="Белсенді.")
    client = api(inspector)
    assert client.post(f"/api/v1/nominations/{nomination.pk}/submit/").status_code == 200
    first = snapshot(nomination)

    # More verified work after submission does not reach the submitted facts.
    ledger(volunteer.volunteer, hours=36, prevented=2)
    changed = client.patch(f"/api/v1/nominations/{nomination.pk}/items/{item.pk}/", {"merit": "Басқа."}, format="json")
    assert changed.status_code == 400 and "cannot be changed" in changed.json()["non_field_errors"][0]
    assert client.delete(f"/api/v1/nominations/{nomination.pk}/items/{item.pk}/").status_code == 400
    page = web(inspector).post(f"/nominations/{nomination.pk}/items/{item.pk}/", {"kind": "thanks"}, follow=True)
    assert "cannot be changed" in page.content.decode()
    assert snapshot(nomination) == first

    revised = client.post(f"/api/v1/nominations/{nomination.pk}/revise/")
    assert revised.status_code == 201
    body = revised.json()
    assert (body["version"], body["status"], body["supersedes"]) == (2, "draft", nomination.pk)
    assert [(i["volunteer"], i["kind"], i["merit"]) for i in body["items"]] == [
        (volunteer.volunteer.pk, "certificate", "Белсенді.")
    ]
    revision = Nomination.objects.get(pk=body["id"])
    nominations.nomination_submit(nomination=revision, by=inspector)
    assert revision.items.get().facts["hours"] == 36
    nomination.refresh_from_db()
    assert nomination.status == NominationStatus.SUPERSEDED
    assert snapshot(nomination)[1:] == first[1:] and nomination.items.get().facts["hours"] == 30
    assert client.get(f"/api/v1/nominations/{nomination.pk}/").json()["superseded_by"] == revision.pk
    # The superseded version is not revised again, nor decided.
    assert client.post(f"/api/v1/nominations/{nomination.pk}/revise/").status_code == 400


# Scope


def test_the_chief_reads_the_regions_nominations_and_others_get_404(
    web, api, inspector, chief, other_inspector, volunteer, district, neighbour_district, other_district
):
    ours = nominations.nomination_open(district=district, year=YEAR, quarter=QUARTER, by=inspector)
    neighbour_inspector = UserFactory(role="inspector", districts=[neighbour_district])
    theirs = nominations.nomination_open(
        district=neighbour_district, year=YEAR, quarter=QUARTER, by=neighbour_inspector
    )
    far = nominations.nomination_open(district=other_district, year=YEAR, quarter=QUARTER, by=other_inspector)

    listed = api(chief).get("/api/v1/nominations/", {"quarter": THIS_QUARTER}).json()
    assert {row["id"] for row in listed["results"]} == {ours.pk, theirs.pk}
    only = api(chief).get("/api/v1/nominations/", {"district": district.code, "quarter": THIS_QUARTER}).json()
    assert [row["id"] for row in only["results"]] == [ours.pk]
    assert api(chief).get("/api/v1/nominations/", {"quarter": "2026-Q5"}).status_code == 400
    assert api(inspector).get("/api/v1/nominations/").json()["count"] == 1

    page = web(chief).get("/nominations/")
    assert page.status_code == 200 and f'data-nomination="{theirs.pk}"' in page.content.decode()
    assert f'data-nomination="{far.pk}"' not in page.content.decode()
    detail = web(chief).get(f"/nominations/{ours.pk}/")
    assert detail.status_code == 200 and "nomination-submit" not in detail.content.decode()
    assert "/submit/" not in detail.content.decode()
    assert api(chief).post(f"/api/v1/nominations/{ours.pk}/submit/").status_code == 403
    assert web(chief).post(f"/nominations/{ours.pk}/submit/").status_code == 404
    with pytest.raises(ValidationError):
        nominations.nomination_open(district=district, year=YEAR, quarter=QUARTER, by=chief)

    for path in (
        f"/api/v1/nominations/{ours.pk}/",
        f"/nominations/{ours.pk}/",
        f"/nominations/{ours.pk}/nomination-kk.pdf",
        f"/nominations/{ours.pk}/nomination.xlsx",
    ):
        client = api(other_inspector) if path.startswith("/api/") else web(other_inspector)
        assert client.get(path).status_code == 404, path
    assert api(other_inspector).post(f"/api/v1/nominations/{ours.pk}/submit/").status_code == 404
    assert (
        api(other_inspector).post("/api/v1/nominations/", {"district": district.code}, format="json").status_code == 400
    )
    assert web(volunteer).get("/nominations/").status_code == 404
    assert api(volunteer).get(f"/api/v1/nominations/{ours.pk}/").status_code == 404


# Printing


@pytest.fixture
def decided(inspector, group, district, mci, budget):
    """A decided nomination of three people, one of them with every Kazakh letter in her name and merit."""
    named = member(group, last_name="Шаһмұратова", first_name="Әсемгүл", patronymic="Қанатқызы")
    ledger(named, hours=32.5, prevented=2, shifts=6)
    ledger(member(group, last_name="Ахметов", first_name="Нұрлан"), hours=28, prevented=1, shifts=5)
    ledger(member(group, last_name="Иванова", first_name="Ольга"), hours=40, prevented=1, shifts=7)
    nomination = nominations.nomination_open(district=district, year=YEAR, quarter=QUARTER, by=inspector)
    item = nomination.items.get(volunteer=named)
    nominations.nomination_item_set(
        item=item,
        by=inspector,
        kind=RewardKind.CASH,
        amount_mci=Decimal("7.5"),
        merit="Өз көшесінде тәртіп сақтап, еңбегімен ғибрат көрсетті.",
    )
    nominations.nomination_submit(nomination=nomination, by=inspector)
    nominations.nomination_decide(
        nomination=nomination,
        by=inspector,
        protocol_number="4",
        protocol_date=timezone.localdate(),
        decisions=[nominations.Decision(item_id=i.pk, decision="granted") for i in nomination.items.all()],
    )
    nomination.refresh_from_db()
    return nomination


def test_the_pdf_prints_kazakh_and_russian_with_every_kazakh_letter(web, inspector, decided):
    kazakh = " ".join(pdf_text(nomination_print.nomination_pdf(decided, language="kk", compress=False)).split())
    for word in ("Шаһмұратова", "Әсемгүл", "Қанатқызы", "Талғар ауданы", "Ахметов", "Нұрлан"):
        assert word in kazakh, word
    assert "ғибрат" in kazakh and "еңбегімен" in kazakh
    assert set(KAZAKH_LETTERS) <= set(kazakh)
    russian = " ".join(pdf_text(nomination_print.nomination_pdf(decided, language="ru", compress=False)).split())
    assert "Талгарский район" in russian and "Шаһмұратова" in russian and "Иванова" in russian

    for language in ("kk", "ru"):
        download = web(inspector).get(f"/nominations/{decided.pk}/nomination-{language}.pdf")
        assert download.status_code == 200 and download["Content-Type"] == "application/pdf"
        assert download.content.startswith(b"%PDF") and f"-{language}.pdf" in download["Content-Disposition"]
    assert web(inspector).get(f"/nominations/{decided.pk}/nomination-de.pdf").status_code == 404


def test_the_xlsx_holds_numbers_and_dates(web, inspector, decided):
    download = web(inspector).get(f"/nominations/{decided.pk}/nomination.xlsx")
    assert download.status_code == 200 and "attachment" in download["Content-Disposition"]
    sheet = load_workbook(io.BytesIO(download.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    labels = {row[0]: row[1] for row in rows[:9] if row and row[0]}
    submitted = labels["Submitted on"]
    assert isinstance(submitted, datetime.datetime) and submitted.date() == timezone.localdate(decided.submitted_at)
    assert labels["Protocol date"].date() == decided.protocol_date and labels["Version"] == 1
    header = next(index for index, row in enumerate(rows) if row and row[0] == "No.")
    columns = rows[header]
    people = {row[columns.index("Full name")]: dict(zip(columns, row, strict=True)) for row in rows[header + 1 :]}
    named = people["Шаһмұратова Әсемгүл Қанатқызы"]
    assert named["No."] == 3 and named["Hours"] == 32.5 and named["Shifts"] == 6 and named["prevented"] == 2
    assert named["Amount, MCI"] == 7.5 and named["Granted, MCI"] == 7.5
    assert named["Granted, tenge"] == float(Decimal("7.5") * MCI)
    assert people["Ахметов Нұрлан Серікұлы"]["Amount, MCI"] is None
    cells = {cell.value: cell for cell in sheet[header + 1 + 3]}
    assert cells[32.5].data_type == "n"


# The pages


def test_the_inspector_records_the_decision_on_the_page(web, inspector, volunteer, district, mci, budget):
    ledger(volunteer.volunteer, hours=30, prevented=1)
    browser = web(inspector)
    assert "/nominations/" in browser.get("/").content.decode()  # in the menu
    listing = browser.get("/nominations/")
    assert listing.status_code == 200 and 'action="/nominations/open/"' in listing.content.decode()
    nomination = opened(browser, district)
    [item] = nomination.items.all()
    browser.post(f"/nominations/{nomination.pk}/submit/")
    page = browser.get(f"/nominations/{nomination.pk}/").content.decode()
    assert f'name="decision-{item.pk}"' in page and f'action="/nominations/{nomination.pk}/revise/"' in page

    refused = browser.post(
        f"/nominations/{nomination.pk}/decide/",
        {
            "protocol_number": "9",
            "protocol_date": timezone.localdate().isoformat(),
            f"decision-{item.pk}": "changed",
            f"kind-{item.pk}": "cash",
            f"amount_mci-{item.pk}": "16",
        },
    )
    assert refused.status_code == 200 and "at most 15 MCI" in refused.content.decode()
    nomination.refresh_from_db()
    assert nomination.status == NominationStatus.SUBMITTED

    done = browser.post(
        f"/nominations/{nomination.pk}/decide/",
        {
            "protocol_number": "9",
            "protocol_date": timezone.localdate().isoformat(),
            f"decision-{item.pk}": "changed",
            f"kind-{item.pk}": "cash",
            f"amount_mci-{item.pk}": "12",
        },
        follow=True,
    )
    assert done.status_code == 200
    item.refresh_from_db()
    assert (item.decision, item.decided_amount_mci, item.decided_tenge) == ("changed", Decimal("12.00"), 12 * MCI)
    assert 'data-fact="decision"' in done.content.decode()


def test_the_admin_sets_the_mci_the_budget_and_the_rules(web, district):
    browser = web(UserFactory(username="root", role="admin", is_staff=True, is_superuser=True))
    for path in ("mcivalue", "rewardbudget", "recognitionrules"):
        assert browser.get(f"/admin/patrols/{path}/").status_code == 200, path
        assert browser.get(f"/admin/patrols/{path}/add/").status_code == 200, path
    assert browser.post("/admin/patrols/mcivalue/add/", {"year": YEAR, "tenge": "4325"}).status_code == 302
    assert nominations.mci_value(YEAR) == MCI


# What a page costs


def _queries(client, path: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(path)
    assert response.status_code == 200, (path, response.status_code)
    return len(captured)


@pytest.mark.parametrize("submitted", [False, True])
def test_the_nomination_costs_the_same_with_more_people(web, api, inspector, group, district, mci, budget, submitted):
    for number in range(3):
        ledger(member(group, last_name=f"Нұрланов{number}"), hours=30, prevented=1)
    nomination = nominations.nomination_open(district=district, year=YEAR, quarter=QUARTER, by=inspector)
    if submitted:
        nominations.nomination_submit(nomination=nomination, by=inspector)
    paths = (f"/nominations/{nomination.pk}/", f"/api/v1/nominations/{nomination.pk}/", "/api/v1/nominations/")
    browser, client = web(inspector), api(inspector)
    few = [_queries(browser if not p.startswith("/api/") else client, p) for p in paths]
    for number in range(5):
        person = member(group, last_name=f"Серікұлы{number}")
        NominationItem.objects.create(
            nomination=nomination, volunteer=person, kind=RewardKind.CASH, amount_mci=Decimal("2"), facts={}
        )
    more = [_queries(browser if not p.startswith("/api/") else client, p) for p in paths]
    assert few == more


def test_the_quarter_is_counted_in_whole_months():
    assert quarter_bounds(2026, 4) == (datetime.date(2026, 10, 1), datetime.date(2026, 12, 31))
    assert nominations.parse_quarter("2026-q2") == (2026, 2)
    with pytest.raises(ValidationError):
        nominations.parse_quarter("2026-Q0")
