"""The app's own reasons are kept as facts and told in the reader's language (issue 15): an inspector who works in
Russian marks a duplicate, the volunteer who reads in Kazakh is told «№ … хабарламаның қайталамасы.» on "My reports",
on the report's page and through the API; the same for a volunteer imported from a roster file. Rows written before,
with the sentence in whatever language the inspector had, are converted by the migration."""

import datetime
import importlib
import re
import uuid

import pytest
from django.apps import apps
from django.contrib.gis.geos import Point
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone, translation

from patrols.choices import AutoReason, ReportEventKind, ReportStatus
from patrols.models import Category, Outcome, Report, ReportEvent, Volunteer, VolunteerStatusChange
from patrols.reasons import reason_text
from patrols.services import reporting
from patrols.services.roster_import import roster_import_run, roster_import_start
from patrols.validators import build_iin
from tests.conftest import api_reader, reader

pytestmark = pytest.mark.django_db

facts_migration = importlib.import_module("patrols.migrations.0015_reasons_as_facts")


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def text_of(response) -> str:
    return re.sub(r"\s+", " ", response.content.decode())


def file_report(user, minutes_ago: int) -> Report:
    centre = user.volunteer.district.centre
    report, _created = reporting.report_submit(
        by=user,
        client_uuid=uuid.uuid4(),
        occurred_at=timezone.now() - datetime.timedelta(minutes=minutes_ago),
        point=Point(centre.x, centre.y, srid=4326),
        category=Category.objects.get(code="petty_hooliganism"),
        outcome=Outcome.objects.get(code="prevented"),
        description="Екі жасөспірім дүкен алдында төбелескен, ажыратып жібердік.",
    )
    return report


def told(language: str, reason: str, **params) -> str:
    with translation.override(language):
        return reason_text(reason, params)


@pytest.fixture
def duplicate(inspector, volunteer, leader):
    """The leader's report of the fight the volunteer reported first, marked a duplicate by the inspector on the
    report's page in Russian."""
    original = file_report(leader, minutes_ago=20)
    twin = file_report(volunteer, minutes_ago=10)
    inspector.language = "ru"
    inspector.save(update_fields=["language"])
    response = reader(inspector, "ru").post(
        reverse("report-action", args=[twin.pk]), {"action": "duplicate", "original": str(original.pk)}
    )
    assert response.status_code == 302
    twin.refresh_from_db()
    return original, twin


def test_a_duplicate_is_kept_as_facts_not_as_the_inspectors_sentence(duplicate):
    original, twin = duplicate
    assert (twin.status, twin.duplicate_of_id, twin.status_note) == (ReportStatus.REJECTED, original.pk, "")
    event = twin.events.get(kind=ReportEventKind.DUPLICATE)
    assert (event.note, event.reason, event.reason_params) == ("", AutoReason.DUPLICATE, {"number": original.pk})
    kazakh, russian = told("kk", "duplicate", number=original.pk), told("ru", "duplicate", number=original.pk)
    assert kazakh != russian and str(original.pk) in kazakh and str(original.pk) in russian


def test_the_volunteer_reads_the_reason_in_kazakh_on_my_reports_and_the_reports_page(duplicate, volunteer):
    original, twin = duplicate
    kazakh = told("kk", "duplicate", number=original.pk)
    russian = told("ru", "duplicate", number=original.pk)
    browser = reader(volunteer, "kk")

    mine = text_of(browser.get(reverse("report-list")))
    assert kazakh in mine and russian not in mine
    page = text_of(browser.get(reverse("report-detail", args=[twin.pk])))
    assert kazakh in page and russian not in page

    # The same report read in Russian tells it in Russian: nothing was fixed in one language.
    assert russian in text_of(reader(volunteer, "ru").get(reverse("report-list")))


def test_the_inspector_reads_the_history_in_the_language_of_the_page(duplicate, inspector):
    original, twin = duplicate
    page = text_of(reader(inspector, "kk").get(reverse("report-detail", args=[twin.pk])))
    assert page.count(told("kk", "duplicate", number=original.pk)) == 2, "the reason and the history's line"


def test_the_api_tells_the_reason_in_the_readers_language_with_its_facts(duplicate, volunteer):
    original, twin = duplicate
    body = api_reader(volunteer, "kk").get(f"/api/v1/reports/{twin.pk}/").json()
    assert body["status_note"] == told("kk", "duplicate", number=original.pk)
    assert (body["status_reason"], body["duplicate_of"]) == ("duplicate", original.pk)
    line = next(event for event in body["history"] if event["kind"] == "duplicate")
    assert line["note"] == told("kk", "duplicate", number=original.pk)
    assert (line["reason"], line["reason_params"]) == ("duplicate", {"number": original.pk})

    listed = api_reader(volunteer, "ru").get("/api/v1/reports/").json()["results"]
    assert next(item for item in listed if item["id"] == twin.pk)["status_note"] == told(
        "ru", "duplicate", number=original.pk
    )


def test_a_reason_the_inspector_wrote_is_shown_as_written(inspector, volunteer):
    report = file_report(volunteer, minutes_ago=5)
    reporting.report_reject(report=report, by=inspector, reason="Оқиға расталмады")
    body = api_reader(volunteer, "ru").get(f"/api/v1/reports/{report.pk}/").json()
    assert (body["status_note"], body["status_reason"]) == ("Оқиға расталмады", "")


def test_a_volunteer_imported_in_russian_reads_where_they_came_from_in_kazakh(
    inspector, district, django_capture_on_commit_callbacks
):
    iin = build_iin(datetime.date(1994, 4, 4), female=False, serial=12)
    data = f"Фамилия;Имя;ИИН;Телефон\nСерікболов;Айдос;{iin};87011234567\n".encode()
    with translation.override("ru"), django_capture_on_commit_callbacks(execute=False):
        job = roster_import_start(by=inspector, district=district, upload=SimpleUploadedFile("Тізім.csv", data))
    roster_import_run(import_id=job.pk)
    person = Volunteer.objects.get(iin=iin)
    step = person.status_changes.get()
    assert (step.note, step.reason, step.reason_params) == ("", AutoReason.IMPORTED, {"name": "Тізім.csv"})
    kazakh, russian = told("kk", "imported", name="Тізім.csv"), told("ru", "imported", name="Тізім.csv")
    assert kazakh != russian

    page = text_of(reader(inspector, "kk").get(reverse("volunteer-detail", args=[person.pk])))
    assert kazakh in page and russian not in page
    history = api_reader(inspector, "kk").get(f"/api/v1/volunteers/{person.pk}/history/").json()
    assert [(line["note"], line["reason"]) for line in history] == [(kazakh, "imported")]


def test_the_migration_turns_old_sentences_of_any_language_into_facts(inspector, volunteer, leader):
    reports = {language: file_report(volunteer, minutes_ago=30 + n) for n, language in enumerate(("kk", "ru", "en"))}
    original = file_report(leader, minutes_ago=60)
    typed = file_report(volunteer, minutes_ago=70)
    reporting.report_reject(report=typed, by=inspector, reason="Дубликат, но я напишу сам.")
    for language, report in reports.items():
        sentence = told(language, "duplicate", number=original.pk)
        Report.objects.filter(pk=report.pk).update(
            status=ReportStatus.REJECTED, duplicate_of=original, status_note=sentence
        )
        ReportEvent.objects.create(
            report=report, kind=ReportEventKind.DUPLICATE, to_status=ReportStatus.REJECTED, note=sentence
        )
    imported = VolunteerStatusChange.objects.create(
        volunteer=volunteer.volunteer, to_status="applicant", note=told("ru", "imported", name="Список «1».xlsx")
    )
    written = VolunteerStatusChange.objects.create(volunteer=volunteer.volunteer, to_status="applicant", note="Өзі")

    facts_migration.forwards(apps, None)

    for report in reports.values():
        report.refresh_from_db()
        assert (report.status_note, report.duplicate_of_id) == ("", original.pk)
        event = report.events.get(kind=ReportEventKind.DUPLICATE)
        assert (event.note, event.reason, event.reason_params) == ("", "duplicate", {"number": original.pk})
        with translation.override("kk"):
            assert report.status_note_text == told("kk", "duplicate", number=original.pk)
    typed.refresh_from_db()
    assert typed.status_note == "Дубликат, но я напишу сам."
    imported.refresh_from_db()
    assert (imported.note, imported.reason, imported.reason_params) == ("", "imported", {"name": "Список «1».xlsx"})
    written.refresh_from_db()
    assert (written.note, written.reason) == ("Өзі", "")

    facts_migration.forwards(apps, None)
    imported.refresh_from_db()
    assert imported.reason_params == {"name": "Список «1».xlsx"}, "running it again changes nothing"
