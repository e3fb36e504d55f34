"""Roster figures for the home pages of inspectors, chiefs and analysts, cut to the viewer's scope."""

from dataclasses import dataclass

from django.db.models import Count, Q

from ..choices import VolunteerStatus
from ..models import District, Group, Region, User, Volunteer
from ..scope import NATIONAL_ROLES, districts_in_scope, role_of

_WAITING = (VolunteerStatus.APPLICANT, VolunteerStatus.VETTED)


@dataclass
class AreaRow:
    code: str
    name: str
    groups: int = 0
    volunteers: int = 0
    registered: int = 0
    waiting: int = 0


def _volunteer_counts(queryset, key: str) -> dict[str, dict]:
    rows = queryset.values(key).annotate(
        volunteers=Count("id"),
        registered=Count("id", filter=Q(status=VolunteerStatus.REGISTERED)),
        waiting=Count("id", filter=Q(status__in=_WAITING)),
    )
    return {row[key]: row for row in rows}


def areas_for(user: User) -> list[AreaRow]:
    """One row per region for national roles, one per district otherwise (only places in scope)."""
    national = role_of(user) in NATIONAL_ROLES
    key = "district__region__code" if national else "district__code"
    places = Region.objects.all() if national else District.objects.filter(pk__in=districts_in_scope(user))
    volunteers = _volunteer_counts(Volunteer.objects.visible_to(user), key)
    groups = dict(Group.objects.visible_to(user).values(key).annotate(n=Count("id")).values_list(key, "n"))
    result = []
    for place in places.order_by("code"):
        counts = volunteers.get(place.code, {})
        result.append(
            AreaRow(
                code=place.code,
                name=place.name,
                groups=groups.get(place.code, 0),
                volunteers=counts.get("volunteers", 0),
                registered=counts.get("registered", 0),
                waiting=counts.get("waiting", 0),
            )
        )
    return result


def totals_for(user: User) -> AreaRow:
    rows = areas_for(user)
    return AreaRow(
        code="",
        name="",
        groups=sum(r.groups for r in rows),
        volunteers=sum(r.volunteers for r in rows),
        registered=sum(r.registered for r in rows),
        waiting=sum(r.waiting for r in rows),
    )
