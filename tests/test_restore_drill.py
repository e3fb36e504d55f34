"""The restore drill: what a police IT department does once a quarter, run on every `make test`.

Talgar's volunteer files reports with photos, the inspector verifies some (the dashboards' tallies move). A backup
is made; then the photos folder is lost and the reports are deleted. The backup is restored into a new database and
a new folder, and every table's row count, every photo's SHA-256 and `rebuild_tallies --check` (run against the
restored database, as an operator would) agree with what there was before the loss.
"""

import datetime
import hashlib
import io
import os
import shutil
import subprocess
import sys
import uuid
from pathlib import Path
from urllib.parse import urlparse

import pytest
from django.contrib.gis.geos import Point
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.db import connection
from django.utils import timezone, translation
from PIL import Image

from patrols.models import Category, Outcome, Report, ReportPhoto, ReportTally
from patrols.services import backups, reporting

# Committed rows (pg_dump reads them from another connection); the regions and categories the migrations load are
# put back after the flush that ends each test.
pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

ROOT = Path(__file__).resolve().parent.parent
SECRET = "Бұзақы: Серік Ахметов, ЖСН 900101300123, тел. +7 701 555 12 34"


@pytest.fixture(autouse=True)
def english():
    """The commands' messages are read in English here (the site's default language is Kazakh)."""
    with translation.override("en"):
        yield


@pytest.fixture
def media(settings, tmp_path) -> Path:
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def restored_database():
    """The name of a database for the restore, dropped again at the end."""
    params = backups.database_settings()
    name = f"{params['NAME']}_restored"
    backups.database_drop(params, name)
    yield name
    backups.database_drop(params, name)


def jpeg(colour: tuple[int, int, int]) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (640, 480), colour).save(out, format="JPEG")
    return out.getvalue()


def filed(volunteer, *, minutes_ago: int, photos: list[bytes]) -> Report:
    """A report of petty hooliganism prevented in the volunteer's district, with its photos."""
    district = volunteer.volunteer.district
    report, _created = reporting.report_submit(
        by=volunteer,
        client_uuid=uuid.uuid4(),
        occurred_at=timezone.now() - datetime.timedelta(minutes=minutes_ago),
        point=Point(district.centre.x, district.centre.y, srid=4326),
        category=Category.objects.get(code="petty_hooliganism"),
        outcome=Outcome.objects.get(code="prevented"),
        description="Екі жасөспірім дүкен алдында төбелескен, ажыратып жібердік.",
        third_party_details=SECRET,
    )
    for number, content in enumerate(photos):
        reporting.report_photo_add(report=report, by=volunteer, upload=SimpleUploadedFile(f"{number}.jpg", content))
    return report


def counts_in(database: str) -> dict[str, int]:
    """Every table's row count in `database`, read by a connection of its own."""
    params = backups.database_settings()
    with backups._connect(params, database) as conn, conn.cursor() as cursor:
        return backups.table_counts(cursor)


def photo_checksums(root: Path) -> dict[str, str]:
    return {
        photo.image.name: hashlib.sha256((root / photo.image.name).read_bytes()).hexdigest()
        for photo in ReportPhoto.objects.all()
    }


def manage(*args: str, database: str) -> subprocess.CompletedProcess:
    """A management command in a process of its own, on `database` (the same server and role as the tests')."""
    url = urlparse(os.environ["DATABASE_URL"])._replace(path=f"/{database}").geturl()
    env = {**os.environ, "DATABASE_URL": url, "DEBUG": "1"}
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


def test_a_backup_restored_into_a_new_database_and_folder_is_what_was_lost(
    media, tmp_path, volunteer, inspector, restored_database, capsys
):
    first = filed(volunteer, minutes_ago=90, photos=[jpeg((200, 30, 30)), jpeg((30, 200, 30))])
    second = filed(volunteer, minutes_ago=60, photos=[jpeg((30, 30, 200))])
    filed(volunteer, minutes_ago=30, photos=[])
    reporting.report_verify(report=first, by=inspector)
    reporting.report_verify(report=second, by=inspector)
    assert ReportTally.objects.exists()
    before = counts_in(connection.settings_dict["NAME"])
    assert before["public.patrols_report"] == 3
    assert before["public.patrols_reportphoto"] == 3
    photos = photo_checksums(media)
    assert len(set(photos.values())) == 3

    call_command("backup", folder=tmp_path / "backups", keep=2)
    made = capsys.readouterr()
    (folder,) = (tmp_path / "backups").glob("backup-*")
    assert "3 files" in made.out
    # The operator's screen and the logs hold no one's details.
    for personal in (SECRET, "900101300123", volunteer.volunteer.last_name, first.description):
        assert personal not in made.out + made.err

    # The loss: the photos' folder and the reports (with their photos and history) are gone.
    shutil.rmtree(media)
    Report.objects.all().delete()
    assert counts_in(connection.settings_dict["NAME"])["public.patrols_report"] == 0

    new_media = tmp_path / "restored-media"
    call_command("restore", folder, database=restored_database, media_root=new_media)
    assert "all as in the backup" in capsys.readouterr().out

    restored = counts_in(restored_database)
    assert restored == before
    assert {name: hashlib.sha256((new_media / name).read_bytes()).hexdigest() for name in photos} == photos
    # Run where the reports were deleted (the test's own database), the same check would fail: the tallies stayed.
    checked = manage("rebuild_tallies", "--check", database=restored_database)
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_a_restore_never_writes_over_a_database_or_folder_in_use_unless_told(media, tmp_path, restored_database):
    backup, _removed = backups.backup_make(folder=tmp_path / "backups", keep=1)
    database = connection.settings_dict["NAME"]
    before = counts_in(database)
    with pytest.raises(CommandError, match="is not empty"):
        call_command("restore", backup.folder, database=database, media_root=tmp_path / "new-media")
    assert counts_in(database) == before
    busy = tmp_path / "busy-media"
    busy.mkdir()
    (busy / "keep.txt").write_text("still here")
    with pytest.raises(CommandError, match="is not empty"):
        call_command("restore", backup.folder, database=restored_database, media_root=busy)
    assert (busy / "keep.txt").read_text() == "still here"
    params = backups.database_settings()
    assert not backups.database_exists(params, restored_database)

    # A copy of the backup cut short is refused before anything is touched.
    dump = backup.folder / backups.DUMP
    dump.write_bytes(dump.read_bytes()[: dump.stat().st_size // 2])
    with pytest.raises(CommandError, match="missing or damaged"):
        call_command("restore", backup.folder, database=restored_database, media_root=tmp_path / "new-media")
    assert not backups.database_exists(params, restored_database)


def test_only_the_newest_backups_are_kept(media, tmp_path, settings):
    settings.BACKUP_DIR = tmp_path / "backups"
    settings.BACKUP_KEEP = 2
    made = [backups.backup_make()[0].folder for _ in range(3)]
    # What a backup that crashed half-way left behind is not a backup, and goes with the next one.
    (settings.BACKUP_DIR / "backup-20200101T000000Z.partial").mkdir()
    assert [backup.folder for backup in backups.backups_list(settings.BACKUP_DIR)] == made[1:]
    fourth, removed = backups.backup_make()
    assert removed == [made[1]]
    assert sorted(path.name for path in settings.BACKUP_DIR.glob("backup-*")) == [made[2].name, fourth.folder.name]
    assert oct(settings.BACKUP_DIR.stat().st_mode & 0o777) == "0o700"
