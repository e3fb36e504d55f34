"""`manage.py rebuild_ledger [--check]`: recount the volunteers' ledgers from the facts and say what differed."""

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from patrols.services.ledger import ledger_rebuild

SHOWN = 50


class Command(BaseCommand):
    help = (
        "Recount every volunteer's ledger (shifts, patrol minutes, no-shows, verified reports, meetings, call-outs) "
        "from the facts; print every difference found. Run it after rebuild_tallies, which recounts the minutes of "
        "each patrol."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--check", action="store_true", help="Only compare; change nothing and exit with 1 if anything differs."
        )

    def handle(self, *args, check: bool = False, **options):
        differences = ledger_rebuild(apply=not check)
        for difference in differences[:SHOWN]:
            key = ", ".join(f"{name}={value}" for name, value in difference.key.items())
            self.stdout.write(
                _("%(table)s [%(key)s]: kept %(kept)d, counted %(counted)d")
                % {"table": difference.table, "key": key, "kept": difference.kept, "counted": difference.counted}
            )
        if len(differences) > SHOWN:
            self.stdout.write(_("… and %(count)d more.") % {"count": len(differences) - SHOWN})
        if not differences:
            self.stdout.write(_("The ledgers agree with the facts."))
        elif check:
            raise CommandError(_("%(count)d ledger figures differ from the facts.") % {"count": len(differences)})
        else:
            self.stdout.write(_("%(count)d ledger figures were corrected.") % {"count": len(differences)})
