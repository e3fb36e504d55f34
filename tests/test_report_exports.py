"""Exports of reports, as Talgar's inspector, the Almaty Region chief and a ministry analyst make them.

Talgar's volunteer files reports (some verified by the inspector, one waiting, one from last year, one with the
details of an offender); Ili (same region, not the inspector's) and Abay (Karaganda Region) have their own. The
inspector exports the district's verified reports of the year as CSV, XLSX and GeoJSON, in Kazakh and Russian;
nobody's export holds a report outside their scope. A large export becomes a job run by the task; only its owner
downloads it, and after its day it is gone.
"""

import csv
import datetime
import io
import json
import os
from pathlib import Path

import openpyxl
import pytest
from django.contrib.gis.geos import Point
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext

from patrols.choices import AccessChannel, AccessKind, ExportStatus, ReportStatus
from patrols.clock import LOCAL_TZ
from patrols.models import AccessLogEntry, Report, ReportExport, Volunteer
from patrols.services import report_exports as service
from patrols.services import reporting, retention, xlsx_stream
from patrols.tasks import sweep_report_exports
from patrols.validators import FIRST_YEAR, LAST_YEAR
from tests.conftest import api_reader, reader
from tests.factories import DistrictFactory, GroupFactory, MembershipFactory, UserFactory, VolunteerFactory, square
from tests.support.reports import file_report, verified
from tests.test_csp import assert_strict

pytestmark = pytest.mark.django_db

THIS_YEAR = timezone.localdate(timezone=LOCAL_TZ).year
STREAM = "/api/v1/reports/export/"
OFFENDER = "Серіков Б., 870101300123, +77011234567"


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def ili(district):
    """Ili District of Almaty Region, 80 km east of Talgar: the chief's, not the inspector's."""
    return DistrictFactory(
        code="KZ-19-ILI",
        name_en="Ili District",
        name_ru="Илийский район",
        name_kk="Іле ауданы",
        centre=Point(78.0, 43.6, srid=4326),
        boundary=square(78.0, 43.6),
    )


@pytest.fixture
def story(volunteer, other_volunteer, inspector, other_inspector, ili, group):
    """Talgar: 2 prevented and 1 solved verified this year (one names an offender, one starts like a formula),
    1 waiting, 1 verified last year; Ili: 1 verified; Abay: 2 verified."""
    talgar = [
        verified(volunteer, inspector, third_party_details=OFFENDER),
        verified(volunteer, inspector, description='=HYPERLINK("http://x")'),
        verified(volunteer, inspector, outcome="solved", category="theft"),
    ]
    waiting = file_report(volunteer)
    old = file_report(volunteer)
    last_year = datetime.datetime(THIS_YEAR - 1, 6, 1, 20, 30, tzinfo=LOCAL_TZ)
    Report.objects.filter(pk=old.pk).update(occurred_at=last_year, status=ReportStatus.VERIFIED)
    ili_person = VolunteerFactory(district=ili, user=UserFactory(username="ili_volunteer"))
    MembershipFactory(volunteer=ili_person, group=GroupFactory(name="Іле жасақшылары", district=ili))
    ili_inspector = UserFactory(username="ili_inspector", role="inspector", districts=[ili])
    ili_report = verified(ili_person.user, ili_inspector)
    abay = [verified(other_volunteer, other_inspector) for _ in range(2)]
    return {"talgar": talgar, "waiting": waiting, "old": old, "ili": ili_report, "abay": abay}


def headers(language: str, *, personal: bool = False) -> list[str]:
    with translation.override(language):
        return [str(column.label) for column in service.columns(personal)]


def csv_rows(response) -> list[list[str]]:
    assert response.status_code == 200, getattr(response, "content", b"")[:500]
    body = b"".join(response.streaming_content) if response.streaming else response.content
    assert body.startswith(b"\xef\xbb\xbf"), "Excel needs the byte order mark to read UTF-8"
    return list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))


def body_of(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


def talgar_query(**extra) -> dict:
    return {"year": THIS_YEAR, "district": "KZ-19-TAL", "status": "verified", **extra}


# The inspector's district, in three formats


@pytest.mark.parametrize("language", ["kk", "ru"])
def test_the_inspector_exports_the_districts_verified_reports_of_the_year_as_csv(inspector, story, language):
    rows = csv_rows(api_reader(inspector, language).get(STREAM, talgar_query(format="csv")))

    assert rows[0] == headers(language)
    ids = [int(row[0]) for row in rows[1:]]
    assert ids == sorted(report.pk for report in story["talgar"])
    first = dict(zip(rows[0], rows[1], strict=True))
    report = story["talgar"][0]
    with translation.override(language):
        assert first[gettext("District")] == {"kk": "Талғар ауданы", "ru": "Талгарский район"}[language]
        assert first[gettext("Category")] == {"kk": "Ұсақ бұзақылық", "ru": "Мелкое хулиганство"}[language]
        assert first[gettext("Status")] == str(ReportStatus.VERIFIED.label)
        assert first[gettext("Counts in the totals")] == gettext("Yes")
    local = report.occurred_at.astimezone(LOCAL_TZ)
    assert first[headers(language)[1]] == local.strftime("%Y-%m-%d %H:%M"), "times are Almaty time"
    assert float(first[headers(language)[14]]) == pytest.approx(report.location.y)
    assert OFFENDER not in str(rows), "the details of other people only when asked for"
    formula = [row for row in rows if row[0] == str(story["talgar"][1].pk)][0]
    assert formula[17].startswith("'="), "a text that starts like a formula stays text"


def test_the_xlsx_opens_with_dates_numbers_and_names(web, inspector, story):
    browser = reader(inspector, "ru")
    response = browser.post(reverse("report-export-new"), {**talgar_query(), "format": "xlsx"})

    assert response.status_code == 200
    assert response["Content-Disposition"] == f'attachment; filename="reports-KZ-19-TAL-{THIS_YEAR}.xlsx"'
    sheet = openpyxl.load_workbook(io.BytesIO(body_of(response))).active
    rows = list(sheet.iter_rows(values_only=True))
    assert list(rows[0]) == headers("ru")
    assert len(rows) == 4
    report = story["talgar"][2]
    line = [row for row in rows if row[0] == report.pk][0]
    assert line[1] == report.occurred_at.astimezone(LOCAL_TZ).replace(tzinfo=None, second=0, microsecond=0)
    assert isinstance(line[14], float) and line[14] == pytest.approx(report.location.y)
    assert line[3] == "Талгарский район" and line[7] == "Кража"
    assert line[12] == report.case_number
    formula = [row for row in rows if row[0] == story["talgar"][1].pk][0]
    assert formula[17] == '=HYPERLINK("http://x")', "stored as text, never as a formula"
    assert sheet.freeze_panes == "A2"


def test_the_geojson_is_a_feature_collection_of_the_points(inspector, story):
    response = api_reader(inspector, "kk").get(STREAM, talgar_query(format="geojson"))

    assert response.status_code == 200
    assert response["Content-Type"] == "application/geo+json"
    collection = json.loads(body_of(response))
    assert collection["type"] == "FeatureCollection"
    by_id = {feature["id"]: feature for feature in collection["features"]}
    assert set(by_id) == {report.pk for report in story["talgar"]}
    report = story["talgar"][0]
    feature = by_id[report.pk]
    assert feature["geometry"] == {"type": "Point", "coordinates": [report.location.x, report.location.y]}
    assert feature["properties"]["district"] == "Талғар ауданы"
    assert "latitude" not in feature["properties"]


# Scope


def test_another_districts_reports_never_appear(api, inspector, story):
    everything = csv_rows(api(inspector).get(STREAM, {"format": "csv", "year": THIS_YEAR}))
    ids = {int(row[0]) for row in everything[1:]}
    assert ids == {report.pk for report in story["talgar"]} | {story["waiting"].pk}
    assert story["ili"].pk not in ids and not ids & {report.pk for report in story["abay"]}
    for district in ("KZ-35-ABA", "KZ-19-ILI", "NOWHERE"):
        response = api(inspector).get(STREAM, {"format": "csv", "district": district})
        assert response.status_code == 404, district
    assert api(inspector).get(STREAM, {"format": "csv", "region": "KZ-35"}).status_code == 404


def test_the_chief_gets_the_region_and_the_analyst_the_country(api, chief, analyst, volunteer, story):
    region = csv_rows(api(chief).get(STREAM, {"format": "csv", "status": "verified"}))
    assert {int(row[0]) for row in region[1:]} == {r.pk for r in story["talgar"]} | {story["ili"].pk}
    assert api(chief).get(STREAM, {"format": "csv", "region": "KZ-35"}).status_code == 404
    country = csv_rows(api(analyst).get(STREAM, {"format": "csv", "status": "verified"}))
    assert len(country) - 1 == 3 + 1 + 2
    karaganda = csv_rows(api(analyst).get(STREAM, {"format": "csv", "region": "KZ-35"}))
    assert {int(row[0]) for row in karaganda[1:]} == {r.pk for r in story["abay"]}
    assert api(volunteer).get(STREAM, {"format": "csv"}).status_code == 404, "volunteers read no exports"


def test_filters_narrow_the_export(api, inspector, story):
    def ids(**query) -> set[int]:
        return {int(row[0]) for row in csv_rows(api(inspector).get(STREAM, {"format": "csv", **query}))[1:]}

    assert ids(outcome="solved") == {story["talgar"][2].pk}
    assert ids(category="theft", status="verified") == {story["talgar"][2].pk}
    assert ids(status="submitted") == {story["waiting"].pk}
    assert ids(year=THIS_YEAR - 1) == {story["old"].pk}


@pytest.mark.parametrize("language", ["ru", "kk"])
def test_a_bad_filter_is_a_translated_400_and_makes_nothing(settings, inspector, story, language):
    settings.REPORT_EXPORT_STREAM_MAX_ROWS = 0
    client = api_reader(inspector, language)
    response = client.get(STREAM, {"format": "pdf", "outcome": "nope", "year": "twenty", "status": "lost"})

    assert response.status_code == 400
    errors = response.json()
    assert set(errors) == {"format", "outcome", "year", "status"}
    with translation.override(language):
        assert errors["outcome"] == [gettext("There is no such outcome.")]
        assert errors["year"] == [
            gettext("Give a year from %(first)d to %(last)d.") % {"first": FIRST_YEAR, "last": LAST_YEAR}
        ]
    response = client.post("/api/v1/report-exports/", {"format": "csv", "category": "nope"}, format="json")
    assert response.status_code == 400 and set(response.json()) == {"category"}
    assert client.post("/api/v1/report-exports/", {"format": "csv", "district": "KZ-35-ABA"}).status_code == 404
    assert not ReportExport.objects.exists()


# A large export is a job


def test_a_large_export_is_a_job_the_owner_downloads_for_a_day(
    settings, monkeypatch, api, inspector, other_inspector, story, eager_celery, django_capture_on_commit_callbacks
):
    settings.REPORT_EXPORT_STREAM_MAX_ROWS = 2
    beats = []
    monkeypatch.setattr(service, "PROGRESS_EVERY", 1)
    real_beat = service._beat
    monkeypatch.setattr(service, "_beat", lambda *a, **kw: beats.append(kw.get("rows_done")) or real_beat(*a, **kw))
    with django_capture_on_commit_callbacks(execute=True):
        response = api(inspector).get(STREAM, talgar_query(format="csv"))

    assert response.status_code == 202
    job = ReportExport.objects.get()
    assert response["Location"].endswith(f"/api/v1/report-exports/{job.pk}/")
    assert job.status == ExportStatus.DONE and job.owner == inspector
    assert job.rows_total == job.rows_done == 3
    assert [n for n in beats if n is not None] == [1, 2, 3], "progress is kept as the rows are written"
    state = api(inspector).get(f"/api/v1/report-exports/{job.pk}/").json()
    assert state["finished"] and state["percent"] == 100 and state["file"].endswith(f"/{job.pk}/file/")
    rows = csv_rows(api(inspector).get(state["file"]))
    assert {int(row[0]) for row in rows[1:]} == {report.pk for report in story["talgar"]}
    assert [j["id"] for j in api(inspector).get("/api/v1/report-exports/").json()["results"]] == [job.pk]

    for path in (f"/api/v1/report-exports/{job.pk}/", state["file"]):
        assert api(other_inspector).get(path).status_code == 404, path
    assert api(other_inspector).get("/api/v1/report-exports/").json()["results"] == []
    stored = Path(settings.MEDIA_ROOT) / job.file.name
    assert stored.exists() and not list(stored.parent.glob("*.part"))

    later = job.expires_at + datetime.timedelta(minutes=1)
    assert retention.retention_apply(now=later).report_exports == 1
    assert not stored.exists() and not ReportExport.objects.exists()
    assert api(inspector).get(state["file"]).status_code == 404


def test_an_expired_file_is_no_longer_served_even_before_the_sweep(settings, web, inspector, story, eager_celery):
    settings.REPORT_EXPORT_STREAM_MAX_ROWS = 0
    filters = service.export_filters(inspector, talgar_query())
    job = service.report_export_start(by=inspector, fmt="csv", filters=filters)
    service.report_export_run(export_id=job.pk)
    client = web(inspector)
    assert client.get(reverse("report-export-file", args=[job.pk])).status_code == 200
    ReportExport.objects.filter(pk=job.pk).update(expires_at=timezone.now() - datetime.timedelta(seconds=1))
    assert client.get(reverse("report-export-file", args=[job.pk])).status_code == 404
    with translation.override("kk"):
        expired = gettext("This export has expired. Make it again if you still need it.")
    assert expired in client.get(reverse("report-export", args=[job.pk]), HTTP_ACCEPT_LANGUAGE="kk").content.decode()


def test_a_job_whose_worker_died_is_run_again_then_given_up(
    settings, inspector, story, media, eager_celery, django_capture_on_commit_callbacks
):
    filters = service.export_filters(inspector, talgar_query())
    job = service.report_export_start(by=inspector, fmt="xlsx", filters=filters)
    # A worker took it and was killed halfway: the job says running, its heartbeat stopped, a temporary file is left.
    long_ago = timezone.now() - datetime.timedelta(minutes=settings.REPORT_EXPORT_STALL_MINUTES + 1)
    ReportExport.objects.filter(pk=job.pk).update(status=ExportStatus.RUNNING, attempts=1, heartbeat_at=long_ago)
    folder = Path(media) / "report-exports"
    folder.mkdir(parents=True)
    leftover = folder / f"{job.pk}-dead.part"
    leftover.write_bytes(b"PK half a file")
    assert service.report_export_run(export_id=job.pk).status == ExportStatus.RUNNING, "not taken while running"

    with django_capture_on_commit_callbacks(execute=True):
        assert sweep_report_exports.apply().get() == {"requeued": 1, "failed": 0, "deleted": 0}
    job.refresh_from_db()
    assert job.status == ExportStatus.DONE and job.attempts == 2 and job.rows_done == 3
    assert openpyxl.load_workbook(job.file.path).active.max_row == 4

    old = (timezone.now() - datetime.timedelta(hours=settings.REPORT_EXPORT_KEEP_HOURS + 1)).timestamp()
    os.utime(leftover, (old, old))
    retention.report_exports_prune(now=timezone.now())
    assert not leftover.exists(), "a dead run's temporary file goes after a day"

    stuck = service.report_export_start(by=inspector, fmt="csv", filters=filters)
    ReportExport.objects.filter(pk=stuck.pk).update(
        status=ExportStatus.RUNNING, attempts=settings.REPORT_EXPORT_ATTEMPTS, heartbeat_at=long_ago
    )
    assert service.report_exports_recover() == {"requeued": 0, "failed": 1}
    stuck.refresh_from_db()
    assert stuck.status == ExportStatus.FAILED and str(settings.REPORT_EXPORT_ATTEMPTS) in stuck.error


# Personal data


def test_the_details_of_other_people_go_out_only_when_asked_and_are_logged(
    settings, api, inspector, story, eager_celery, django_capture_on_commit_callbacks
):
    plain = csv_rows(api(inspector).get(STREAM, talgar_query(format="csv")))
    assert OFFENDER not in str(plain) and not AccessLogEntry.objects.exists()

    rows = csv_rows(api(inspector).get(STREAM, talgar_query(format="csv", personal="1")))
    assert rows[0] == headers("kk", personal=True)
    assert [row[-1] for row in rows[1:] if row[-1]] == [OFFENDER]
    entry = AccessLogEntry.objects.get()
    assert (entry.user, entry.kind, entry.object_id, entry.how, entry.path) == (
        inspector,
        AccessKind.REPORT_THIRD_PARTY,
        story["talgar"][0].pk,
        AccessChannel.EXPORT,
        STREAM,
    )

    settings.REPORT_EXPORT_STREAM_MAX_ROWS = 0
    with django_capture_on_commit_callbacks(execute=True):
        response = api(inspector).post(
            "/api/v1/report-exports/", {**talgar_query(), "format": "geojson", "personal": True}
        )
    assert response.status_code == 202
    job = ReportExport.objects.get()
    assert job.status == ExportStatus.DONE
    features = json.loads(Path(job.file.path).read_bytes())["features"]
    assert [f["properties"]["third_party_details"] for f in features if f["properties"]["third_party_details"]] == [
        OFFENDER
    ]
    assert AccessLogEntry.objects.filter(path=reverse("report-export", args=[job.pk])).count() == 1


def test_a_job_read_in_chunks_logs_each_report_with_details_once_and_names_each_reporter(
    monkeypatch, inspector, volunteer, group, story
):
    """Rows read two at a time (a million are read 2,000 at a time): every report with the details of other people
    is in the access log once, written a chunk at a time; each row names its own reporter, a departed one
    anonymised, and a name that starts like a formula stays text."""
    monkeypatch.setattr(service, "CHUNK", 2)
    second = VolunteerFactory(district=group.district, last_name="=Сейітов", user=UserFactory(username="second"))
    MembershipFactory(volunteer=second, group=group)
    theirs = [verified(second.user, inspector, third_party_details=OFFENDER) for _ in range(3)]
    departed = volunteer.volunteer
    Volunteer.objects.filter(pk=departed.pk).update(anonymised_at=timezone.now())
    filters = service.export_filters(inspector, talgar_query(personal="1"))
    with translation.override("ru"):
        job = service.report_export_start(by=inspector, fmt="csv", filters=filters)
        anonymised = gettext("Anonymised volunteer #%(id)d") % {"id": departed.pk}

    with CaptureQueriesContext(connection) as captured:
        finished = service.report_export_run(export_id=job.pk)

    assert finished.status == ExportStatus.DONE and finished.rows_done == 6
    logged = AccessLogEntry.objects.filter(path=service.job_path(job)).values_list("object_id", flat=True)
    assert sorted(logged) == sorted([story["talgar"][0].pk, *(report.pk for report in theirs)])
    writes = [q for q in captured.captured_queries if q["sql"].startswith('INSERT INTO "patrols_accesslogentry"')]
    assert len(writes) == 2, "four reports with details, logged two at a time"
    rows = {int(row[0]): row for row in csv_rows_of(Path(finished.file.path))[1:]}
    assert {rows[report.pk][16] for report in story["talgar"]} == {anonymised}
    assert {rows[report.pk][16] for report in theirs} == {"'=Сейітов Ерлан Серікұлы"}


def test_the_sheet_keeps_texts_as_written(monkeypatch):
    """Markup characters escaped, characters XML cannot carry dropped, edge spaces kept, repeated names the same
    (their XML kept between rows, two at a time here), empty cells empty and zero a number."""
    monkeypatch.setattr(xlsx_stream, "TEXT_CACHE", 2)
    texts = ["Tom & Jerry <3>", "  два пробела ", "bell\x07rings", "Алматы", "Алматы", "ы" * 200, "Tom & Jerry <3>"]
    out = io.BytesIO()
    written = xlsx_stream.write_sheet(
        out,
        title="Reports & <more>",
        headers=["n", "text", "none", "empty", "zero"],
        rows=[[n, text, None, "", 0] for n, text in enumerate(texts)],
        widths=[5] * 5,
    )

    assert written == len(texts)
    book = openpyxl.load_workbook(out)
    assert book.sheetnames == ["Reports & <more>"]
    rows = list(book.active.iter_rows(min_row=2, values_only=True))
    assert [row[1] for row in rows] == [text.replace("\x07", "") for text in texts]
    assert [row[0] for row in rows] == list(range(len(texts)))
    assert all(row[2:] == (None, None, 0) for row in rows)


def test_a_streamed_export_costs_the_same_queries_for_more_reports(api, inspector, volunteer, story):
    def queries() -> int:
        client = api(inspector)
        with CaptureQueriesContext(connection) as captured:
            rows = csv_rows(client.get(STREAM, {"format": "csv", "district": "KZ-19-TAL"}))
        return len(captured), len(rows) - 1

    few, count = queries()
    for _ in range(25):
        file_report(volunteer)
    many, more = queries()
    assert (count, more) == (4, 29)
    assert many == few


# The pages


def test_the_export_page_streams_a_small_one_and_follows_a_large_one(
    settings, web, inspector, other_inspector, story, eager_celery, django_capture_on_commit_callbacks
):
    client = web(inspector)
    dashboard = client.get(reverse("dashboard"), {"district": "KZ-19-TAL"}).content.decode()
    link = reverse("report-export-new") + f"?year={THIS_YEAR}&amp;district=KZ-19-TAL"
    assert link in dashboard

    page = client.get(reverse("report-export-new"), {"year": THIS_YEAR, "district": "KZ-19-TAL"})
    assert_strict(page)
    html = page.content.decode()
    assert '<option value="KZ-19-TAL" selected>' in html and 'name="format"' in html
    assert 'value="verified" selected' in html

    bad = client.post(reverse("report-export-new"), {**talgar_query(), "format": "csv", "district": "KZ-35-ABA"})
    assert bad.status_code == 200 and 'class="error"' in bad.content.decode(), "the form says what is wrong"
    assert not ReportExport.objects.exists()

    settings.REPORT_EXPORT_STREAM_MAX_ROWS = 1
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("report-export-new"), {**talgar_query(), "format": "csv"})
    job = ReportExport.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("report-export", args=[job.pk])
    job_page = client.get(response["Location"])
    assert_strict(job_page)
    html = job_page.content.decode()
    assert 'id="export-progress"' in html and "js/report-export.js" in html
    assert reverse("report-export-file", args=[job.pk]) in html
    state = client.get(reverse("report-export-progress", args=[job.pk])).json()
    assert state["finished"] and state["rows_done"] == 3 and state["file"]
    assert reverse("report-export", args=[job.pk]) in client.get(reverse("report-export-new")).content.decode()

    other = web(other_inspector)
    for name in ("report-export", "report-export-progress", "report-export-file"):
        assert other.get(reverse(name, args=[job.pk])).status_code == 404, name


def test_reports_filed_and_verified_after_the_count_do_not_break_the_file(inspector, volunteer, story):
    """The export reads what is there when it runs: a report verified meanwhile is simply in it."""
    filters = service.export_filters(inspector, talgar_query())
    job = service.report_export_start(by=inspector, fmt="csv", filters=filters, rows_total=3)
    reporting.report_verify(report=story["waiting"], by=inspector)
    service.report_export_run(export_id=job.pk)
    job.refresh_from_db()
    assert job.status == ExportStatus.DONE and job.rows_total == job.rows_done == 4


def test_the_analyst_opens_the_export_of_a_district_from_its_dashboard(web, analyst, story):
    client = web(analyst)
    dashboard = client.get(reverse("dashboard"), {"district": "KZ-19-TAL", "year": THIS_YEAR - 1}).content.decode()
    link = reverse("report-export-new") + f"?year={THIS_YEAR - 1}&amp;district=KZ-19-TAL"
    assert link in dashboard
    html = client.get(link.replace("&amp;", "&")).content.decode()
    assert '<option value="KZ-19-TAL" selected>' in html
    assert f'<option value="{THIS_YEAR - 1}" selected>' in html
    response = client.post(
        reverse("report-export-new"), {"year": THIS_YEAR - 1, "district": "KZ-19-TAL", "format": "csv"}
    )
    assert [int(row[0]) for row in csv_rows(response)[1:]] == [story["old"].pk]


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_worker_reads_ahead_in_a_thread_and_stops_it_when_the_job_goes(monkeypatch, media, inspector, story):
    """Outside a transaction (as in a worker) the rows come from a reading thread of their own connection."""
    import threading

    filters = service.export_filters(inspector, talgar_query())
    threads = threading.active_count()
    job = service.report_export_start(by=inspector, fmt="csv", filters=filters)
    finished = service.report_export_run(export_id=job.pk)
    assert finished.status == ExportStatus.DONE and finished.rows_done == 3
    assert {int(row[0]) for row in csv_rows_of(Path(finished.file.path))[1:]} == {r.pk for r in story["talgar"]}

    gone = service.report_export_start(by=inspector, fmt="csv", filters=filters)
    monkeypatch.setattr(service, "PROGRESS_EVERY", 1)
    monkeypatch.setattr(service, "CHUNK", 1)
    real_beat = service._beat

    readers = []

    def deleted_meanwhile(export_id, attempt, **changes):
        readers.extend(t.name for t in threading.enumerate() if t.name == "report-export-reader")
        if changes.get("rows_done") == 1:
            ReportExport.objects.filter(pk=export_id).delete()
        real_beat(export_id, attempt, **changes)

    monkeypatch.setattr(service, "_beat", deleted_meanwhile)
    assert service.report_export_run(export_id=gone.pk) is None
    assert readers, "the rows came from the reading thread"
    assert threading.active_count() == threads, "the reading thread ended with the run"
    assert sorted(p.name for p in (Path(media) / "report-exports").iterdir()) == [Path(finished.file.name).name]


def csv_rows_of(path: Path) -> list[list[str]]:
    return list(csv.reader(io.StringIO(path.read_bytes().decode("utf-8-sig"))))
