"""Who may see and change what: the one place that knows a user's scope (rule 1 of DESIGN.md).

Every list, detail, export, map layer and dashboard takes its queryset from a `visible_to(user)` method
defined here; every write checks `manageable_by(user)`. An object outside scope is simply not in the
queryset, so views answer 404 and nothing tells whether it exists.

- analyst, admin (and superusers): the whole country; analysts read only.
- regional chief: the districts of their region; read only.
- district inspector: their districts; may change groups and volunteers there.
- group leader: themselves, their groups and the rosters of the groups they lead.
- volunteer: themselves and their groups.
- geography (regions, districts, settlements) is reference data every signed-in user may read.
- the access log of personal data: administrators only.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db import models
from django.db.models import Exists, OuterRef, Q

from .choices import Role
from .prepared import PreparedQuery

if TYPE_CHECKING:
    from .models import User

NATIONAL_ROLES = frozenset({Role.ANALYST, Role.ADMIN})
AREA_ROLES = frozenset({Role.INSPECTOR, Role.CHIEF})
# Police and ministry accounts: they read queues, flags, histories and figures of their scope.
POLICE_ROLES = NATIONAL_ROLES | AREA_ROLES


def _signed_in(user) -> bool:
    return bool(user and user.is_authenticated and user.is_active)


def role_of(user) -> str | None:
    """The role that decides scope; superusers act as admins."""
    if not _signed_in(user):
        return None
    if user.is_superuser:
        return Role.ADMIN
    return user.role


def is_national(user) -> bool:
    """Sees the whole country: analysts and administrators."""
    return role_of(user) in NATIONAL_ROLES


def is_police(user) -> bool:
    """A police or ministry account (inspector, chief, analyst, admin), as opposed to volunteers and leaders."""
    return role_of(user) in POLICE_ROLES


def active_group_ids(volunteer):
    """The ids of the groups a volunteer is a member of today (a subquery: wrap in `set()` to hold them)."""
    from .models import Membership

    return Membership.objects.filter(volunteer=volunteer, left_on=None).values_list("group_id", flat=True)


def may_act_for(user, volunteer, *, district_id: int) -> bool:
    """Whether `user` may change `volunteer`'s place on a shift of that district: the volunteer themselves, a
    leader for the members of the groups they lead, the district's keeper for anyone."""
    from .models import Membership

    if volunteer.user_id is not None and volunteer.user_id == user.pk:
        return True
    if manageable_districts(user).filter(pk=district_id).exists():
        return True
    leader = getattr(user, "volunteer", None)
    led = Membership.objects.filter(volunteer=volunteer, left_on=None, group__leader=leader)
    return leader is not None and led.exists()


def district_filter(user, prefix: str = "") -> Q | None:
    """A filter on district `prefix` limiting to the user's districts; None means the whole country.

    Only meaningful for area roles and national roles; others get a filter that matches nothing.
    """
    role = role_of(user)
    if role in NATIONAL_ROLES:
        return None
    if role == Role.CHIEF:
        return Q(**{f"{prefix}region_id": user.chief_region_id}) if user.chief_region_id else Q(pk__in=[])
    if role == Role.INSPECTOR:
        return Q(**{f"{prefix}inspectors": user})
    return Q(pk__in=[])


def districts_in_scope(user):
    """Districts whose groups, volunteers and figures the user may read."""
    from .models import District

    role = role_of(user)
    if role is None:
        return District.objects.none()
    if role in NATIONAL_ROLES:
        return District.objects.all()
    if role in AREA_ROLES:
        return District.objects.filter(district_filter(user)).distinct()
    volunteer = getattr(user, "volunteer", None)
    if volunteer is None:
        return District.objects.none()
    return District.objects.filter(
        Q(pk=volunteer.district_id) | Q(groups__memberships__volunteer=volunteer, groups__memberships__left_on=None)
    ).distinct()


def regions_in_scope(user):
    from .models import Region

    return Region.objects.filter(pk__in=districts_in_scope(user).values("region_id")).distinct()


def can_manage_people(user) -> bool:
    """Inspectors and admins keep groups and volunteers; chiefs and analysts only read."""
    return role_of(user) in {Role.INSPECTOR, Role.ADMIN}


def manageable_districts(user):
    """Districts where the user may create and change groups and volunteers."""
    from .models import District

    role = role_of(user)
    if role == Role.ADMIN:
        return District.objects.all()
    if role == Role.INSPECTOR:
        return District.objects.filter(inspectors=user)
    return District.objects.none()


def prevention_districts(user):
    """Districts where the user may log meetings, initiatives and crime counts: an inspector's, a chief's region's
    (chiefs hold meetings too), or all of them for admins."""
    from .models import District

    role = role_of(user)
    if role == Role.ADMIN:
        return District.objects.all()
    if role in AREA_ROLES:
        return districts_in_scope(user)
    return District.objects.none()


def sees_personal_data(user, volunteer, *, scoped: bool = False) -> bool:
    """IIN and phone: the volunteer themselves and inspectors/chiefs in scope; masked for everyone else.

    `scoped=True` says the volunteer came from `Volunteer.objects.visible_to(user)`, which saves a query per row.
    """
    if not _signed_in(user):
        return False
    if volunteer.user_id is not None and volunteer.user_id == user.pk:
        return True
    if role_of(user) not in AREA_ROLES:
        return False
    return scoped or type(volunteer).objects.visible_to(user).filter(pk=volunteer.pk).exists()


class GeoQuerySet(models.QuerySet):
    """Regions, districts and settlements: reference data for every signed-in user."""

    def visible_to(self, user: User):
        return self.all() if _signed_in(user) else self.none()


class ScopedQuerySet(models.QuerySet):
    """The one shape of scope for district-bound data.

    National roles see everything; inspectors and chiefs see their districts (`district_path`);
    volunteers and leaders see what `for_volunteer` allows; everyone else nothing. Writes follow
    `manageable_by`: the inspector's districts, or all of them for admins.
    """

    district_path = "district"

    def visible_to(self, user: User):
        role = role_of(user)
        if role is None:
            return self.none()
        if role in NATIONAL_ROLES:
            return self.all()
        if role in AREA_ROLES:
            return self.in_districts(districts_in_scope(user))
        volunteer = getattr(user, "volunteer", None)
        return self.none() if volunteer is None else self.for_volunteer(volunteer)

    def in_districts(self, districts):
        return self.filter(**{f"{self.district_path}__in": districts})

    def for_volunteer(self, volunteer):
        return self.none()

    def manageable_by(self, user: User):
        return self.in_districts(manageable_districts(user))


class GroupQuerySet(ScopedQuerySet):
    def for_volunteer(self, volunteer):
        member_here = Q(memberships__volunteer=volunteer, memberships__left_on=None)
        return self.filter(Q(leader=volunteer) | member_here).distinct()


class VolunteerQuerySet(ScopedQuerySet):
    def in_districts(self, districts):
        """A volunteer of the district, or a member (ever) of one of its groups."""
        from .models import Membership

        in_group_here = Membership.objects.filter(volunteer=OuterRef("pk"), group__district__in=districts)
        return self.filter(Q(district__in=districts) | Exists(in_group_here))

    def for_volunteer(self, volunteer):
        """Themselves, and for a leader the members of the groups they lead."""
        from .models import Membership

        in_led_group = Membership.objects.filter(volunteer=OuterRef("pk"), left_on=None, group__leader=volunteer)
        return self.filter(Q(pk=volunteer.pk) | Exists(in_led_group))


class RosterImportQuerySet(models.QuerySet):
    def visible_to(self, user: User):
        return self.filter(district__in=manageable_districts(user))


class ZoneQuerySet(ScopedQuerySet):
    """Volunteers see the zones of their own and their groups' districts."""

    def for_volunteer(self, volunteer):
        return self.in_districts(districts_in_scope(volunteer.user))


class ShiftSeriesQuerySet(ScopedQuerySet):
    """Series are the inspector's planning tool: police roles only."""


class ShiftQuerySet(ScopedQuerySet):
    """A volunteer sees shifts their groups are invited to, and their own."""

    def for_volunteer(self, volunteer):
        from .models import Assignment

        invited = self.model.groups.through.objects.filter(
            shift_id=OuterRef("pk"), group_id__in=active_group_ids(volunteer)
        )
        mine = Assignment.objects.filter(shift_id=OuterRef("pk"), volunteer=volunteer)
        return self.filter(Exists(invited) | Exists(mine))


def _shift_seen_by_volunteer(shift_id: int, volunteer_id: int):
    from .models import Shift

    return Shift.objects.for_volunteer(volunteer_id).filter(pk=shift_id)


# A volunteer's own moves on a shift look it up in scope on every tap: built once (patrols/prepared.py).
_shift_seen_by_volunteer_prepared = PreparedQuery(_shift_seen_by_volunteer, shift_id=int, volunteer_id=int)


def scoped_as_volunteer(user: User):
    """The volunteer profile whose rules (`for_volunteer`) scope what the user sees, or None (police, ministry,
    someone without a profile)."""
    role = role_of(user)
    if role is None or role in NATIONAL_ROLES or role in AREA_ROLES:
        return None
    return getattr(user, "volunteer", None)


def shift_in_scope(user: User, pk: int):
    """The shift `pk` as `Shift.objects.visible_to(user)` holds it, or None."""
    from .models import Shift

    volunteer = scoped_as_volunteer(user)
    if volunteer is not None:
        return _shift_seen_by_volunteer_prepared.first(shift_id=pk, volunteer_id=volunteer.pk)
    return Shift.objects.visible_to(user).filter(pk=pk).first()


class AssignmentQuerySet(ScopedQuerySet):
    """A volunteer sees their own sign-ups; a leader also those of their groups' members."""

    district_path = "shift__district"

    def for_volunteer(self, volunteer):
        from .models import Membership

        led = Membership.objects.filter(volunteer=OuterRef("volunteer"), left_on=None, group__leader=volunteer)
        return self.filter(Q(volunteer=volunteer) | Exists(led))


class NotificationQuerySet(models.QuerySet):
    def visible_to(self, user: User):
        return self.filter(user=user) if _signed_in(user) else self.none()


class ReportQuerySet(ScopedQuerySet):
    """A report belongs to the district of its point (where it counts) and, when it was filed on a shift, also to the
    shift's district: both inspectors see and verify it. A volunteer sees their own reports; a leader also their
    groups' members' reports."""

    def in_districts(self, districts):
        return self.filter(Q(district__in=districts) | Q(shift__district__in=districts))

    def for_volunteer(self, volunteer):
        from .models import Membership

        led = Membership.objects.filter(volunteer=OuterRef("reporter"), left_on=None, group__leader=volunteer)
        return self.filter(Q(reporter=volunteer) | Exists(led))

    def verifiable_by(self, user: User):
        """Reports the user may verify, reject or mark: the inspector's districts (and admins)."""
        return self.manageable_by(user)


def sees_third_party_details(user) -> bool:
    """Offenders' and victims' details in reports: inspectors and above only."""
    return is_police(user)


class BenchmarkQuerySet(models.QuerySet):
    """Targets: the national one for every signed-in user; a region's or district's within the user's scope."""

    def visible_to(self, user: User):
        if not _signed_in(user):
            return self.none()
        if is_national(user):
            return self
        districts = districts_in_scope(user)
        return self.filter(
            Q(level="national") | Q(region__in=districts.values("region_id")) | Q(district__in=districts.values("pk"))
        )


def sees_figures(user) -> bool:
    """Dashboards and exports of verified totals: inspectors, chiefs, analysts and admins."""
    return is_police(user)


def reads_access_log(user) -> bool:
    """The access log of personal data is for administrators only; for everyone else it does not exist (404)."""
    return role_of(user) == Role.ADMIN


class AccessLogQuerySet(models.QuerySet):
    def visible_to(self, user: User):
        return self.all() if reads_access_log(user) else self.none()


class ReportExportQuerySet(models.QuerySet):
    """An export of reports is its owner's alone (another user, an administrator too, gets 404): it holds what the
    owner's scope let them read when it was made."""

    def visible_to(self, user: User):
        return self.filter(owner=user) if _signed_in(user) else self.none()


class PreventionQuerySet(ScopedQuerySet):
    """Prevention work is kept by the police of the district: inspectors, the region's chief, admins."""

    def manageable_by(self, user: User):
        return self.in_districts(prevention_districts(user))


class MeetingQuerySet(PreventionQuerySet):
    """Volunteers see the meetings they took part in, or one of their groups did."""

    def for_volunteer(self, volunteer):
        from .models import MeetingAttendee

        attended = MeetingAttendee.objects.filter(meeting=OuterRef("pk"), volunteer=volunteer)
        return self.filter(Exists(attended) | Q(groups__in=active_group_ids(volunteer))).distinct()


class InitiativeQuerySet(PreventionQuerySet):
    """Volunteers see the initiatives of their groups' settlements."""

    def for_volunteer(self, volunteer):
        from .models import Group

        settlements = Group.objects.filter(pk__in=active_group_ids(volunteer)).values("settlement_id")
        return self.filter(settlement__in=settlements)


class SettlementCrimeCountQuerySet(PreventionQuerySet):
    """Registered crimes are police statistics: volunteers see none."""


class EscalationQuerySet(ScopedQuerySet):
    """A report sent to the duty unit is seen with its report: the report's districts, the reporter (and a leader,
    for their groups' members)."""

    def in_districts(self, districts):
        return self.filter(Q(report__district__in=districts) | Q(report__shift__district__in=districts))

    def for_volunteer(self, volunteer):
        from .models import Membership

        led = Membership.objects.filter(volunteer=OuterRef("report__reporter"), left_on=None, group__leader=volunteer)
        return self.filter(Q(report__reporter=volunteer) | Exists(led))


class CallOutQuerySet(ScopedQuerySet):
    """A call-out is the district's; a volunteer sees those asked of their groups, and those they answered."""

    def for_volunteer(self, volunteer):
        from .models import CallOutAnswer

        asked = self.model.groups.through.objects.filter(
            callout_id=OuterRef("pk"), group_id__in=active_group_ids(volunteer)
        )
        answered = CallOutAnswer.objects.filter(callout_id=OuterRef("pk"), volunteer=volunteer)
        return self.filter(Exists(asked) | Exists(answered))


class SosAlarmQuerySet(ScopedQuerySet):
    """Alarms: the district's police (inspectors, the region's chief), the volunteer who raised it, the leader of
    their group, and the volunteers on duty nearby who were called to help."""

    def for_volunteer(self, volunteer):
        called = self.model.nearby.through.objects.filter(sosalarm_id=OuterRef("pk"), user_id=volunteer.user_id)
        return self.filter(Q(volunteer=volunteer) | Q(group__leader=volunteer) | Exists(called))


class NominationQuerySet(ScopedQuerySet):
    """A district's nominations for rewards are police papers: its inspectors (who keep them), the region's chief
    (read only), analysts and admins. A volunteer sees the rewards granted to them on their profile, not these."""


class CertificateQuerySet(models.QuerySet):
    """A certificate of service is its holder's (a leader does not see their members') and the police's who may read
    the holder; the district's inspectors (and admins) issue and revoke them. Anyone may check one by its code, which
    shows only what the paper shows (services/certificates.py), not through these."""

    def visible_to(self, user: User):
        from .models import Volunteer

        if is_police(user):
            return self.filter(volunteer__in=Volunteer.objects.visible_to(user))
        return self.filter(volunteer__user=user) if _signed_in(user) else self.none()

    def manageable_by(self, user: User):
        from .models import Volunteer

        return self.filter(volunteer__in=Volunteer.objects.manageable_by(user))


def may_certify(user, volunteer) -> bool:
    """Whether `user` may have a certificate of `volunteer`'s service issued: the volunteer themselves, or the police
    who keep them (an inspector of their district, an admin)."""
    if not _signed_in(user):
        return False
    if volunteer.user_id is not None and volunteer.user_id == user.pk:
        return True
    return type(volunteer).objects.manageable_by(user).filter(pk=volunteer.pk).exists()


def sees_duty_board(user) -> bool:
    """The live board of who is on duty (/duty/): the police and ministry roles, and group leaders (their groups'
    people); for everyone else it does not exist (404)."""
    if is_police(user):
        return True
    volunteer = getattr(user, "volunteer", None) if _signed_in(user) else None
    return volunteer is not None and volunteer.led_groups.exists()
