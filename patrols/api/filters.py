"""List filters of the API (and the web lists), by code where the contract uses codes."""

import django_filters
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from ..choices import GroupKind, VolunteerStatus
from ..models import District, Group, Settlement, Volunteer
from ..scope import AREA_ROLES, role_of


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
    is_active = django_filters.BooleanFilter(label=_("active"))
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
