"""`manage.py backup [--dir DIR] [--keep N]`: the database (pg_dump, custom format) and the uploaded files, checked."""

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from ...services.backups import BackupError, backup_make


class Command(BaseCommand):
    @property
    def help(self) -> str:
        """The command's description, in the active language (argparse needs a plain string)."""
        return _(
            "Back up the PostgreSQL database (pg_dump, custom format) and the uploaded files (a tar of MEDIA_ROOT) "
            "into a new folder under BACKUP_DIR, with a manifest of every table's row count and every file's "
            "checksum; then keep only the newest BACKUP_KEEP backups."
        )

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--dir", dest="folder", type=Path, default=None, help=_("where to write (default: BACKUP_DIR)")
        )
        parser.add_argument(
            "--keep", type=int, default=None, metavar="N", help=_("how many backups to keep (default: BACKUP_KEEP)")
        )

    def handle(self, *args, folder: Path | None, keep: int | None, **options) -> None:
        try:
            backup, removed = backup_make(folder=folder, keep=keep)
        except BackupError as error:
            raise CommandError(str(error)) from error
        size = sum(path.stat().st_size for path in backup.folder.iterdir())
        self.stdout.write(
            _("Backup written to %(folder)s: %(tables)d tables, %(rows)d rows, %(files)d files, %(megabytes).1f MB.")
            % {
                "folder": backup.folder,
                "tables": len(backup.tables),
                "rows": sum(backup.tables.values()),
                "files": len(backup.files),
                "megabytes": size / 1024 / 1024,
            }
        )
        missing = len(backup.manifest["media"]["missing"])
        if missing:
            self.stderr.write(
                ngettext(
                    "%(count)d file that a row refers to is not in the media folder (listed in the manifest).",
                    "%(count)d files that rows refer to are not in the media folder (listed in the manifest).",
                    missing,
                )
                % {"count": missing}
            )
        if backup.manifest["media"]["storage"] == "bucket":
            self.stdout.write(
                _(
                    "Uploads are in the bucket %(bucket)s, not in this backup: keep the bucket's own versioning or "
                    "replication on."
                )
                % {"bucket": settings.STORAGE_S3_BUCKET}
            )
        if removed:
            self.stdout.write(
                ngettext("%(count)d older backup removed.", "%(count)d older backups removed.", len(removed))
                % {"count": len(removed)}
            )
