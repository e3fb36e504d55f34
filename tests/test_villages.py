"""Village initiatives and crime-free settlements, from the inspector's meeting to the chief's totals.

The story of the acceptance: the Talgar inspector plans a meeting in Belbulak and holds it with the district's
volunteer group; the village adopts a refusal of alcohol; the district imports a zero count for every month so far.
The chief's and the analyst's totals move by exactly one meeting, one initiative settlement and one crime-free
settlement. One crime in a spring month turns the village out of "crime-free", and the totals follow. A missing
month is "no data", never crime-free. Another district's initiative or count is 404 for the inspector.
"""

import datetime
import io
import uuid

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from openpyxl import Workbook
from PIL import Image

from patrols.choices import MeetingStatus
from patrols.clock import local_today
from patrols.models import Initiative, InitiativeKind, SettlementCrimeCount, SettlementYearTally
from patrols.services import crime_counts, initiatives, meetings, villages
from patrols.services.tallies import tallies_rebuild
from tests.conftest import api_client_for
from tests.factories import SettlementFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def village(district):
    return SettlementFactory(district=district, code="KZ-19-TAL-BEL", kato="196830100", name_kk="Бельбулақ")


@pytest.fixture
def far_village(other_district):
    return SettlementFactory(district=other_district, code="KZ-35-ABA-TOP", kato="352030100", name_kk="Топар")


def months_so_far(year: int) -> list[datetime.date]:
    """Every month of the year up to this one (all twelve of a past year)."""
    today = local_today()
    last = 12 if year < today.year else today.month
    return [datetime.date(year, month, 1) for month in range(1, last + 1)]


def table(rows: list[tuple], header=("settlement", "month", "registered", "source")) -> SimpleUploadedFile:
    text = ";".join(header) + "\n" + "\n".join(";".join(str(cell) for cell in row) for row in rows) + "\n"
    return SimpleUploadedFile("counts.csv", text.encode(), content_type="text/csv")


def headline(client, **query) -> dict:
    answer = client.get("/api/v1/dashboard/totals/", {"year": local_today().year, **query})
    assert answer.status_code == 200, answer.json()
    body = answer.json()
    return {
        "meetings": body["meetings"]["count"],
        "initiative_settlements": body["initiative_settlements"]["count"],
        "crime_free_settlements": body["crime_free_settlements"]["count"],
    }


def test_a_village_that_refuses_alcohol_and_registers_no_crime_moves_the_totals_by_one(
    api, inspector, chief, analyst, village, group
):
    year = local_today().year
    before = {who: headline(api(who)) for who in (chief, analyst)}
    client = api(inspector)
    planned = client.post(
        "/api/v1/meetings/",
        {
            "client_uuid": str(uuid.uuid4()),
            "settlement": village.code,
            "held_at": (timezone.now() + datetime.timedelta(days=1)).isoformat(),
            "kind": "village_assembly",
            "topics": ["alcohol"],
            "groups": [group.pk],
        },
        format="json",
    ).json()
    held = client.post(f"/api/v1/meetings/{planned['id']}/hold/", {"residents": 85}, format="json")
    assert held.status_code == 200
    adopted = client.post(
        "/api/v1/initiatives/",
        {
            "settlement": village.code,
            "kind": "alcohol_refusal",
            "adopted_on": local_today().isoformat(),
            "meeting": planned["id"],
        },
        format="json",
    )
    assert adopted.status_code == 201, adopted.json()
    assert adopted.json()["status"] == "active" and adopted.json()["meeting"] == planned["id"]
    imported = client.post(
        "/api/v1/settlement-crimes/import/",
        {"file": table([(village.kato, f"{month:%Y-%m}", 0, "ЕРДР") for month in months_so_far(year)])},
        format="multipart",
    )
    assert imported.status_code == 200, imported.json()
    assert imported.json()["created"] == len(months_so_far(year))

    for who in (chief, analyst):
        after = headline(api(who))
        assert {key: after[key] - before[who][key] for key in after} == {
            "meetings": 1,
            "initiative_settlements": 1,
            "crime_free_settlements": 1,
        }
    detail = api(inspector).get(f"/api/v1/settlements/{village.code}/").json()
    assert [row["kind"] for row in detail["active_initiatives"]] == ["alcohol_refusal"]
    assert detail["crime_free"]["status"] == "crime_free"
    district_view = api(inspector).get("/api/v1/dashboard/totals/", {"year": year, "district": village.district.code})
    rows = {row["code"]: row for row in district_view.json()["by_settlement"]}
    assert rows[village.code]["initiative"] and rows[village.code]["crime_status"] == "crime_free"
    assert rows[village.code]["meetings"] == 1 and rows[village.code]["residents"] == 85

    # One crime in a month of the year: the village is no longer crime-free, and every total follows.
    one_crime = client.post(
        "/api/v1/settlement-crimes/",
        {"settlement": village.code, "month": f"{months_so_far(year)[0]:%Y-%m}", "registered": 1, "source": "ЕРДР"},
        format="json",
    )
    assert one_crime.status_code == 200, one_crime.json()
    for who in (chief, analyst):
        after = headline(api(who))
        assert after["crime_free_settlements"] - before[who]["crime_free_settlements"] == 0
        assert after["initiative_settlements"] - before[who]["initiative_settlements"] == 1
    assert api(inspector).get(f"/api/v1/settlements/{village.code}/").json()["crime_free"]["status"] == "crimes"
    assert tallies_rebuild(apply=False) == []


def test_a_missing_month_is_no_data_never_crime_free(inspector, village):
    last_year = local_today().year - 1
    kind = InitiativeKind.objects.get(code="alcohol_refusal")
    initiatives.initiative_record(
        by=inspector, settlement=village, kind=kind, adopted_on=datetime.date(last_year, 1, 9)
    )
    for month in months_so_far(last_year)[:-1]:
        crime_counts.crime_count_record(by=inspector, settlement=village, month=month, registered=0)
    assert villages.settlement_year(village, last_year).status == "no_data"
    rows = SettlementYearTally.objects.filter(year=last_year)
    assert villages.village_figures(rows, last_year) == {"initiative_settlements": 1, "crime_free_settlements": 0}
    crime_counts.crime_count_record(
        by=inspector, settlement=village, month=datetime.date(last_year, 12, 1), registered=0
    )
    assert villages.settlement_year(village, last_year).status == "crime_free"
    assert villages.village_figures(rows, last_year) == {"initiative_settlements": 1, "crime_free_settlements": 1}


def test_the_evidence_sets_the_months_after_adoption_against_as_many_before(inspector, village):
    today = local_today()
    adopted = datetime.date(today.year - 1, today.month, 1)
    kind = InitiativeKind.objects.get(code="alcohol_refusal")
    initiative = initiatives.initiative_record(by=inspector, settlement=village, kind=kind, adopted_on=adopted)
    for back in range(1, 25):
        index = today.year * 12 + today.month - 1 - back
        month = datetime.date(index // 12, index % 12 + 1, 1)
        registered = 2 if month < adopted else 0
        crime_counts.crime_count_record(by=inspector, settlement=village, month=month, registered=registered)
    evidence = villages.initiative_evidence(initiative)
    assert evidence.months == 12
    assert (evidence.before.recorded, evidence.before.crimes) == (12, 24)
    assert (evidence.after.recorded, evidence.after.crimes, evidence.after.complete) == (12, 0, True)


def test_one_active_initiative_of_a_kind_and_a_lapse_needs_a_reason(api, inspector, village):
    client = api(inspector)
    body = {"settlement": village.code, "kind": "alcohol_refusal", "adopted_on": "2026-02-01"}
    first = client.post("/api/v1/initiatives/", body, format="json").json()
    twice = client.post("/api/v1/initiatives/", body, format="json", HTTP_ACCEPT_LANGUAGE="en")
    assert twice.status_code == 400 and "already has an active initiative" in twice.json()["kind"][0]
    no_reason = client.post(f"/api/v1/initiatives/{first['id']}/lapse/", {"lapsed_on": "2026-06-01", "reason": ""})
    assert no_reason.status_code == 400 and "reason" in no_reason.json()
    too_early = client.post(f"/api/v1/initiatives/{first['id']}/lapse/", {"lapsed_on": "2026-01-01", "reason": "x"})
    assert too_early.status_code == 400 and "lapsed_on" in too_early.json()
    lapsed = client.post(
        f"/api/v1/initiatives/{first['id']}/lapse/", {"lapsed_on": "2026-06-01", "reason": "Той маусымы"}
    )
    assert lapsed.status_code == 200 and lapsed.json()["status"] == "lapsed"
    again = client.post("/api/v1/initiatives/", body | {"adopted_on": "2026-07-01"}, format="json")
    assert again.status_code == 201
    assert Initiative.objects.filter(settlement=village).count() == 2


def test_the_protocol_scan_is_kept_as_a_clean_image_and_shown_in_scope(api, inspector, other_inspector, village):
    buffer = io.BytesIO()
    Image.new("RGB", (600, 800), "white").save(buffer, format="PNG")
    scan = SimpleUploadedFile("protocol.png", buffer.getvalue(), content_type="image/png")
    created = api(inspector).post(
        "/api/v1/initiatives/",
        {"settlement": village.code, "kind": "drug_free", "adopted_on": "2026-03-02", "document": scan},
        format="multipart",
    )
    assert created.status_code == 201, created.json()
    url = created.json()["document"]
    assert api(inspector).get(url)["Content-Type"] == "image/jpeg"
    assert api(other_inspector).get(url).status_code == 404
    not_image = SimpleUploadedFile("protocol.pdf", b"%PDF-1.4 nonsense", content_type="application/pdf")
    refused = api(inspector).post(f"{url}", {"document": not_image}, format="multipart")
    assert refused.status_code == 400 and "document" in refused.json()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"registered": -1}, "registered"),
        ({"month": "2999-01"}, "month"),
        ({"month": "2026-13"}, "month"),
        ({"month": "March"}, "month"),
    ],
)
def test_a_bad_count_is_refused_and_changes_nothing(api, inspector, village, body, field):
    answer = api(inspector).post(
        "/api/v1/settlement-crimes/",
        {"settlement": village.code, "month": "2026-03", "registered": 0} | body,
        format="json",
        HTTP_ACCEPT_LANGUAGE="ru",
    )
    assert answer.status_code == 400 and field in answer.json()
    assert not SettlementCrimeCount.objects.exists() and not SettlementYearTally.objects.exists()


def test_an_import_with_one_bad_row_writes_nothing_and_names_every_problem(api, inspector, village, far_village):
    rows = [
        (village.kato, "2026-01", 0, "ЕРДР"),
        (village.kato, "2026-02", -3, "ЕРДР"),
        (far_village.kato, "2026-01", 0, ""),
        (village.kato, "2026-01", 1, "twice"),
        ("999999999", "2026-01", 0, ""),
        (village.kato, "2999-01", 0, ""),
    ]
    answer = api(inspector).post(
        "/api/v1/settlement-crimes/import/", {"file": table(rows)}, format="multipart", HTTP_ACCEPT_LANGUAGE="en"
    )
    assert answer.status_code == 400
    problems = {(p["row"], p["field"]) for p in answer.json()["problems"]}
    assert problems == {(3, "registered"), (4, "settlement"), (5, "month"), (6, "settlement"), (7, "month")}
    assert not SettlementCrimeCount.objects.exists()


def test_an_xlsx_import_twice_changes_nothing_the_second_time(api, inspector, village):
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["ӘАОЖ", "Ай", "Тіркелген қылмыстар", "Дереккөз"])
    sheet.append([int(village.kato), datetime.date(2026, 1, 1), 0, "ЕРДР"])
    sheet.append([int(village.kato), "02.2026", 2, "ЕРДР"])
    data = io.BytesIO()
    workbook.save(data)
    for expected in ({"created": 2, "updated": 0, "unchanged": 0}, {"created": 0, "updated": 0, "unchanged": 2}):
        upload = SimpleUploadedFile("counts.xlsx", data.getvalue())
        answer = api(inspector).post("/api/v1/settlement-crimes/import/", {"file": upload}, format="multipart")
        assert answer.status_code == 200, answer.json()
        assert answer.json() == expected
    assert SettlementYearTally.objects.get(settlement=village, year=2026).crimes == 2


def test_another_districts_initiatives_and_counts_are_not_found(api, inspector, other_inspector, far_village):
    kind = InitiativeKind.objects.get(code="alcohol_refusal")
    theirs = initiatives.initiative_record(
        by=other_inspector, settlement=far_village, kind=kind, adopted_on=datetime.date(2026, 1, 5)
    )
    crime_counts.crime_count_record(
        by=other_inspector, settlement=far_village, month=datetime.date(2026, 1, 1), registered=0
    )
    ours = api(inspector)
    assert ours.get(f"/api/v1/initiatives/{theirs.pk}/").status_code == 404
    assert (
        ours.post(f"/api/v1/initiatives/{theirs.pk}/lapse/", {"lapsed_on": "2026-02-01", "reason": "x"}).status_code
        == 404
    )
    assert ours.get("/api/v1/initiatives/").json()["results"] == []
    assert ours.get("/api/v1/settlement-crimes/").json()["results"] == []
    refused = ours.post(
        "/api/v1/settlement-crimes/", {"settlement": far_village.code, "month": "2026-02", "registered": 0}
    )
    assert refused.status_code == 400 and "settlement" in refused.json()
    assert SettlementCrimeCount.objects.count() == 1


def test_volunteers_see_no_crime_counts(api, volunteer, inspector, village):
    crime_counts.crime_count_record(by=inspector, settlement=village, month=datetime.date(2026, 1, 1), registered=3)
    assert api(volunteer).get("/api/v1/settlement-crimes/").json()["results"] == []
    assert api(volunteer).get(f"/api/v1/settlements/{village.code}/").json()["crime_free"] is None
    refused = api(volunteer).post(
        "/api/v1/settlement-crimes/", {"settlement": village.code, "month": "2026-02", "registered": 0}
    )
    assert refused.status_code == 403


def test_an_initiative_needs_a_held_meeting_of_its_own_village(inspector, village, district):
    other = SettlementFactory(district=district)
    meeting, _created = meetings.meeting_record(
        by=inspector,
        client_uuid=uuid.uuid4(),
        settlement=other,
        held_at=timezone.now() - datetime.timedelta(days=1),
        kind="village_assembly",
        status=MeetingStatus.HELD,
        residents=20,
    )
    kind = InitiativeKind.objects.get(code="alcohol_refusal")
    with pytest.raises(ValidationError) as error:
        initiatives.initiative_record(
            by=inspector, settlement=village, kind=kind, adopted_on=local_today(), meeting=meeting
        )
    assert "meeting" in error.value.message_dict
    assert not Initiative.objects.exists()


def test_the_admin_sets_the_prevention_targets_with_the_report_targets(web, admin_user, chief, district):
    from django.urls import reverse

    from patrols.models import Benchmark

    year = local_today().year
    path = f"{reverse('dashboard-targets')}?year={year}"
    client = web(admin_user)
    data = {"national_prevented": "16000", "national_solved": "320", "national_meetings": "6000"}
    data |= {"national_initiative": "550", "national_crime_free": "600"}
    refused = client.post(path, data, HTTP_ACCEPT_LANGUAGE="en")
    assert "among those with an initiative" in refused.content.decode()
    assert not Benchmark.objects.filter(year=year).exists()
    alone = {f"{district.region_id}_meetings": "40"}
    refused = client.post(path, {**data, "national_crime_free": "500", **alone}, HTTP_ACCEPT_LANGUAGE="en")
    assert "report targets too" in refused.content.decode()
    assert client.post(path, {**data, "national_crime_free": "500"}).status_code == 302
    national = Benchmark.objects.get(year=year, level="national")
    assert (national.meetings_target, national.initiative_target, national.crime_free_target) == (6000, 550, 500)
    totals = api_client_for(chief).get("/api/v1/dashboard/totals/", {"year": year}).json()
    assert totals["meetings"]["national_benchmark"] == 6000
    assert totals["initiative_settlements"]["national_benchmark"] == 550
