"""SOS through the API: raising one from the phone (never throttled), the alarms in scope with their tiers and
history, the answers (acknowledge, on my way, resolve, the volunteer's false alarm), and "I'm OK".

Querysets come from `scope`, writes go to `services.sos`; serializers only shape and parse.
"""

import django_filters
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.generics import get_object_or_404
from rest_framework.response import Response
from rest_framework.views import APIView

from ..choices import SosStatus
from ..models import Assignment, Shift, SosAlarm, SosDispatch, SosEvent
from ..services import sos
from .views import ScopedReadMixin


class SosInputSerializer(serializers.Serializer):
    lat = serializers.FloatField(help_text=gettext_lazy("Latitude from the phone, WGS84."))
    lng = serializers.FloatField(help_text=gettext_lazy("Longitude from the phone, WGS84."))
    accuracy = serializers.FloatField(
        required=False,
        allow_null=True,
        min_value=0,
        max_value=1_000_000,
        help_text=gettext_lazy("The phone's accuracy in metres."),
    )
    shift = serializers.PrimaryKeyRelatedField(
        queryset=Shift.objects.none(),
        required=False,
        allow_null=True,
        help_text=gettext_lazy("The shift the volunteer is on; by default their current check-in."),
    )
    client_uuid = serializers.UUIDField(
        required=False,
        allow_null=True,
        help_text=gettext_lazy("The phone's own id of this alarm: sending it again gives the same alarm."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        if request is not None:
            self.fields["shift"].queryset = Shift.objects.visible_to(request.user)


class SosNoteSerializer(serializers.Serializer):
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=sos.NOTE_LIMIT)


class SosEventSerializer(serializers.ModelSerializer):
    by = serializers.SerializerMethodField()
    unit = serializers.CharField(source="unit.name", read_only=True, default=None, allow_null=True)

    class Meta:
        model = SosEvent
        fields = ["kind", "tier", "by", "unit", "note", "details", "at"]

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_by(self, event) -> str | None:
        return (event.by.get_full_name() or event.by.username) if event.by_id else None


class SosDispatchSerializer(serializers.ModelSerializer):
    unit = serializers.CharField(source="unit.name", read_only=True)

    class Meta:
        model = SosDispatch
        fields = ["tier", "unit", "channel", "status", "attempts", "sent_at"]


class SosAlarmSerializer(serializers.ModelSerializer):
    lat = serializers.SerializerMethodField()
    lng = serializers.SerializerMethodField()
    volunteer = serializers.CharField(source="volunteer.full_name", read_only=True)
    district = serializers.CharField(source="district.code", read_only=True)
    acknowledged_by = serializers.SerializerMethodField()

    class Meta:
        model = SosAlarm
        fields = [
            "id",
            "kind",
            "status",
            "tier",
            "volunteer",
            "district",
            "shift",
            "group",
            "lat",
            "lng",
            "accuracy_m",
            "created_at",
            "next_escalation_at",
            "acknowledged_by",
            "acknowledged_at",
            "closed_at",
            "note",
        ]

    @extend_schema_field(serializers.FloatField(allow_null=True))
    def get_lat(self, alarm) -> float | None:
        return alarm.point.y if alarm.point else None

    @extend_schema_field(serializers.FloatField(allow_null=True))
    def get_lng(self, alarm) -> float | None:
        return alarm.point.x if alarm.point else None

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_acknowledged_by(self, alarm) -> str | None:
        if alarm.acknowledged_unit_id:
            return alarm.acknowledged_unit.name
        if alarm.acknowledged_by_id:
            return alarm.acknowledged_by.get_full_name() or alarm.acknowledged_by.username
        return None


class SosAlarmDetailSerializer(SosAlarmSerializer):
    tiers = serializers.SerializerMethodField()
    history = SosEventSerializer(source="events", many=True, read_only=True)
    dispatches = SosDispatchSerializer(many=True, read_only=True)

    class Meta(SosAlarmSerializer.Meta):
        fields = [*SosAlarmSerializer.Meta.fields, "tiers", "history", "dispatches"]

    @extend_schema_field(
        serializers.ListField(child=serializers.DictField(), help_text=gettext_lazy("Who each tier reached, when."))
    )
    def get_tiers(self, alarm) -> list[dict]:
        return [
            {
                "tier": event.tier,
                "at": event.at,
                "people": event.details.get("people", []),
                "nearby": event.details.get("nearby", 0),
                "unit": event.unit.name if event.unit_id else None,
            }
            for event in alarm.events.all()
            if event.kind == "tier_notified"
        ]


class SosFilter(django_filters.FilterSet):
    status = django_filters.MultipleChoiceFilter(choices=SosStatus.choices)

    class Meta:
        model = SosAlarm
        fields = ["status", "kind"]


class SosViewSet(ScopedReadMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Alarms in scope: the district's police, the volunteer's own, their group leader's, those one was called to."""

    model = SosAlarm
    # Each answer checks its own rule (services.sos.may_respond, may_go, the volunteer's own cancel).
    reader_actions = frozenset({"acknowledge", "on_my_way", "resolve", "cancel"})
    serializer_class = SosAlarmSerializer
    filterset_class = SosFilter
    # A volunteer in danger is never told to wait.
    throttle_classes: list = []

    def get_queryset(self):
        alarms = self.base_queryset().select_related("volunteer", "district", "acknowledged_by", "acknowledged_unit")
        if self.action != "list":
            alarms = alarms.select_related("group__leader", "shift__inspector").prefetch_related(
                "events__by", "events__unit", "dispatches__unit"
            )
        return alarms

    def get_serializer_class(self):
        return SosAlarmSerializer if self.action == "list" else SosAlarmDetailSerializer

    def _output(self, alarm, code=status.HTTP_200_OK) -> Response:
        fresh = self.get_queryset().get(pk=alarm.pk)
        return Response(SosAlarmDetailSerializer(fresh, context=self.get_serializer_context()).data, status=code)

    @extend_schema(
        request=SosInputSerializer,
        responses={201: SosAlarmDetailSerializer, 200: SosAlarmDetailSerializer},
        description=gettext_lazy(
            "Raise an SOS: 201 with the new alarm; 200 with the alarm already raised (the same `client_uuid`, or "
            "an SOS of yours still open). Never throttled."
        ),
    )
    def create(self, request, *args, **kwargs):
        if getattr(request.user, "volunteer", None) is None:
            raise PermissionDenied(_("Only a volunteer's account raises an SOS. In danger, call 102."))
        data = SosInputSerializer(data=request.data, context={"request": request})
        data.is_valid(raise_exception=True)
        values = data.validated_data
        alarm, created = sos.sos_raise(
            by=request.user,
            lat=values["lat"],
            lng=values["lng"],
            accuracy_m=values.get("accuracy"),
            shift=values.get("shift"),
            client_uuid=values.get("client_uuid"),
        )
        return self._output(alarm, status.HTTP_201_CREATED if created else status.HTTP_200_OK)

    def _responder_or_deny(self, alarm, rule) -> None:
        if not rule(self.request.user, alarm):
            raise PermissionDenied(_("Only the district's police and the group leader answer this alarm."))

    @extend_schema(request=None, responses=SosAlarmDetailSerializer)
    @action(detail=True, methods=["post"])
    def acknowledge(self, request, pk=None):
        """I have it: the escalation to the duty units stops."""
        alarm = self.get_object()
        self._responder_or_deny(alarm, sos.may_respond)
        return self._output(sos.sos_acknowledge(alarm=alarm, by=request.user))

    @extend_schema(request=None, responses=SosAlarmDetailSerializer)
    @action(detail=True, methods=["post"], url_path="on-my-way")
    def on_my_way(self, request, pk=None):
        """I am going there (kept in the history, told to the volunteer)."""
        alarm = self.get_object()
        self._responder_or_deny(alarm, sos.may_go)
        return self._output(sos.sos_on_my_way(alarm=alarm, by=request.user))

    @extend_schema(request=SosNoteSerializer, responses=SosAlarmDetailSerializer)
    @action(detail=True, methods=["post"])
    def resolve(self, request, pk=None):
        """The volunteer is safe: close the alarm with a `note` of how it ended."""
        alarm = self.get_object()
        self._responder_or_deny(alarm, sos.may_respond)
        data = SosNoteSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        return self._output(sos.sos_resolve(alarm=alarm, by=request.user, note=data.validated_data["note"]))

    @extend_schema(request=SosNoteSerializer, responses=SosAlarmDetailSerializer)
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        """False alarm: the volunteer calls off their own alarm."""
        alarm = self.get_object()
        if alarm.user_id != request.user.pk:
            raise PermissionDenied(_("Only the volunteer who raised the alarm can call it a false alarm."))
        data = SosNoteSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        return self._output(sos.sos_cancel(alarm=alarm, by=request.user, note=data.validated_data["note"]))


class OkResponseSerializer(serializers.Serializer):
    assignment = serializers.IntegerField()
    ok_at = serializers.DateTimeField()
    next_due_at = serializers.DateTimeField(allow_null=True)


class AssignmentOkView(APIView):
    """The checked-in volunteer says "I'm OK" (they are safe); the next check-in counts from now."""

    throttle_classes: list = []

    @extend_schema(request=None, responses=OkResponseSerializer)
    def post(self, request, pk: int):
        assignment = get_object_or_404(
            Assignment.objects.visible_to(request.user).select_related("shift", "volunteer"), pk=pk
        )
        if assignment.volunteer.user_id != request.user.pk:
            raise PermissionDenied(_("Only the volunteer says they are OK, from their own phone."))
        done = sos.ok_check_in(assignment=assignment, by=request.user)
        return Response(
            {"assignment": done.pk, "ok_at": done.ok_at, "next_due_at": sos.ok_next_due(done)},
            status=status.HTTP_200_OK,
        )
