"""`manage.py apply_retention [--dry-run]`: anonymise, redact and delete personal data past its retention period."""

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from ...services.retention import retention_apply


class Command(BaseCommand):
    @property
    def help(self) -> str:
        """The command's description, in the active language (argparse needs a plain string)."""
        return _(
            "Anonymise volunteers who left, remove the details of other people from rejected reports and delete "
            "uploaded roster files, old access log entries and old positions sent on duty, each after its retention "
            "period (RETENTION_*_DAYS, POSITION_RETENTION_DAYS). Safe to run again."
        )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--dry-run", action="store_true", help=_("count what is due, but change nothing"))

    def handle(self, *args, dry_run: bool, **options) -> None:
        result = retention_apply(dry_run=dry_run)
        if dry_run:
            self.stdout.write(_("Dry run: nothing was changed."))
            lines = (
                (_("Volunteers to anonymise: %(count)d"), result.volunteers),
                (_("Rejected reports whose details of other people would be removed: %(count)d"), result.third_party),
                (_("Roster files to delete: %(count)d"), result.roster_files),
                (_("Access log entries to delete: %(count)d"), result.access_log),
                (_("Positions sent on duty to delete: %(count)d"), result.positions),
                (_("Exports of reports to delete: %(count)d"), result.report_exports),
            )
        else:
            lines = (
                (_("Volunteers anonymised: %(count)d"), result.volunteers),
                (_("Rejected reports whose details of other people were removed: %(count)d"), result.third_party),
                (_("Roster files deleted: %(count)d"), result.roster_files),
                (_("Access log entries deleted: %(count)d"), result.access_log),
                (_("Positions sent on duty deleted: %(count)d"), result.positions),
                (_("Exports of reports deleted: %(count)d"), result.report_exports),
            )
        for text, count in lines:
            self.stdout.write(text % {"count": count})
        if result.failed:
            raise CommandError(
                ngettext(
                    "%(count)d object could not be handled (see the log); the next run tries it again.",
                    "%(count)d objects could not be handled (see the log); the next run tries them again.",
                    result.failed,
                )
                % {"count": result.failed}
            )
