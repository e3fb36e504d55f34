"""The access log of personal data through the API: administrators only; for everyone else it does not exist (404)."""

import django_filters
from django.utils.translation import gettext_lazy as _
from rest_framework import mixins, serializers, viewsets
from rest_framework.exceptions import NotFound

from ..choices import AccessChannel, AccessKind
from ..filters import MomentBoundFilter
from ..models import AccessLogEntry
from ..scope import reads_access_log


class AccessLogEntrySerializer(serializers.ModelSerializer):
    user = serializers.CharField(source="username", read_only=True, help_text=_("The reader's username."))
    user_id = serializers.IntegerField(read_only=True, allow_null=True)

    class Meta:
        model = AccessLogEntry
        fields = ["id", "at", "user", "user_id", "kind", "object_id", "how", "path", "ip"]
        read_only_fields = fields


class AccessLogFilter(django_filters.FilterSet):
    user = django_filters.CharFilter(field_name="username", label=_("the reader's username"))
    kind = django_filters.ChoiceFilter(choices=AccessKind.choices, label=_("what was read"))
    how = django_filters.ChoiceFilter(choices=AccessChannel.choices, label=_("how it was read"))
    object_id = django_filters.NumberFilter(label=_("the volunteer's or report's id"))
    at_from = MomentBoundFilter(field_name="at", edge="from", label=_("from: at or after this date or time"))
    at_to = MomentBoundFilter(
        field_name="at", edge="to", label=_("to: at or before this date or time (a date: its end)")
    )

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
