"""`manage.py restore [BACKUP] --database NAME --media-root DIR [--replace]`: a backup into a new database and
folder, checked against its manifest."""

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from ...services.backups import BackupError, backup_read, backup_restore, backups_list


class Command(BaseCommand):
    @property
    def help(self) -> str:
        """The command's description, in the active language (argparse needs a plain string)."""
        return _(
            "Restore a backup (default: the newest in BACKUP_DIR) into a database on the configured PostgreSQL "
            "server, created when it does not exist, and into a media folder; then check every table's row count "
            "and every file's checksum against the backup's manifest. A database with tables or a folder with "
            "files is refused unless --replace."
        )

    def add_arguments(self, parser) -> None:
        parser.add_argument("backup", nargs="?", type=Path, help=_("the backup's folder (default: the newest)"))
        parser.add_argument("--database", required=True, help=_("the database to restore into, by name"))
        parser.add_argument(
            "--media-root", type=Path, default=None, help=_("the folder to unpack the uploaded files into")
        )
        parser.add_argument(
            "--replace", action="store_true", help=_("overwrite a database that has tables and a folder that has files")
        )

    def handle(self, *args, backup: Path | None, database: str, media_root: Path | None, replace: bool, **options):
        try:
            if backup is None:
                finished = backups_list(Path(settings.BACKUP_DIR))
                if not finished:
                    raise BackupError(_("There is no backup in %(folder)s.") % {"folder": settings.BACKUP_DIR})
                chosen = finished[-1]
            else:
                chosen = backup_read(backup)
            if media_root is None and chosen.manifest["media"]["archive"]:
                raise BackupError(_("Say where the uploaded files go: --media-root DIR."))
            comparison = backup_restore(backup=chosen, database=database, media_root=media_root, replace=replace)
        except BackupError as error:
            raise CommandError(str(error)) from error
        for table, expected, found in comparison.tables:
            self.stderr.write(
                _("%(table)s: %(expected)d rows in the backup, %(found)s restored.")
                % {"table": table, "expected": expected, "found": "-" if found is None else found}
            )
        if not comparison.agrees:
            raise CommandError(
                _("The restore differs from the backup: %(tables)d tables and %(files)d files.")
                % {"tables": len(comparison.tables), "files": len(comparison.files)}
            )
        self.stdout.write(
            _(
                "Restored %(folder)s into the database %(database)s: %(tables)d tables and %(files)d files, all as "
                "in the backup."
            )
            % {
                "folder": chosen.folder.name,
                "database": database,
                "tables": len(chosen.tables),
                "files": len(chosen.files),
            }
        )
