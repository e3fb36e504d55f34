"""The access log of personal data through the API: administrators only; for everyone else it does not exist (404)."""

import datetime

import django_filters
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import mixins, serializers, viewsets
from rest_framework.exceptions import NotFound

from ..choices import AccessChannel, AccessKind
from ..models import AccessLogEntry
from ..scope import reads_access_log
from .filters import MomentField


class AccessLogEntrySerializer(serializers.ModelSerializer):
    user = serializers.CharField(source="username", read_only=True, help_text=_("The reader's username."))
    user_id = serializers.IntegerField(read_only=True, allow_null=True)

    class Meta:
        model = AccessLogEntry
        fields = ["id", "at", "user", "user_id", "kind", "object_id", "how", "path", "ip"]
        read_only_fields = fields


def _start_of(day: datetime.date) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))


@extend_schema_field(OpenApiTypes.STR)
class AtFilter(django_filters.Filter):
    """`from` keeps entries at or after a moment, `to` at or before it; a date as `to` means the whole day (Almaty)."""

    field_class = MomentField

    def __init__(self, *args, edge: str, **kwargs):
        self.edge = edge
        super().__init__(*args, **kwargs)

    def filter(self, qs, value):
        if value is None:
            return qs
        if self.edge == "from":
            return qs.filter(at__gte=value if isinstance(value, datetime.datetime) else _start_of(value))
        if isinstance(value, datetime.datetime):
            return qs.filter(at__lte=value)
        return qs.filter(at__lt=_start_of(value + datetime.timedelta(days=1)))


class AccessLogFilter(django_filters.FilterSet):
    user = django_filters.CharFilter(field_name="username", label=_("the reader's username"))
    kind = django_filters.ChoiceFilter(choices=AccessKind.choices, label=_("what was read"))
    how = django_filters.ChoiceFilter(choices=AccessChannel.choices, label=_("how it was read"))
    object_id = django_filters.NumberFilter(label=_("the volunteer's or report's id"))
    at_from = AtFilter(edge="from", label=_("from: at or after this date or time"))
    at_to = AtFilter(edge="to", label=_("to: at or before this date or time (a date: its end)"))

    class Meta:
        model = AccessLogEntry
        fields = ["user", "kind", "how", "object_id"]


# `from` and `to` are Python keywords, so the filters are declared under other names and renamed here.
AccessLogFilter.base_filters["from"] = AccessLogFilter.base_filters.pop("at_from")
AccessLogFilter.base_filters["to"] = AccessLogFilter.base_filters.pop("at_to")


class AccessLogViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """Who was shown a volunteer's IIN or a report's details of other people, when and how (newest first)."""

    serializer_class = AccessLogEntrySerializer
    filterset_class = AccessLogFilter

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        if not reads_access_log(request.user):
            raise NotFound

    def get_queryset(self):
        return AccessLogEntry.objects.visible_to(self.request.user)
