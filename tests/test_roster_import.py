"""The inspector imports a roster from a spreadsheet: every row checked, all written or nothing, with a report."""

import csv
import datetime
import io
import random
import re
import time

import openpyxl
import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone, translation
from kombu.exceptions import OperationalError

from patrols.choices import AutoReason, RosterImportStatus, VolunteerStatus
from patrols.models import Membership, RosterImport, Volunteer, VolunteerStatusChange
from patrols.services import retention
from patrols.services import roster_import as service
from patrols.services.roster import CURRENT_CONSENT_VERSION
from patrols.services.roster_import import roster_import_run, roster_import_start, roster_template_xlsx
from patrols.tasks import run_roster_import
from patrols.validators import build_iin, mask_iin
from tests.conftest import api_reader, reader
from tests.factories import GroupFactory

PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"


def iin(born: datetime.date, serial: int = 1, *, female: bool = False) -> str:
    return build_iin(born, female=female, serial=serial)


def csv_file(rows: list[list], *, delimiter: str = ";", encoding: str = "utf-8-sig") -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=delimiter).writerows(rows)
    return buffer.getvalue().encode(encoding)


def xlsx_file(rows: list[list]) -> bytes:
    workbook = openpyxl.Workbook()
    for row in rows:
        workbook.active.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def counts() -> tuple[int, int, int]:
    return Volunteer.objects.count(), Membership.objects.count(), VolunteerStatusChange.objects.count()


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def upload(inspector, district, eager_celery, django_capture_on_commit_callbacks):
    """`upload(name, data)`: the inspector uploads a file into `district`, the queued task runs, the import returns."""

    def send(name: str, data: bytes, *, by=inspector, into=district, **options) -> RosterImport:
        with django_capture_on_commit_callbacks(execute=True):
            roster_import = roster_import_start(by=by, district=into, upload=SimpleUploadedFile(name, data), **options)
        roster_import.refresh_from_db()
        return roster_import

    return send


@pytest.fixture
def russian_group(district, inspector):
    return GroupFactory(name="Талгарские помощники", district=district, inspector=inspector)


def test_inspector_imports_a_russian_csv_in_windows_1251_with_semicolons(upload, inspector, district, russian_group):
    rows = [
        ["Фамилия", "Имя", "Отчество", "ИИН", "Телефон", "Дата рождения", "Группа", "Дата вступления"],
        ["Иванов", "Сергей", "Петрович", iin(datetime.date(1990, 5, 17)), "8 701 111 22 33", "17.05.1990", "", ""],
        [
            "Ким",
            "Анна",
            "",
            iin(datetime.date(1988, 1, 2), female=True),
            "+7 702 222 33 44",
            "",
            "ТАЛГАРСКИЕ помощники",
            "01.09.2024",
        ],
        [
            "Петров",
            "Олег",
            "",
            iin(datetime.date(1979, 12, 31)),
            "77013334455",
            "1979-12-31",
            " талгарские помощники ",
            "",
        ],
    ]

    roster_import = upload("Список.csv", csv_file(rows, encoding="cp1251"))

    assert roster_import.status == RosterImportStatus.DONE, roster_import.errors
    assert (roster_import.created_count, roster_import.updated_count) == (3, 0)
    assert roster_import.processed_rows == roster_import.total_rows == 3
    assert roster_import.finished_at is not None
    ivanov = Volunteer.objects.get(last_name="Иванов")
    assert (ivanov.district, ivanov.status, ivanov.phone) == (district, VolunteerStatus.APPLICANT, "+77011112233")
    assert ivanov.birth_date == datetime.date(1990, 5, 17)
    assert ivanov.consent_version == CURRENT_CONSENT_VERSION and ivanov.consent_at is not None
    assert not ivanov.memberships.exists()
    kim = Volunteer.objects.get(last_name="Ким")
    assert kim.birth_date == datetime.date(1988, 1, 2)
    assert list(kim.memberships.values_list("group", "joined_on", "left_on")) == [
        (russian_group.pk, datetime.date(2024, 9, 1), None)
    ]
    assert Membership.objects.filter(group=russian_group).count() == 2
    history = VolunteerStatusChange.objects.filter(volunteer__district=district, by=inspector)
    assert sorted(history.values_list("to_status", flat=True)) == [VolunteerStatus.APPLICANT] * 3
    # The fact is kept, not a sentence in the uploader's language: each reader is told it in their own.
    assert (
        list(history.values_list("reason", "reason_params", "note"))
        == [(AutoReason.IMPORTED, {"name": "Список.csv"}, "")] * 3
    )
    with translation.override("en"):
        assert history.first().note_text == "Imported from the file “Список.csv”."


def test_inspector_imports_a_kazakh_csv_in_utf8_with_a_bom_and_commas(upload, group):
    rows = [
        ["  Тегі ", "АТЫ", "Әкесінің аты", "ЖСН", "Телефон", "Топ", "Келісім нұсқасы"],
        [
            "Сейітова",
            "Айгерім",
            "Болатқызы",
            iin(datetime.date(1999, 3, 8), female=True),
            "87075556677",
            group.name,
            "2024-2",
        ],
        [],
        ["Әбілов", "Нұржан", "", iin(datetime.date(1985, 7, 1)), "+77076667788", "", ""],
    ]

    roster_import = upload("тізім.csv", csv_file(rows, delimiter=","))

    assert roster_import.status == RosterImportStatus.DONE, roster_import.errors
    assert roster_import.created_count == 2
    aigerim = Volunteer.objects.get(last_name="Сейітова")
    assert (aigerim.patronymic, aigerim.consent_version) == ("Болатқызы", "2024-2")
    assert aigerim.memberships.get().group == group
    assert Volunteer.objects.get(last_name="Әбілов").consent_version == CURRENT_CONSENT_VERSION


def test_inspector_imports_an_xlsx_with_numbers_and_date_cells(upload, district, group):
    # Born in 2004: the IIN starts with 0, which a spreadsheet drops when it keeps the IIN as a number.
    young = iin(datetime.date(2004, 2, 29), female=True)
    assert young.startswith("0")
    rows = [
        ["last_name", "first_name", "iin", "phone", "birth_date", "group", "joined_on"],
        ["Омарова", "Дана", int(young), 87013334455, datetime.datetime(2004, 2, 29), group.name.upper(), "15.01.2025"],
        ["Ли", "Виктор", iin(datetime.date(1970, 10, 10)), "+7 705 000 11 22", None, None, None],
        [None, None, None, None, None, None, None],
    ]

    roster_import = upload("roster.xlsx", xlsx_file(rows))

    assert roster_import.status == RosterImportStatus.DONE, roster_import.errors
    assert roster_import.created_count == 2
    assert roster_import.processed_rows == roster_import.total_rows == 2
    dana = Volunteer.objects.get(iin=young)
    assert (dana.phone, dana.birth_date, dana.district) == ("+77013334455", datetime.date(2004, 2, 29), district)
    assert dana.memberships.get().joined_on == datetime.date(2025, 1, 15)


@pytest.mark.parametrize("language", ["kk", "ru", "en"])
def test_the_template_comes_back_as_it_was_filled(upload, group, language):
    with translation.override(language):
        template = roster_template_xlsx()
    workbook = openpyxl.load_workbook(io.BytesIO(template))
    sheet = workbook.active
    header = [cell.value for cell in sheet[1]]
    assert len(header) == len(service.COLUMNS)
    assert [cell.comment.text.splitlines()[0] for cell in sheet[1]] == [column.name for column in service.COLUMNS]
    sheet.append(["Жұмабеков", "Арман", "", iin(datetime.date(1992, 6, 6)), "+77019998877", "", group.name, "", ""])
    buffer = io.BytesIO()
    workbook.save(buffer)

    roster_import = upload("template.xlsx", buffer.getvalue())

    assert roster_import.status == RosterImportStatus.DONE, roster_import.errors
    assert Volunteer.objects.get(last_name="Жұмабеков").memberships.get().group == group


def test_bad_rows_are_each_reported_and_nothing_is_written(upload, group, other_volunteer):
    first = iin(datetime.date(1991, 1, 1))
    wrong_checksum = first[:11] + str((int(first[11]) + 1) % 10)
    child = iin(datetime.date(2015, 6, 1))
    rows = [
        ["Фамилия", "Имя", "ИИН", "Телефон", "Группа"],
        ["Асанов", "Бек", first, "87010000001", group.name],  # 2: fine
        ["Бекова", "Асель", wrong_checksum, "87010000002", ""],  # 3
        ["Маленький", "Тимур", child, "87010000003", ""],  # 4
        ["Серіков", "Ерлан", iin(datetime.date(1980, 2, 2)), "+7 495 123 45 67", ""],  # 5
        ["Нурланова", "Жанар", iin(datetime.date(1981, 3, 3), female=True), "87010000005", "Нет такой группы"],  # 6
        ["Асанов", "Бек", first, "87010000001", ""],  # 7
        ["Другой", "Район", other_volunteer.volunteer.iin, "87010000007", group.name],  # 8
        ["Хорошев", "Иван", iin(datetime.date(1982, 4, 4)), "87010000008", ""],  # 9: fine
        ["Нолев", "Азамат", iin(datetime.date(2003, 7, 7))[1:], "87010000010", ""],  # 10: lost its leading zero
        ["Двоев", "Марат", "12345", "555", ""],  # 11: two problems
    ]
    before = counts()

    with translation.override("en"):
        roster_import = upload("bad.csv", csv_file(rows))

    assert roster_import.status == RosterImportStatus.FAILED
    assert roster_import.language == "en"
    assert [(error["row"], error["field"]) for error in roster_import.errors] == [
        (3, "iin"),
        (4, "birth_date"),
        (5, "phone"),
        (6, "group"),
        (7, "iin"),
        (8, "iin"),
        (10, "iin"),
        (11, "iin"),
        (11, "phone"),
    ]
    with translation.override("en"):
        messages = {error["row"]: service.problem_text(error) for error in roster_import.errors}
    assert "check digit" in messages[3]
    assert "18" in messages[4]
    assert "no active group" in messages[6] and roster_import.errors[3]["value"] == "Нет такой группы"
    assert "row 2" in messages[7]
    assert messages[8] == (
        "A volunteer with this IIN is registered in another district: ask that district's inspector to add them "
        "to your group."
    )
    assert other_volunteer.volunteer.district.name_en not in messages[8]
    assert "12 digits" in messages[10]
    assert roster_import.processed_rows == roster_import.total_rows == 10
    assert (roster_import.created_count, roster_import.updated_count) == (0, 0)
    assert counts() == before


def test_a_volunteer_already_in_the_district_is_added_to_another_group(upload, district, inspector, group, volunteer):
    person = volunteer.volunteer
    second_group = GroupFactory(name="Түнгі патруль", district=district, inspector=inspector)
    rows = [
        ["Фамилия", "Имя", "ИИН", "Телефон", "Группа", "Дата вступления"],
        [person.last_name, person.first_name, person.iin, person.phone, second_group.name, "2025-02-01"],
        ["Новиков", "Олег", iin(datetime.date(1983, 5, 5)), "87012223344", group.name, ""],
    ]
    history_before = VolunteerStatusChange.objects.filter(volunteer=person).count()

    roster_import = upload("add.csv", csv_file(rows))

    assert roster_import.status == RosterImportStatus.DONE, roster_import.errors
    assert (roster_import.created_count, roster_import.updated_count) == (1, 1)
    assert set(person.memberships.filter(left_on=None).values_list("group__name", flat=True)) == {
        group.name,
        second_group.name,
    }
    assert VolunteerStatusChange.objects.filter(volunteer=person).count() == history_before

    again = upload("add-again.csv", csv_file(rows[:2]))

    assert again.status == RosterImportStatus.DONE, again.errors
    assert (again.created_count, again.updated_count) == (0, 0)
    assert person.memberships.filter(group=second_group).count() == 1


def test_a_volunteer_already_in_the_district_without_a_group_is_an_error(upload, volunteer):
    person = volunteer.volunteer
    rows = [["ИИН", "Фамилия", "Имя", "Телефон"], [person.iin, person.last_name, person.first_name, person.phone]]

    roster_import = upload("same.csv", csv_file(rows))

    assert roster_import.status == RosterImportStatus.FAILED
    assert [(error["row"], error["field"]) for error in roster_import.errors] == [(2, "iin")]


@pytest.mark.parametrize(
    "name, data",
    [
        ("picture.csv", PNG),
        ("noise.csv", random.Random(7).randbytes(4096)),
        ("roster.xlsx", "Фамилия;Имя\n".encode()),
        ("roster.csv", xlsx_file([["a"]])),
        ("roster.txt", "Фамилия;Имя\n".encode()),
        ("roster.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(512)),
        ("archive.xlsx", b"PK\x03\x04 not really a zip"),
    ],
)
def test_a_file_that_is_not_a_roster_is_refused_at_once(upload, name, data):
    with pytest.raises(ValidationError) as caught:
        upload(name, data)

    assert "XLSX" in caught.value.message_dict["file"][0]
    assert not RosterImport.objects.exists()


def test_an_empty_file_is_refused(upload):
    with pytest.raises(ValidationError) as caught:
        upload("empty.csv", b"")

    assert [error.code for error in caught.value.error_dict["file"]] == ["empty"]
    assert not RosterImport.objects.exists()


def test_a_file_too_large_is_refused(upload, settings):
    settings.ROSTER_IMPORT_MAX_BYTES = 1024

    with translation.override("en"), pytest.raises(ValidationError) as caught:
        upload("big.csv", ("Фамилия;Имя;ИИН;Телефон\n" * 100).encode())

    assert "larger than" in caught.value.message_dict["file"][0]
    assert not RosterImport.objects.exists()


def test_a_missing_column_is_one_clear_error(upload):
    rows = [["Фамилия", "Имя", "ИИН"], ["Асанов", "Бек", iin(datetime.date(1991, 1, 1))]]

    with translation.override("en"):
        roster_import = upload("no-phone.csv", csv_file(rows))

    assert roster_import.status == RosterImportStatus.FAILED
    assert roster_import.errors == [
        {"row": 1, "field": "phone", "code": "column_missing", "params": {"column": "phone"}}
    ]
    with translation.override("en"):
        assert service.problem_text(roster_import.errors[0]) == (
            "The required column “Phone” is missing from the header row."
        )
    with translation.override("ru"):
        assert "Телефон" in service.problem_text(roster_import.errors[0])
    assert roster_import.processed_rows == roster_import.total_rows == 0


def test_a_file_without_a_header_or_without_rows_is_refused(upload):
    no_header = upload("data-only.csv", csv_file([["Асанов", "Бек", iin(datetime.date(1991, 1, 1)), "87010000001"]]))
    header_only = upload("header-only.csv", csv_file([["Фамилия", "Имя", "ИИН", "Телефон"], [], ["", " ", ""]]))

    assert no_header.status == header_only.status == RosterImportStatus.FAILED
    assert [(e["row"], e["field"]) for e in no_header.errors] == [(1, "")]
    assert [(e["row"], e["field"]) for e in header_only.errors] == [(None, "")]


def test_a_file_above_the_row_limit_is_refused(upload, settings):
    settings.ROSTER_IMPORT_MAX_ROWS = 3
    rows = [["Фамилия", "Имя", "ИИН", "Телефон"]] + [
        ["Асанов", "Бек", iin(datetime.date(1991, 1, day)), f"8701000000{day}"] for day in range(1, 5)
    ]

    roster_import = upload("long.csv", csv_file(rows))

    assert roster_import.status == RosterImportStatus.FAILED
    assert len(roster_import.errors) == 1 and "3" in service.problem_text(roster_import.errors[0])
    assert not Volunteer.objects.exists()


def many_rows(count: int, *, group_name: str = "") -> list[list]:
    start = datetime.date(1960, 1, 1)
    return [["Фамилия", "Имя", "ИИН", "Телефон", "Группа"]] + [
        [
            f"Фамилия{n}",
            f"Имя{n}",
            iin(start + datetime.timedelta(days=n), serial=n % 1000, female=n % 2 == 1),
            f"+7701{n:07d}",
            group_name,
        ]
        for n in range(count)
    ]


def test_progress_is_saved_while_rows_are_checked(inspector, district):
    data = csv_file(many_rows(450))
    roster_import = RosterImport.objects.create(district=district, uploaded_by=inspector, original_name="p.csv")
    roster_import.file.save("p.csv", SimpleUploadedFile("p.csv", data))

    with CaptureQueriesContext(connection) as queries:
        roster_import = roster_import_run(import_id=roster_import.pk)

    progress = [q["sql"] for q in queries if 'UPDATE "patrols_rosterimport" SET "processed_rows"' in q["sql"]]
    assert [re.search(r'"processed_rows" = (\d+)', sql).group(1) for sql in progress] == ["200", "400"]
    assert all('"heartbeat_at"' in sql for sql in progress), "each step is a sign of work"
    assert roster_import.status == RosterImportStatus.DONE
    assert roster_import.processed_rows == roster_import.total_rows == 450
    assert roster_import.percent == 100


def test_five_thousand_rows_import_in_one_go(upload, group, django_assert_max_num_queries):
    data = xlsx_file(many_rows(5000, group_name=group.name))
    before = counts()

    started = time.perf_counter()
    with django_assert_max_num_queries(100):
        roster_import = upload("big.xlsx", data)
    took = time.perf_counter() - started
    print(f"\n5,000-row XLSX roster import: {took:.2f} s")

    assert roster_import.status == RosterImportStatus.DONE, roster_import.errors[:5]
    assert (roster_import.created_count, roster_import.total_rows, roster_import.processed_rows) == (5000, 5000, 5000)
    assert counts() == (before[0] + 5000, before[1] + 5000, before[2] + 5000)
    assert took < 20


def test_running_an_import_again_does_not_write_twice(upload, group):
    roster_import = upload("twice.csv", csv_file(many_rows(5, group_name=group.name)))
    assert roster_import.status == RosterImportStatus.DONE
    after_first = counts()

    run_roster_import.delay(roster_import.pk)
    again = roster_import_run(import_id=roster_import.pk)

    assert counts() == after_first
    assert (again.status, again.created_count) == (RosterImportStatus.DONE, 5)


def test_an_import_left_running_by_a_lost_worker_runs_again_safely(inspector, district):
    roster_import = RosterImport.objects.create(district=district, uploaded_by=inspector, original_name="r.csv")
    roster_import.file.save("r.csv", SimpleUploadedFile("r.csv", csv_file(many_rows(3))))
    RosterImport.objects.filter(pk=roster_import.pk).update(
        status=RosterImportStatus.RUNNING, total_rows=3, processed_rows=2
    )

    roster_import = roster_import_run(import_id=roster_import.pk)

    assert (roster_import.status, roster_import.created_count) == (RosterImportStatus.DONE, 3)
    assert Volunteer.objects.count() == 3


def test_other_inspector_cannot_import_into_our_district(upload, other_inspector, district):
    with pytest.raises(ValidationError) as caught:
        upload("theirs.csv", csv_file(many_rows(2)), by=other_inspector, into=district)

    assert "district" in caught.value.message_dict
    assert not RosterImport.objects.exists()
    assert not Volunteer.objects.exists()


def test_an_inspector_who_lost_the_district_before_the_run_writes_nothing(inspector, district):
    roster_import = RosterImport.objects.create(district=district, uploaded_by=inspector, original_name="x.csv")
    roster_import.file.save("x.csv", SimpleUploadedFile("x.csv", csv_file(many_rows(2))))
    inspector.inspector_districts.clear()

    roster_import = roster_import_run(import_id=roster_import.pk)

    assert roster_import.status == RosterImportStatus.FAILED
    assert not Volunteer.objects.exists()


def test_the_import_runs_inline_when_the_broker_is_down(
    inspector, district, monkeypatch, django_capture_on_commit_callbacks
):
    def broker_down(*args, **kwargs):
        raise OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    monkeypatch.setattr(run_roster_import, "delay", broker_down)

    with django_capture_on_commit_callbacks(execute=True):
        roster_import = roster_import_start(
            by=inspector, district=district, upload=SimpleUploadedFile("r.csv", csv_file(many_rows(2)))
        )

    roster_import.refresh_from_db()
    assert (roster_import.status, roster_import.created_count) == (RosterImportStatus.DONE, 2)


def test_a_stored_file_damaged_after_upload_fails_with_a_message(inspector, district):
    roster_import = RosterImport.objects.create(district=district, uploaded_by=inspector, original_name="d.xlsx")
    roster_import.file.save("d.xlsx", SimpleUploadedFile("d.xlsx", xlsx_file([["a"]])[:300]))

    roster_import = roster_import_run(import_id=roster_import.pk)

    assert roster_import.status == RosterImportStatus.FAILED
    assert [(e["row"], e["field"]) for e in roster_import.errors] == [(None, "")]


def stalled_import(inspector, district, *, attempts: int, minutes_ago: int) -> RosterImport:
    """An import a worker took and was killed on halfway (SIGKILL: nothing could mark it): "running", no sign of work
    since `minutes_ago`."""
    roster_import = RosterImport.objects.create(
        district=district, uploaded_by=inspector, original_name="r.csv", language="en"
    )
    roster_import.file.save("r.csv", SimpleUploadedFile("r.csv", csv_file(many_rows(3))))
    RosterImport.objects.filter(pk=roster_import.pk).update(
        status=RosterImportStatus.RUNNING,
        total_rows=3,
        processed_rows=2,
        attempts=attempts,
        heartbeat_at=timezone.now() - datetime.timedelta(minutes=minutes_ago),
    )
    return roster_import


def test_an_import_whose_worker_died_is_queued_again_within_minutes(
    inspector, district, eager_celery, django_capture_on_commit_callbacks
):
    fresh = stalled_import(inspector, district, attempts=1, minutes_ago=1)
    dead = stalled_import(inspector, district, attempts=1, minutes_ago=4)
    with django_capture_on_commit_callbacks(execute=True):
        assert service.roster_imports_recover() == {"requeued": 1, "failed": 0}
    dead.refresh_from_db()
    fresh.refresh_from_db()
    assert (dead.status, dead.created_count, dead.attempts) == (RosterImportStatus.DONE, 3, 2)
    assert fresh.status == RosterImportStatus.RUNNING, "a worker still at work is left alone"


def test_an_import_that_stalls_again_is_failed_with_a_message_the_inspector_reads(inspector, district, web):
    dead = stalled_import(inspector, district, attempts=2, minutes_ago=10)
    assert service.roster_imports_recover() == {"requeued": 0, "failed": 1}
    dead.refresh_from_db()
    assert dead.status == RosterImportStatus.FAILED and dead.finished_at is not None
    assert Volunteer.objects.count() == 0
    client = web(inspector)
    client.cookies["django_language"] = "en"
    page = client.get(f"/volunteers/import/{dead.pk}/").content.decode()
    assert "The import stopped 2 times before it finished" in page
    assert service.roster_imports_recover() == {"requeued": 0, "failed": 0}


def test_a_workbook_that_unpacks_too_large_is_refused_before_any_worker_opens_it(upload, settings):
    settings.ROSTER_IMPORT_MAX_UNPACKED_BYTES = 50_000
    workbook = xlsx_file([["Тегі", "Аты", "ЖСН"], *[["Ә" * 400, "Б" * 400, str(n)] for n in range(200)]])
    assert len(workbook) < 50_000
    with translation.override("en"), pytest.raises(ValidationError) as caught:
        upload("roster.xlsx", workbook)
    assert "unpacks to more than" in caught.value.message_dict["file"][0]
    assert not RosterImport.objects.exists()


# The problems as facts, told in the reader's language; importing the valid rows and the rows to fix


def told(language: str, error: dict) -> str:
    with translation.override(language):
        return service.problem_text(error)


@pytest.fixture
def mixed_rows(group):
    """Two good rows, then a landline phone, then an IIN with a wrong check digit (born in 2003: a leading zero)."""
    young = iin(datetime.date(2003, 7, 7), female=True)
    wrong = young[:11] + str((int(young[11]) + 1) % 10)
    header = ["Фамилия", "Имя", "Отчество", "ИИН", "Телефон", "Дата рождения", "Группа", "Дата вступления"]
    return [
        header,
        ["Асанов", "Бек", "", iin(datetime.date(1991, 1, 1)), "87010000001", "", group.name, ""],  # 2
        ["Серікболов", "Айдос", "Ержанұлы", iin(datetime.date(1990, 2, 2)), "+7 495 123 45 67", "", "", ""],  # 3
        ["Хорошев", "Иван", "", iin(datetime.date(1982, 4, 4)), "87010000008", "", "", "01.09.2024"],  # 4
        ["Жанар", "Нұрланқызы", "", wrong, "87010000005", "07.07.2003", group.name, ""],  # 5
    ]


def test_errors_name_the_person_and_the_bad_value_and_are_read_in_the_readers_language(upload, inspector, mixed_rows):
    with translation.override("ru"):
        roster_import = upload("Список.csv", csv_file(mixed_rows))

    assert (roster_import.status, roster_import.language) == (RosterImportStatus.FAILED, "ru")
    landline, checksum = roster_import.errors
    assert landline == {
        "row": 3,
        "field": "phone",
        "code": "phone_format",
        "params": {},
        "person": "Серікболов Айдос",
        "value": "+7 495 123 45 67",
    }
    # Whose row it is by name, never by IIN: an IIN shown back is masked.
    assert (checksum["row"], checksum["code"], checksum["person"]) == (5, "iin_checksum", "Жанар Нұрланқызы")
    assert checksum["value"] == mask_iin(mixed_rows[4][3]) and mixed_rows[4][3] not in str(roster_import.errors)
    assert "message" not in landline, "no sentence is kept in the uploader's language"
    kazakh, russian = told("kk", landline), told("ru", landline)
    assert kazakh != russian

    page = reader(inspector, "kk").get(f"/volunteers/import/{roster_import.pk}/").content.decode()
    assert kazakh in page and russian not in page
    assert "Серікболов Айдос" in page and "+7 495 123 45 67" in page
    body = api_reader(inspector, "kk").get(f"/api/v1/roster-imports/{roster_import.pk}/").json()
    assert body["status"] == "failed" and body["rows_to_fix"] is None
    assert body["errors"][0]["message"] == kazakh
    assert (body["errors"][0]["person"], body["errors"][0]["value"], body["errors"][0]["row"]) == (
        "Серікболов Айдос",
        "+7 495 123 45 67",
        3,
    )


def test_a_cell_too_long_is_named_with_its_limit_and_shortened_when_shown(upload):
    rows = [["Фамилия", "Имя", "ИИН", "Телефон"], ["Ә" * 150, "Бек", iin(datetime.date(1991, 1, 1)), "87010000001"]]

    roster_import = upload("long.csv", csv_file(rows))

    (error,) = roster_import.errors
    assert (error["field"], error["code"], error["params"]) == ("last_name", "too_long", {"limit": 100, "count": 150})
    assert len(error["value"]) == service.SHOWN_LENGTH and len(error["person"]) == service.SHOWN_LENGTH
    assert "100" in told("en", error)


def test_an_import_kept_from_before_still_shows_its_sentences(web, inspector, district):
    job = RosterImport.objects.create(
        district=district,
        uploaded_by=inspector,
        original_name="old.csv",
        status=RosterImportStatus.FAILED,
        errors=[{"row": 3, "field": "iin", "message": "ИИН состоит ровно из 12 цифр."}],
    )
    page = reader(inspector, "kk").get(f"/volunteers/import/{job.pk}/").content.decode()
    assert "ИИН состоит ровно из 12 цифр." in page


def xlsx_rows(data: bytes) -> list[list]:
    sheet = openpyxl.load_workbook(io.BytesIO(data)).active
    return [list(row) for row in sheet.iter_rows(values_only=True)]


def test_importing_the_valid_rows_writes_them_and_gives_back_exactly_the_bad_ones_to_fix(
    upload, inspector, group, mixed_rows
):
    before = counts()
    with translation.override("ru"):
        roster_import = upload("Список.xlsx", xlsx_file(mixed_rows), import_valid_rows=True)

    assert roster_import.status == RosterImportStatus.PARTIAL and roster_import.is_finished
    assert (roster_import.created_count, roster_import.updated_count) == (2, 0)
    assert [(error["row"], error["code"]) for error in roster_import.errors] == [
        (3, "phone_format"),
        (5, "iin_checksum"),
    ]
    assert counts() == (before[0] + 2, before[1] + 1, before[2] + 2)
    assert set(Volunteer.objects.values_list("last_name", flat=True)) == {"Асанов", "Хорошев"}
    assert Volunteer.objects.get(last_name="Асанов").memberships.get().group == group
    assert roster_import.has_rows_to_fix

    browser = reader(inspector, "kk")
    page = browser.get(f"/volunteers/import/{roster_import.pk}/").content.decode()
    assert f"/volunteers/import/{roster_import.pk}/rows-to-fix.xlsx" in page
    response = browser.get(f"/volunteers/import/{roster_import.pk}/rows-to-fix.xlsx")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    header, *rows = xlsx_rows(response.content)
    with translation.override("kk"):
        template_header = xlsx_rows(roster_template_xlsx())[0]
    assert header[: len(service.COLUMNS)] == template_header and len(header) == len(service.COLUMNS) + 1
    assert [row[0] for row in rows] == ["Серікболов", "Жанар"]
    assert rows[0][4] == "+7 495 123 45 67"
    assert rows[1][3] == mixed_rows[4][3] and rows[1][3].startswith("0"), "the IIN as written, its zero kept"
    assert rows[1][5] == "07.07.2003" and rows[1][6] == group.name
    assert told("kk", roster_import.errors[0]) in rows[0][-1] and told("ru", roster_import.errors[0]) not in rows[0][-1]

    # The inspector fixes the two rows and uploads the file again: the rest is imported, nothing twice.
    workbook = openpyxl.load_workbook(io.BytesIO(response.content))
    sheet = workbook.active
    sheet.cell(row=2, column=5, value="87010000003")
    sheet.cell(row=3, column=4, value=iin(datetime.date(2003, 7, 7), female=True))
    buffer = io.BytesIO()
    workbook.save(buffer)
    rest = upload("Список-исправлен.xlsx", buffer.getvalue())

    assert rest.status == RosterImportStatus.DONE, rest.errors
    assert (rest.created_count, rest.updated_count) == (2, 0)
    assert counts() == (before[0] + 4, before[1] + 2, before[2] + 4)
    assert sorted(Volunteer.objects.values_list("last_name", flat=True)) == ["Асанов", "Жанар", "Серікболов", "Хорошев"]
    assert not rest.has_rows_to_fix


def test_with_nothing_valid_an_import_of_the_valid_rows_writes_nothing_but_gives_the_rows_back(upload, mixed_rows):
    before = counts()

    roster_import = upload("bad.csv", csv_file([mixed_rows[0], mixed_rows[2], mixed_rows[4]]), import_valid_rows=True)

    assert roster_import.status == RosterImportStatus.FAILED
    assert counts() == before
    assert roster_import.has_rows_to_fix
    rows = xlsx_rows(service.roster_rows_to_fix_xlsx(roster_import))[1:]
    assert [row[0] for row in rows] == ["Серікболов", "Жанар"]


def test_all_or_nothing_stays_the_default_and_gives_no_file(upload, inspector, mixed_rows):
    roster_import = upload("bad.csv", csv_file(mixed_rows))

    assert roster_import.status == RosterImportStatus.FAILED and not roster_import.import_valid_rows
    assert not Volunteer.objects.exists()
    assert not roster_import.has_rows_to_fix
    assert reader(inspector, "en").get(f"/volunteers/import/{roster_import.pk}/rows-to-fix.xlsx").status_code == 404


def test_the_rows_to_fix_are_given_only_within_the_imports_scope(
    upload, inspector, other_inspector, volunteer, chief, mixed_rows
):
    roster_import = upload("r.csv", csv_file(mixed_rows), import_valid_rows=True)
    assert roster_import.has_rows_to_fix
    web_url = f"/volunteers/import/{roster_import.pk}/rows-to-fix.xlsx"
    api_url = f"/api/v1/roster-imports/{roster_import.pk}/rows-to-fix/"

    assert reader(inspector, "ru").get(web_url).status_code == 200
    assert api_reader(inspector, "ru").get(api_url).status_code == 200
    for outsider in (other_inspector, volunteer):
        assert reader(outsider, "ru").get(web_url).status_code == 404
        assert api_reader(outsider, "ru").get(api_url).status_code == 404
        assert api_reader(outsider, "ru").get(f"/api/v1/roster-imports/{roster_import.pk}/").status_code == 404
    assert roster_import.pk not in [
        job["id"] for job in api_reader(other_inspector, "ru").get("/api/v1/roster-imports/").json()["results"]
    ]


def test_the_rows_to_fix_go_with_the_file_when_retention_deletes_it(upload, inspector, mixed_rows):
    roster_import = upload("r.csv", csv_file(mixed_rows), import_valid_rows=True)
    later = timezone.now() + datetime.timedelta(days=400)

    assert retention.roster_file_delete(import_id=roster_import.pk, now=later)

    roster_import.refresh_from_db()
    assert not roster_import.file and not roster_import.has_rows_to_fix
    assert [(error["row"], error["code"]) for error in roster_import.errors] == [
        (3, "phone_format"),
        (5, "iin_checksum"),
    ]
    assert not any("person" in error or "value" in error for error in roster_import.errors)
    assert reader(inspector, "ru").get(f"/volunteers/import/{roster_import.pk}/rows-to-fix.xlsx").status_code == 404
    assert "Серікболов" not in reader(inspector, "ru").get(f"/volunteers/import/{roster_import.pk}/").content.decode()


def test_the_api_uploads_with_the_choice_and_points_at_the_rows_to_fix(
    inspector, district, mixed_rows, eager_celery, django_capture_on_commit_callbacks
):
    client = api_reader(inspector, "kk")
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/api/v1/roster-imports/",
            {
                "district": district.code,
                "file": SimpleUploadedFile("r.csv", csv_file(mixed_rows)),
                "import_valid_rows": "true",
            },
            format="multipart",
        )
    assert response.status_code == 202, response.json()
    body = client.get(f"/api/v1/roster-imports/{response.json()['id']}/").json()
    assert (body["status"], body["import_valid_rows"], body["created_count"], body["finished"]) == (
        "partial",
        True,
        2,
        True,
    )
    assert body["rows_to_fix"].endswith(f"/api/v1/roster-imports/{body['id']}/rows-to-fix/")
    workbook = client.get(body["rows_to_fix"])
    assert workbook.status_code == 200
    assert [row[0] for row in xlsx_rows(workbook.content)[1:]] == ["Серікболов", "Жанар"]


def test_the_api_refuses_an_upload_outside_the_districts_kept(api, other_inspector, district, mixed_rows):
    response = api(other_inspector).post(
        "/api/v1/roster-imports/",
        {"district": district.code, "file": SimpleUploadedFile("r.csv", csv_file(mixed_rows))},
        format="multipart",
    )
    assert response.status_code == 400 and "district" in response.json()
    assert not RosterImport.objects.exists()


def test_a_partial_import_whose_worker_died_runs_again_and_writes_the_valid_rows_once(
    inspector, district, mixed_rows, eager_celery, django_capture_on_commit_callbacks
):
    dead = RosterImport.objects.create(
        district=district, uploaded_by=inspector, original_name="m.csv", language="en", import_valid_rows=True
    )
    dead.file.save("m.csv", SimpleUploadedFile("m.csv", csv_file(mixed_rows)))
    # Killed halfway through the checks: nothing was written, the import still says "running".
    RosterImport.objects.filter(pk=dead.pk).update(
        status=RosterImportStatus.RUNNING,
        total_rows=4,
        processed_rows=2,
        attempts=1,
        heartbeat_at=timezone.now() - datetime.timedelta(minutes=10),
    )

    with django_capture_on_commit_callbacks(execute=True):
        assert service.roster_imports_recover() == {"requeued": 1, "failed": 0}
    run_roster_import.delay(dead.pk)

    dead.refresh_from_db()
    assert (dead.status, dead.created_count, dead.attempts) == (RosterImportStatus.PARTIAL, 2, 2)
    assert Volunteer.objects.count() == 2 and VolunteerStatusChange.objects.count() == 2
