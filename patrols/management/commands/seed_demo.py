"""`manage.py seed_demo [--password P] [--reports N] [--once]`: the demo country with one login for each role."""

import datetime
import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db.models import Count
from django.utils import timezone
from django.utils.translation import gettext as _

from ...choices import AssignmentStatus, GroupKind, ReportStatus, Role, ShiftStatus
from ...demo import DEMO_LOGINS, demo_bulk_reports, demo_exists, demo_seed
from ...models import (
    Assignment,
    District,
    Group,
    Notification,
    Region,
    Report,
    Settlement,
    Shift,
    ShiftSeries,
    User,
    Volunteer,
    Zone,
)

DEFAULT_PASSWORD = "demo12345"


class Command(BaseCommand):
    @property
    def help(self) -> str:
        """The command's description, in the active language (argparse needs a plain string)."""
        return _(
            "Seed a realistic demo country: districts, settlements, groups of all four kinds, volunteers, a year of "
            "shifts and reports, and the logins volunteer, leader, inspector, chief, analyst and admin. Running it "
            "again creates nothing twice."
        )

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--password",
            default=DEFAULT_PASSWORD,
            help=_("password of every demo login (default: %(default)s); set again on every run"),
        )
        parser.add_argument(
            "--reports",
            type=int,
            default=0,
            metavar="N",
            help=_("also load N extra reports over the past year, in bulk (for load); the same N again adds nothing"),
        )
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
        if reports < 0:
            raise CommandError(_("--reports takes a number of reports, 0 or more."))
        if once and demo_exists():
            self.stdout.write(_("The demo is already there; nothing to do (run without --once to complete it)."))
            return
        started = time.monotonic()
        created = demo_seed(password=password)
        elapsed = time.monotonic() - started
        self.stdout.write(
            _(
                "Created %(districts)d districts, %(settlements)d settlements, %(groups)d groups, "
                "%(volunteers)d volunteers, %(memberships)d memberships and %(accounts)d accounts "
                "in %(seconds).1f s."
            )
            % {**created, "seconds": elapsed}
        )
        self.stdout.write(
            _(
                "Created %(zones)d patrol zones, %(series)d weekly series, %(shifts)d shifts and "
                "%(assignments)d assignments."
            )
            % created
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
        now = timezone.now()
        shifts = dict(Shift.objects.values_list("status").annotate(n=Count("id")))
        attendance = dict(Assignment.objects.values_list("status").annotate(n=Count("id")))
        self.stdout.write(
            _(
                "Patrols: %(zones)d zones, %(series)d weekly series, %(shifts)d shifts (%(closed)d closed, "
                "%(coming)d open in the coming week) and %(assignments)d assignments (%(completed)d completed, "
                "%(no_show)d did not come)."
            )
            % {
                "zones": Zone.objects.count(),
                "series": ShiftSeries.objects.count(),
                "shifts": sum(shifts.values()),
                "closed": shifts.get(ShiftStatus.CLOSED, 0),
                "coming": Shift.objects.filter(
                    status=ShiftStatus.SCHEDULED, starts_at__gt=now, starts_at__lte=now + datetime.timedelta(days=7)
                ).count(),
                "assignments": sum(attendance.values()),
                "completed": attendance.get(AssignmentStatus.COMPLETED, 0),
                "no_show": attendance.get(AssignmentStatus.NO_SHOW, 0),
            }
        )
        self.stdout.write(
            _("Created %(reports)d reports with %(report_events)d history entries and %(notifications)d notifications.")
            % created
        )
        if reports:
            started = time.monotonic()
            added = demo_bulk_reports(reports)
            self.stdout.write(
                _("Loaded %(added)d of %(count)d extra reports in %(seconds).1f s (the others were there already).")
                % {"added": added, "count": reports, "seconds": time.monotonic() - started}
            )
        statuses = dict(Report.objects.values_list("status").annotate(n=Count("id")))
        self.stdout.write(
            _(
                "Reports: %(reports)d (%(verified)d verified, %(waiting)d waiting for verification, %(asked)d with a "
                "question, %(rejected)d rejected); %(unread)d unread notifications."
            )
            % {
                "reports": sum(statuses.values()),
                "verified": statuses.get(ReportStatus.VERIFIED, 0),
                "waiting": statuses.get(ReportStatus.SUBMITTED, 0),
                "asked": statuses.get(ReportStatus.NEEDS_INFO, 0),
                "rejected": statuses.get(ReportStatus.REJECTED, 0),
                "unread": Notification.objects.filter(read_at__isnull=True).count(),
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
