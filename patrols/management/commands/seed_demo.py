"""`manage.py seed_demo [--password P] [--reports N] [--once]`: the demo country with one login for each role."""

import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db.models import Count
from django.utils.translation import gettext as _

from ...choices import GroupKind, Role
from ...models import District, Group, Region, Settlement, User, Volunteer
from ...services.demo import DEMO_LOGINS, demo_exists, demo_seed

DEFAULT_PASSWORD = "demo12345"


class Command(BaseCommand):
    @property
    def help(self) -> str:
        """The command's description, in the active language (argparse needs a plain string)."""
        return _(
            "Seed a realistic demo country: districts, settlements, groups of all four kinds, volunteers, and the "
            "logins volunteer, leader, inspector, chief, analyst and admin. Running it again creates nothing twice."
        )

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--password",
            default=DEFAULT_PASSWORD,
            help=_("password of every demo login (default: %(default)s); set again on every run"),
        )
        parser.add_argument("--reports", type=int, default=0, metavar="N", help=_("how many reports to add"))
        parser.add_argument("--once", action="store_true", help=_("do nothing when the demo is already there"))
        parser.add_argument(
            "--allow-production",
            action="store_true",
            help=_("seed even with DEBUG off (it resets the passwords of accounts named like the demo logins)"),
        )

    def handle(self, *args, password: str, reports: int, once: bool, allow_production: bool, **options) -> None:
        # The demo sets well-known passwords on accounts such as `admin`: never by accident on a real system.
        if not settings.DEBUG and not allow_production:
            raise CommandError(_("DEBUG is off: this looks like a real system. Add --allow-production to seed anyway."))
        if once and demo_exists():
            self.stdout.write(_("The demo is already there; nothing to do (run without --once to complete it)."))
            return
        if reports:
            self.stdout.write(
                _("Reports arrive with the reports feature: --reports %(count)d adds nothing yet.") % {"count": reports}
            )
        started = time.monotonic()
        created = demo_seed(password=password, reports=reports)
        elapsed = time.monotonic() - started
        self.stdout.write(
            _(
                "Created %(districts)d districts, %(settlements)d settlements, %(groups)d groups, "
                "%(volunteers)d volunteers, %(memberships)d memberships and %(accounts)d accounts "
                "in %(seconds).1f s."
            )
            % {**created, "seconds": elapsed}
        )
        kinds = dict(Group.objects.values_list("kind").annotate(n=Count("id")))
        self.stdout.write(
            _(
                "The country now has %(regions)d regions, %(districts)d districts, %(settlements)d settlements, "
                "%(groups)d groups (%(kinds)s) and %(volunteers)d volunteers."
            )
            % {
                "regions": Region.objects.count(),
                "districts": District.objects.count(),
                "settlements": Settlement.objects.count(),
                "groups": sum(kinds.values()),
                "kinds": ", ".join(f"{GroupKind(kind).label}: {count}" for kind, count in sorted(kinds.items())),
                "volunteers": Volunteer.objects.count(),
            }
        )
        self.stdout.write(_("Demo logins (password: %(password)s):") % {"password": password})
        users = User.objects.in_bulk(DEMO_LOGINS, field_name="username")
        for username in DEMO_LOGINS:
            user = users[username]
            scope = ""
            if user.role == Role.INSPECTOR:
                scope = ", ".join(district.name for district in user.inspector_districts.all())
            elif user.role == Role.CHIEF and user.chief_region:
                scope = user.chief_region.name
            label = Role(user.role).label
            self.stdout.write(f"  {username:<10} {label}" + (f" ({scope})" if scope else ""))
