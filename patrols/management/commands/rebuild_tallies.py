"""`manage.py rebuild_tallies [--check]`: recount the dashboards' kept counts from the reports and say what differed."""

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from patrols.services.tallies import tallies_rebuild


class Command(BaseCommand):
    help = "Recount the kept counts of verified reports from the reports; print every difference found."

    def add_arguments(self, parser):
        parser.add_argument(
            "--check", action="store_true", help="Only compare; change nothing and exit with 1 if anything differs."
        )

    def handle(self, *args, check: bool = False, **options):
        differences = tallies_rebuild(apply=not check)
        for difference in differences[:50]:
            key = ", ".join(f"{name}={value}" for name, value in difference.key.items())
            self.stdout.write(
                _("%(table)s [%(key)s]: kept %(kept)d, counted %(counted)d")
                % {"table": difference.table, "key": key, "kept": difference.kept, "counted": difference.counted}
            )
        if len(differences) > 50:
            self.stdout.write(_("… and %(count)d more.") % {"count": len(differences) - 50})
        if not differences:
            self.stdout.write(_("The kept counts agree with the reports."))
        elif check:
            raise CommandError(_("%(count)d kept counts differ from the reports.") % {"count": len(differences)})
        else:
            self.stdout.write(_("%(count)d kept counts were corrected.") % {"count": len(differences)})
