"""Call-outs through the API: the inspector asks for N people; volunteers of the chosen groups accept.

Querysets come from `scope` (out of scope is 404); writes go to `services.callouts`.
"""

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.response import Response

from ..choices import CallOutResult
from ..models import CallOut, Group, Zone
from ..scope import is_police, manageable_districts
from ..services import callouts
from ..services.geometry import point_from
from .throttles import SignupThrottle


class CallOutAnswerSerializer(serializers.Serializer):
    volunteer = serializers.CharField(help_text=gettext_lazy("The volunteer's name."))
    accepted_at = serializers.DateTimeField()
    result = serializers.ChoiceField(choices=CallOutResult.choices)
    assignment_status = serializers.CharField(help_text=gettext_lazy("Their place on the shift now."))


class CallOutSerializer(serializers.ModelSerializer):
    lat = serializers.SerializerMethodField()
    lng = serializers.SerializerMethodField()
    status_label = serializers.CharField(source="get_status_display", read_only=True)
    assigned = serializers.SerializerMethodField()
    waitlisted = serializers.SerializerMethodField()

    class Meta:
        model = CallOut
        fields = [
            "id",
            "district",
            "zone",
            "lat",
            "lng",
            "place",
            "starts_at",
            "ends_at",
            "needed",
            "groups",
            "shift",
            "status",
            "status_label",
            "assigned",
            "waitlisted",
            "created_at",
        ]

    def get_lat(self, obj) -> float | None:
        return round(obj.point.y, 6) if obj.point else None

    def get_lng(self, obj) -> float | None:
        return round(obj.point.x, 6) if obj.point else None

    def get_assigned(self, obj) -> int:
        return sum(1 for a in obj.answers.all() if a.result == CallOutResult.ASSIGNED)

    def get_waitlisted(self, obj) -> int:
        return sum(1 for a in obj.answers.all() if a.result == CallOutResult.WAITLISTED)


class CallOutDetailSerializer(CallOutSerializer):
    """A call-out with the answers as they arrived (for the police; volunteers see the counts)."""

    answers = serializers.SerializerMethodField()

    class Meta(CallOutSerializer.Meta):
        fields = [*CallOutSerializer.Meta.fields, "answers"]

    @extend_schema_field(CallOutAnswerSerializer(many=True))
    def get_answers(self, obj):
        request = self.context.get("request")
        # Other volunteers' names are for the police: a volunteer sees the counts only.
        if request is None or not is_police(request.user):
            return []
        return CallOutAnswerSerializer(callouts.callout_answers(obj), many=True).data


class CallOutInputSerializer(serializers.Serializer):
    zone = serializers.PrimaryKeyRelatedField(queryset=Zone.objects.none(), required=False, allow_null=True)
    lat = serializers.FloatField(required=False, allow_null=True)
    lng = serializers.FloatField(required=False, allow_null=True)
    place = serializers.CharField(allow_blank=True, max_length=200, required=False, default="")
    starts_at = serializers.DateTimeField()
    hours = serializers.FloatField(required=False, allow_null=True, min_value=0.25, max_value=12)
    ends_at = serializers.DateTimeField(required=False, allow_null=True)
    needed = serializers.IntegerField(min_value=1, max_value=callouts.MAX_NEEDED)
    groups = serializers.PrimaryKeyRelatedField(many=True, queryset=Group.objects.none(), allow_empty=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        user = request.user if request else None
        self.fields["zone"].queryset = Zone.objects.manageable_by(user).filter(is_archived=False)
        self.fields["groups"].child_relation.queryset = Group.objects.manageable_by(user)


class CallOutViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Call-outs in scope: the inspector's district's, or a volunteer's groups'."""

    serializer_class = CallOutSerializer

    def get_queryset(self):
        return (
            CallOut.objects.visible_to(self.request.user)
            .select_related("zone")
            .prefetch_related("groups", "answers")
            .order_by("-starts_at", "-pk")
        )

    def get_serializer_class(self):
        return CallOutSerializer if self.action == "list" else CallOutDetailSerializer

    def _output(self, callout, code=status.HTTP_200_OK):
        fresh = self.get_queryset().get(pk=callout.pk)
        return Response(CallOutDetailSerializer(fresh, context=self.get_serializer_context()).data, status=code)

    @extend_schema(request=CallOutInputSerializer, responses={201: CallOutDetailSerializer})
    def create(self, request, *args, **kwargs):
        """Ask for people: a zone, or lat/lng with the place's name; the start; hours or an end; how many; groups."""
        if not manageable_districts(request.user).exists():
            raise PermissionDenied(_("Only the district's inspector calls people out."))
        data = CallOutInputSerializer(data=request.data, context=self.get_serializer_context())
        data.is_valid(raise_exception=True)
        data = data.validated_data
        point = None
        if data.get("zone") is None and data.get("lat") is not None and data.get("lng") is not None:
            point = point_from(data["lat"], data["lng"])
        callout = callouts.callout_create(
            by=request.user,
            zone=data.get("zone"),
            point=point,
            place=data["place"],
            starts_at=data["starts_at"],
            ends_at=data.get("ends_at"),
            hours=data.get("hours"),
            needed=data["needed"],
            groups=data["groups"],
        )
        return self._output(callout, status.HTTP_201_CREATED)

    @extend_schema(request=None, responses={201: CallOutAnswerSerializer, 200: CallOutAnswerSerializer})
    @action(detail=True, methods=["post"], throttle_classes=[SignupThrottle])
    def accept(self, request, pk=None):
        """ "I'm coming": a seat on the call-out's shift while there is one, else its waiting list. 201 when new;
        200 with the first answer when accepted again."""
        callout = self.get_object()
        volunteer = getattr(request.user, "volunteer", None)
        if volunteer is None:
            raise PermissionDenied(_("Only volunteers answer a call-out."))
        answer, created = callouts.callout_accept(callout=callout, volunteer=volunteer, by=request.user)
        body = {
            "volunteer": volunteer.full_name,
            "accepted_at": answer.accepted_at,
            "result": answer.result,
            "assignment_status": answer.assignment.status if answer.assignment else "",
        }
        return Response(
            CallOutAnswerSerializer(body).data, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK
        )
