"""The filters of lists, shared by the API and the pages: query parameters named as in the API (DESIGN.md)."""

import datetime

import django_filters
from django import forms
from django.db.models import Exists, Q
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext_lazy as _
from django_filters.rest_framework import BooleanFilter
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field

from .choices import GroupKind, ShiftStatus, VolunteerStatus, ZoneKind
from .models import District, Group, Notification, Settlement, Shift, ShiftSeries, Volunteer, Zone
from .scope import AREA_ROLES, is_police, role_of
from .selectors.schedule import open_for_sign_up, own_sign_ups
from .validators import FIRST_YEAR, LAST_YEAR


class DistrictFilter(django_filters.FilterSet):
    region = django_filters.CharFilter(field_name="region__code", label=_("region code"))

    class Meta:
        model = District
        fields = ["region"]


class SettlementFilter(django_filters.FilterSet):
    district = django_filters.CharFilter(field_name="district__code", label=_("district code"))

    class Meta:
        model = Settlement
        fields = ["district"]


class GroupFilter(django_filters.FilterSet):
    district = django_filters.CharFilter(field_name="district__code", label=_("district code"))
    region = django_filters.CharFilter(field_name="district__region__code", label=_("region code"))
    kind = django_filters.ChoiceFilter(choices=GroupKind.choices, label=_("kind"))
    is_active = BooleanFilter(label=_("active"))
    q = django_filters.CharFilter(field_name="name", lookup_expr="icontains", label=_("name contains"))

    class Meta:
        model = Group
        fields = ["district", "region", "kind", "is_active", "q"]


class VolunteerFilter(django_filters.FilterSet):
    district = django_filters.CharFilter(field_name="district__code", label=_("district code"))
    status = django_filters.ChoiceFilter(choices=VolunteerStatus.choices, label=_("status"))
    group = django_filters.NumberFilter(method="filter_group", label=_("group id"))
    q = django_filters.CharFilter(method="filter_q", label=_("name or IIN"))

    class Meta:
        model = Volunteer
        fields = ["district", "status", "group", "q"]

    def filter_group(self, queryset, name, value):
        return queryset.filter(memberships__group_id=value, memberships__left_on=None).distinct()

    def filter_q(self, queryset, name, value):
        value = value.strip()
        if value.isdigit():
            # Searching by IIN is for those who may see IINs; for others it would reveal masked digits.
            if role_of(self.request.user) not in AREA_ROLES:
                return queryset.none()
            return queryset.filter(iin__startswith=value)
        condition = Q()
        for word in value.split():
            condition &= Q(last_name__icontains=word) | Q(first_name__icontains=word) | Q(patronymic__icontains=word)
        return queryset.filter(condition)


class ZoneFilter(django_filters.FilterSet):
    district = django_filters.CharFilter(field_name="district__code", label=_("district code"))
    kind = django_filters.ChoiceFilter(choices=ZoneKind.choices, label=_("kind"))
    # Archived zones are left out of lists unless asked for (the view applies that default on lists only,
    # so an archived zone's own address keeps working).
    archived = BooleanFilter(field_name="is_archived", label=_("archived (default: false)"))

    class Meta:
        model = Zone
        fields = ["district", "kind", "archived"]


class MomentField(forms.Field):
    """A date (Almaty time) or an ISO 8601 date and time; a time without an offset is Almaty time."""

    default_error_messages = {"invalid": _("Enter a date (YYYY-MM-DD) or a date and time (ISO 8601).")}

    def to_python(self, value):
        if value in self.empty_values:
            return None
        value = str(value).strip()
        moment = self._parse(value)
        # Outside these years no data can be; beyond them a day's end would not even be a date (9999-12-31).
        if not FIRST_YEAR <= moment.year <= LAST_YEAR:
            raise forms.ValidationError(
                _("Give a date between the years %(first)d and %(last)d.") % {"first": FIRST_YEAR, "last": LAST_YEAR},
                code="out_of_range",
            )
        return moment

    def _parse(self, value: str):
        try:
            # A date first: Python reads a bare date as a datetime at midnight too, which would lose "the whole day".
            day = parse_date(value)
            moment = None if day else parse_datetime(value)
        except ValueError:
            day = moment = None
        if day is not None:
            return day
        if moment is not None:
            return timezone.make_aware(moment) if timezone.is_naive(moment) else moment
        raise forms.ValidationError(self.error_messages["invalid"], code="invalid")


def _start_of(day: datetime.date) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))


def _moment(value: datetime.date | datetime.datetime, edge: str) -> datetime.datetime:
    """A moment as given; a date as the start of that day (`from`) or the start of the next one (`to`)."""
    if isinstance(value, datetime.datetime):
        return value
    return _start_of(value if edge == "from" else value + datetime.timedelta(days=1))


def window_start(value: str) -> datetime.datetime | None:
    """The moment the filter `from` of a shift list reads in `value`, or None where the filter would refuse it."""
    try:
        return _moment(MomentField().clean(value), "from")
    except forms.ValidationError:
        return None


class _WindowEdge:
    """One edge of a time window: `edge` is "from" or "to", the value a moment or a date (MomentField)."""

    field_class = MomentField

    def __init__(self, *args, edge: str, **kwargs):
        self.edge = edge
        super().__init__(*args, **kwargs)


@extend_schema_field(OpenApiTypes.STR)
class MomentBoundFilter(_WindowEdge, django_filters.Filter):
    """`edge="from"` keeps rows whose `field_name` is at or after a moment, `edge="to"` at or before it.

    A date as `to` means the whole of that day (Almaty time).
    """

    def filter(self, qs, value):
        if value is None:
            return qs
        if self.edge == "from":
            lookup = "gte"
        else:
            # A moment is kept itself; a date's end is the next day's start, which is not.
            lookup = "lte" if isinstance(value, datetime.datetime) else "lt"
        return qs.filter(**{f"{self.field_name}__{lookup}": _moment(value, self.edge)})


class MomentFilter(_WindowEdge, django_filters.CharFilter):
    """Shifts overlapping a window: `from` keeps those ending after it, `to` those starting before it.

    A date as `to` means the whole of that day. (A CharFilter so the schema shows it as a string with its label.)
    """

    def filter(self, qs, value):
        if value is None:
            return qs
        if self.edge == "from":
            return qs.filter(ends_at__gt=_moment(value, "from"))
        return qs.filter(starts_at__lt=_moment(value, "to"))


class ShiftFilter(django_filters.FilterSet):
    district = django_filters.CharFilter(field_name="district__code", label=_("district code"))
    zone = django_filters.NumberFilter(field_name="zone_id", label=_("zone id"))
    window_from = MomentFilter(edge="from", label=_("from: shifts ending after this date or time"))
    window_to = MomentFilter(edge="to", label=_("to: shifts starting before this date or time (a date: its end)"))
    status = django_filters.ChoiceFilter(choices=ShiftStatus.choices, label=_("status"))
    # The API's BooleanFilter (django_filters.rest_framework) takes `1`/`0` too; the base one ignored `?open=1`.
    mine = BooleanFilter(method="filter_mine", label=_("shifts I am on (not cancelled)"))
    open = BooleanFilter(method="filter_open", label=_("open for sign-up: scheduled, not started, my groups invited"))

    class Meta:
        model = Shift
        fields = ["district", "zone", "status", "mine", "open"]

    def filter_mine(self, queryset, name, value):
        mine = Exists(own_sign_ups(self.request.user.pk))
        return queryset.filter(mine if value else ~mine)

    def filter_open(self, queryset, name, value):
        user = self.request.user
        volunteer = getattr(user, "volunteer", None)
        own_groups = volunteer.pk if volunteer is not None and not is_police(user) else None
        condition = open_for_sign_up(timezone.now(), own_groups)
        return queryset.filter(condition if value else ~condition)


# `from` and `to` are Python keywords, so the filters are declared under other names and renamed here.
ShiftFilter.base_filters["from"] = ShiftFilter.base_filters.pop("window_from")
ShiftFilter.base_filters["to"] = ShiftFilter.base_filters.pop("window_to")


class ShiftSeriesFilter(django_filters.FilterSet):
    district = django_filters.CharFilter(field_name="district__code", label=_("district code"))
    zone = django_filters.NumberFilter(field_name="zone_id", label=_("zone id"))
    is_active = BooleanFilter(label=_("active"))

    class Meta:
        model = ShiftSeries
        fields = ["district", "zone", "is_active"]


class NotificationFilter(django_filters.FilterSet):
    unread = BooleanFilter(field_name="read_at", lookup_expr="isnull", label=_("unread only"))

    class Meta:
        model = Notification
        fields = ["unread"]
