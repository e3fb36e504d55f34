"""The inspector's prevention pages, phone first.

The Talgar inspector opens the district's villages: Belbulak refuses alcohol and has a zero count for every month so
far (crime-free), Kyzylkairat registered crimes, Tuzdybastau has no counts at all (no data, never crime-free). The
inspector logs a meeting held in Belbulak from the form without JavaScript (a retry of the same device id adds
nothing), records a month's count and an initiative from the village page, and imports a table with one bad row,
which writes nothing and names the row. Another district's village is 404; a volunteer has no village pages.
"""

import datetime
import io
import uuid

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone
from PIL import Image

from patrols.choices import InitiativeStatus, MeetingStatus
from patrols.clock import local_today
from patrols.models import (
    Initiative,
    InitiativeKind,
    Meeting,
    MeetingPhoto,
    SettlementCrimeCount,
)
from patrols.services import crime_counts, initiatives, meetings
from tests.factories import DistrictFactory, SettlementFactory

pytestmark = pytest.mark.django_db

# Session, user, the bell, the districts, the page and its count, initiatives, meetings, tallies: not one per village.
QUERIES_FOR_THE_VILLAGE_LIST = 10


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def village(district):
    return SettlementFactory(
        district=district, code="KZ-19-TAL-BEL", name_kk="Бельбулақ", name_ru="Бельбулак", name_en="Belbulak"
    )


@pytest.fixture
def crime_village(district):
    return SettlementFactory(
        district=district, code="KZ-19-TAL-KYZ", name_kk="Қызылқайрат", name_ru="Кызылкайрат", name_en="Kyzylkairat"
    )


@pytest.fixture
def silent_village(district):
    return SettlementFactory(
        district=district, code="KZ-19-TAL-TUZ", name_kk="Тұздыбастау", name_ru="Туздыбастау", name_en="Tuzdybastau"
    )


@pytest.fixture
def far_village(other_district):
    return SettlementFactory(district=other_district, code="KZ-35-ABA-TOP", name_kk="Топар", name_en="Topar")


@pytest.fixture
def english(client):
    client.cookies["django_language"] = "en"
    return client


def months_so_far() -> list[datetime.date]:
    today = local_today()
    return [datetime.date(today.year, month, 1) for month in range(1, today.month + 1)]


def jpeg() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (640, 480), (30, 90, 160)).save(out, format="JPEG")
    return out.getvalue()


def local_input(moment: datetime.datetime) -> str:
    """A moment as the phone's datetime-local field writes it, in Almaty time."""
    return timezone.localtime(moment).strftime("%Y-%m-%dT%H:%M")


def row_of(html: str, code: str) -> str:
    start = html.index(f'data-settlement="{code}"')
    return html[start : html.index("</tr>", start)]


def test_the_inspector_sees_their_villages_with_their_status(
    web, english, inspector, village, crime_village, silent_village, far_village
):
    kind = InitiativeKind.objects.get(code="alcohol_refusal")
    initiatives.initiative_record(by=inspector, settlement=village, kind=kind, adopted_on=local_today())
    for month in months_so_far():
        crime_counts.crime_count_record(by=inspector, settlement=village, month=month, registered=0)
    crime_counts.crime_count_record(by=inspector, settlement=crime_village, month=months_so_far()[0], registered=2)
    meetings.meeting_record(
        by=inspector,
        client_uuid=uuid.uuid4(),
        settlement=village,
        held_at=timezone.now() - datetime.timedelta(hours=2),
        kind="village_assembly",
        status=MeetingStatus.HELD,
        residents=40,
    )

    page = web(inspector).get(reverse("village-list"))

    assert page.status_code == 200
    html = page.content.decode()
    assert "Topar" not in html, "another district's village is not listed"
    required = local_today().month - 1
    belbulak = row_of(html, village.code)
    assert "Refusal of alcohol" in belbulak and "Crime-free" in belbulak
    assert f"{local_today().month} of {required} months recorded" in belbulak
    assert '<td data-label="Meetings held in' in belbulak and ">1</td>" in belbulak
    assert "2 crimes" in row_of(html, crime_village.code)
    silent = row_of(html, silent_village.code)
    assert "No data" in silent and f"0 of {required} months recorded" in silent
    assert ">0</td>" in silent


def test_another_districts_village_is_not_found(web, inspector, other_inspector, far_village, other_district):
    client = web(inspector)
    assert client.get(reverse("village-detail", args=[far_village.code])).status_code == 404
    assert client.get(reverse("village-list"), {"district": other_district.code}).status_code == 404
    assert client.get(reverse("village-detail", args=["NO-SUCH-PLACE"])).status_code == 404
    # Recording in it is no way round: the page is not found before anything is read.
    answer = client.post(
        reverse("village-detail", args=[far_village.code]), {"form": "count", "month": "2026-01", "registered": 0}
    )
    assert answer.status_code == 404
    assert SettlementCrimeCount.objects.count() == 0
    assert web(other_inspector).get(reverse("village-detail", args=[far_village.code])).status_code == 200


def test_a_chief_chooses_among_the_regions_districts(web, english, chief, village, neighbour_district, far_village):
    SettlementFactory(district=neighbour_district, code="KZ-19-ILI-OTE", name_en="Otegen Batyr")
    client = web(chief)
    everything = client.get(reverse("village-list")).content.decode()
    assert "Belbulak" in everything and "Otegen Batyr" in everything and "Topar" not in everything
    assert 'name="district"' in everything
    one = client.get(reverse("village-list"), {"district": neighbour_district.code}).content.decode()
    assert "Otegen Batyr" in one and "Belbulak" not in one
    assert client.get(reverse("village-list"), {"district": "KZ-35-ABA"}).status_code == 404


def test_the_village_list_pages_by_fifty(web, inspector, district):
    for number in range(51):
        SettlementFactory(district=district, code=f"KZ-19-TAL-{number:03d}")
    client = web(inspector)
    first = client.get(reverse("village-list")).content.decode()
    assert first.count("data-settlement=") == 50
    second = client.get(reverse("village-list"), {"page": 2}).content.decode()
    assert second.count("data-settlement=") == 1


def test_the_village_list_reads_a_fixed_number_of_queries(web, inspector, district, django_assert_max_num_queries):
    kind = InitiativeKind.objects.get(code="alcohol_refusal")
    for number in range(8):
        place = SettlementFactory(district=district, code=f"KZ-19-TAL-{number:03d}")
        initiatives.initiative_record(by=inspector, settlement=place, kind=kind, adopted_on=local_today())
        crime_counts.crime_count_record(by=inspector, settlement=place, month=months_so_far()[0], registered=number)
    client = web(inspector)
    with django_assert_max_num_queries(QUERIES_FOR_THE_VILLAGE_LIST):
        page = client.get(reverse("village-list"))
    assert page.content.decode().count("data-settlement=") == 8


def test_a_volunteer_has_no_village_pages(web, volunteer, village):
    client = web(volunteer)
    assert client.get(reverse("village-list")).status_code == 403
    assert client.get(reverse("village-detail", args=[village.code])).status_code == 403
    assert client.get(reverse("meeting-new")).status_code == 403
    assert client.get(reverse("crime-import")).status_code == 403
    assert client.get(reverse("meeting-list")).status_code == 200, "the meetings they took part in, if any"
    assert "/villages/" not in client.get(reverse("home")).content.decode()


def meeting_form(village, group, **overrides) -> dict:
    """A village assembly about alcohol held an hour ago, as the phone form posts it without JavaScript."""
    data = {
        "client_uuid": str(uuid.uuid4()),
        "settlement": village.code,
        "kind": "village_assembly",
        "status": MeetingStatus.HELD,
        "held_at": local_input(timezone.now() - datetime.timedelta(hours=1)),
        "duration_minutes": 90,
        "residents": 45,
        "topics": ["alcohol"],
        "groups": [group.pk],
        "decisions": "Ауыл ішімдіктен бас тарту туралы шешім қабылдады.",
        "notes": "",
        "lat": "",
        "lng": "",
    }
    return data | overrides


def test_a_held_meeting_logged_without_javascript_is_created_once(web, english, inspector, village, group):
    client = web(inspector)
    assert client.get(reverse("meeting-new")).status_code == 200
    body = meeting_form(village, group)

    logged = client.post(reverse("meeting-new"), body | {"photo": SimpleUploadedFile("hall.jpg", jpeg())})

    meeting = Meeting.objects.get()
    assert logged.status_code == 302 and logged["Location"] == reverse("meeting-detail", args=[meeting.pk])
    assert (meeting.status, meeting.residents, meeting.settlement) == (MeetingStatus.HELD, 45, village)
    assert list(meeting.topics.values_list("code", flat=True)) == ["alcohol"]
    assert list(meeting.groups.all()) == [group]
    assert list(meeting.officers.all()) == [inspector]
    assert meeting.location.equals_exact(village.centre, 1e-9), "no position from the phone: the village's centre"
    assert MeetingPhoto.objects.filter(meeting=meeting).count() == 1

    # The connection broke after sending and the inspector sends the same form again: nothing is added.
    again = client.post(reverse("meeting-new"), body | {"photo": SimpleUploadedFile("hall.jpg", jpeg())}, follow=True)
    assert again.redirect_chain[-1][0] == reverse("meeting-detail", args=[meeting.pk])
    assert "already received" in again.content.decode()
    assert Meeting.objects.count() == 1 and MeetingPhoto.objects.count() == 1

    detail = client.get(reverse("meeting-detail", args=[meeting.pk])).content.decode()
    assert "Belbulak" in detail and "Marked as held" in detail and "Photo added" in detail
    assert 'id="hold"' not in detail, "a held meeting is not marked held again"


def test_a_held_meeting_in_the_future_is_refused_and_nothing_is_created(web, english, inspector, village, group):
    body = meeting_form(village, group, held_at=local_input(timezone.now() + datetime.timedelta(days=2)))

    page = web(inspector).post(reverse("meeting-new"), body)

    assert page.status_code == 200
    assert "A meeting held cannot be in the future: plan it instead." in page.content.decode()
    assert Meeting.objects.count() == 0


def test_a_position_outside_the_district_is_refused_on_top_of_the_form(web, english, inspector, village, group):
    body = meeting_form(village, group, lat="51.0", lng="71.0")
    page = web(inspector).post(reverse("meeting-new"), body)
    assert page.status_code == 200
    html = page.content.decode()
    assert 'class="errors"' in html and "outside" in html
    assert Meeting.objects.count() == 0


def test_a_planned_meeting_is_marked_held_or_cancelled_from_its_page(web, english, inspector, other_inspector, village):
    planned, _created = meetings.meeting_record(
        by=inspector,
        client_uuid=uuid.uuid4(),
        settlement=village,
        held_at=timezone.now() + datetime.timedelta(days=1),
        kind="school",
    )
    client = web(inspector)
    page = client.get(reverse("meeting-detail", args=[planned.pk])).content.decode()
    assert 'id="hold"' in page and 'id="cancel"' in page
    assert web(other_inspector).get(reverse("meeting-detail", args=[planned.pk])).status_code == 404
    client = web(inspector)

    refused = client.post(reverse("meeting-hold", args=[planned.pk]), {"residents": ""}, follow=True)
    assert refused.status_code == 200
    planned.refresh_from_db()
    assert planned.status == MeetingStatus.PLANNED

    client.post(reverse("meeting-hold", args=[planned.pk]), {"residents": 30})
    planned.refresh_from_db()
    assert (planned.status, planned.residents) == (MeetingStatus.HELD, 30)

    other, _created = meetings.meeting_record(
        by=inspector,
        client_uuid=uuid.uuid4(),
        settlement=village,
        held_at=timezone.now() + datetime.timedelta(days=3),
        kind="school",
    )
    empty = client.post(reverse("meeting-cancel", args=[other.pk]), {"reason": ""}, follow=True)
    assert "error" in empty.content.decode()
    client.post(reverse("meeting-cancel", args=[other.pk]), {"reason": "Мектепте карантин."})
    other.refresh_from_db()
    assert (other.status, other.cancel_reason) == (MeetingStatus.CANCELLED, "Мектепте карантин.")
    listed = client.get(reverse("meeting-list"), {"status": MeetingStatus.CANCELLED}).content.decode()
    assert f'data-meeting="{other.pk}"' in listed and f'data-meeting="{planned.pk}"' not in listed


def test_recording_a_month_and_an_initiative_from_the_village_page(web, english, inspector, village):
    client = web(inspector)
    url = reverse("village-detail", args=[village.code])
    month = local_today().replace(day=1)

    recorded = client.post(url, {"form": "count", "month": month.strftime("%Y-%m"), "registered": 0, "source": "ЕРДР"})
    assert recorded.status_code == 302
    assert SettlementCrimeCount.objects.get().registered == 0
    client.post(url, {"form": "count", "month": month.strftime("%Y-%m"), "registered": 1, "source": "ЕРДР"})
    assert SettlementCrimeCount.objects.get().registered == 1, "the same month again replaces it"

    future = (month + datetime.timedelta(days=40)).replace(day=1)
    refused = client.post(url, {"form": "count", "month": future.strftime("%Y-%m"), "registered": 0})
    assert refused.status_code == 200
    assert "The month is in the future" in refused.content.decode()
    assert SettlementCrimeCount.objects.count() == 1

    adopted = client.post(
        url,
        {"form": "initiative", "kind": "alcohol_refusal", "adopted_on": local_today().isoformat(), "meeting": ""},
    )
    assert adopted.status_code == 302
    initiative = Initiative.objects.get()
    assert (initiative.settlement, initiative.status) == (village, InitiativeStatus.ACTIVE)

    twice = client.post(url, {"form": "initiative", "kind": "alcohol_refusal", "adopted_on": local_today().isoformat()})
    assert twice.status_code == 200 and "already has an active initiative" in twice.content.decode()
    assert Initiative.objects.count() == 1

    page = client.get(url).content.decode()
    assert "Refusal of alcohol" in page and "the evidence starts next month" in page
    assert "no data" in page, "the months of last year have no count"

    prefix = f"lapse-{initiative.pk}"
    no_reason = client.post(
        url, {"form": "lapse", "initiative": initiative.pk, f"{prefix}-lapsed_on": local_today().isoformat()}
    )
    assert no_reason.status_code == 200
    client.post(
        url,
        {
            "form": "lapse",
            "initiative": initiative.pk,
            f"{prefix}-lapsed_on": local_today().isoformat(),
            f"{prefix}-reason": "Той кезінде ішімдік ішілді.",
        },
    )
    initiative.refresh_from_db()
    assert initiative.status == InitiativeStatus.LAPSED


def month_start(shift: int) -> datetime.date:
    """The first day of the month `shift` months from this one."""
    today = local_today()
    index = today.year * 12 + today.month - 1 + shift
    return datetime.date(index // 12, index % 12 + 1, 1)


def test_an_initiatives_evidence_sets_the_months_after_against_as_many_before(web, english, inspector, village):
    kind = InitiativeKind.objects.get(code="alcohol_refusal")
    initiatives.initiative_record(by=inspector, settlement=village, kind=kind, adopted_on=month_start(-2))
    for shift, registered in ((-2, 0), (-1, 0), (-4, 3)):
        crime_counts.crime_count_record(
            by=inspector, settlement=village, month=month_start(shift), registered=registered
        )

    html = web(inspector).get(reverse("village-detail", args=[village.code])).content.decode()

    evidence = html[html.index('class="facts evidence"') :]
    evidence = evidence[: evidence.index("</dl>")]
    assert "<dt>Months since adoption</dt><dd>2</dd>" in evidence
    after, before = evidence.split("Crimes in as many months before")
    assert "0 crimes" in after
    assert "No data" in before and "1 of 2 months recorded" in before, "a month before has no count"


def csv_table(rows: list[tuple]) -> SimpleUploadedFile:
    text = "settlement;month;registered;source\n" + "\n".join(";".join(str(cell) for cell in row) for row in rows)
    return SimpleUploadedFile("counts.csv", (text + "\n").encode(), content_type="text/csv")


def test_an_import_with_a_bad_row_names_it_and_writes_nothing(web, english, inspector, village, far_village):
    client = web(inspector)
    month = local_today().replace(day=1).strftime("%Y-%m")
    assert client.get(reverse("crime-import")).status_code == 200

    refused = client.post(
        reverse("crime-import"),
        {
            "file": csv_table(
                [(village.code, month, 0, "ЕРДР"), (village.code, "2020-01", -3, ""), (far_village.code, month, 0, "")]
            )
        },
    )

    assert refused.status_code == 200
    html = refused.content.decode()
    problems = html[html.index('id="import-problems"') :]
    assert '<td class="num" data-label="Row">3</td><td data-label="Column">Crimes registered</td>' in problems
    assert "cannot be negative" in problems
    assert '<td class="num" data-label="Row">4</td><td data-label="Column">Settlement</td>' in problems
    assert "KZ-35-ABA-TOP" in problems, "another district's village reads as unknown"
    assert SettlementCrimeCount.objects.count() == 0

    imported = client.post(reverse("crime-import"), {"file": csv_table([(village.code, month, 0, "ЕРДР")])})
    assert '<dd data-outcome="created">1</dd>' in imported.content.decode()
    assert SettlementCrimeCount.objects.get().settlement == village

    template = client.get(reverse("crime-import-template"))
    assert template["Content-Type"].startswith("text/csv")
    assert template.content.decode("utf-8-sig").splitlines()[0] == "Settlement;Month;Crimes registered;Source"


@pytest.mark.parametrize(
    "language, present",
    [
        ("kk", ["Ауыл жиыны", "Ішімдік", "Бельбулақ"]),
        ("ru", ["Сельский сход", "Алкоголь", "Бельбулак"]),
    ],
)
def test_the_pages_render_in_kazakh_and_russian(web, inspector, village, group, language, present):
    planned, _created = meetings.meeting_record(
        by=inspector,
        client_uuid=uuid.uuid4(),
        settlement=village,
        held_at=timezone.now() + datetime.timedelta(days=1),
        kind="village_assembly",
        topics=[],
    )
    client = web(inspector)
    client.cookies["django_language"] = language
    form = client.get(reverse("meeting-new"))
    assert form.status_code == 200
    html = form.content.decode()
    assert f'lang="{language}"' in html
    for text in present:
        assert text in html
    for url in (
        reverse("village-list"),
        reverse("village-detail", args=[village.code]),
        reverse("meeting-list"),
        reverse("meeting-detail", args=[planned.pk]),
        reverse("crime-import"),
    ):
        page = client.get(url)
        assert page.status_code == 200, url
        assert present[2] in page.content.decode() or url == reverse("crime-import")


def test_the_form_offers_only_the_inspectors_settlements_and_groups(web, inspector, village, group, other_group):
    far = SettlementFactory(district=DistrictFactory(code="KZ-35-NUR"), code="KZ-35-NUR-001")
    html = web(inspector).get(reverse("meeting-new"), {"settlement": village.code}).content.decode()
    assert f'value="{village.code}" data-district="{village.district_id}" selected' in html
    assert far.code not in html
    assert group.name in html and other_group.name not in html


def test_a_cancellation_reason_too_long_comes_back_as_it_was_typed_once(web, inspector, village):
    planned, _created = meetings.meeting_record(
        by=inspector,
        client_uuid=uuid.uuid4(),
        settlement=village,
        held_at=timezone.now() + datetime.timedelta(days=2),
        kind="school",
    )
    client = web(inspector)
    reason = "Мектепте карантин жарияланды, ата-аналар жиналысы келесі айға ауыстырылды. " * 8
    assert len(reason) > 500
    response = client.post(reverse("meeting-cancel", args=[planned.pk]), {"reason": reason})
    page = client.get(response["Location"]).content.decode()
    assert f">\n{reason}</textarea>" in page, "the reason is back in its field, to be shortened"
    planned.refresh_from_db()
    assert planned.status == MeetingStatus.PLANNED and planned.cancel_reason == ""
    assert reason not in client.get(response["Location"]).content.decode(), "kept for one page only"
