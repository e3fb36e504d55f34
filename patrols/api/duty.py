"""On duty through the API: the volunteer's consent to share their position, the positions their phone sends, and
the live board of who is on duty now. The rules are in `services.duty`, the board in `selectors.duty`."""

from django.http import Http404
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import PermissionDenied
from rest_framework.response import Response
from rest_framework.views import APIView

from ..models import Assignment
from ..scope import sees_duty_board
from ..selectors.duty import duty_board
from ..services import duty
from .schema import ErrorSerializer


class ConsentSerializer(serializers.Serializer):
    sharing = serializers.BooleanField(help_text=_("Whether the position is shared while on duty."))
    given_at = serializers.DateTimeField(allow_null=True)
    withdrawn_at = serializers.DateTimeField(allow_null=True)
    text_version = serializers.CharField(allow_blank=True)


def _consent_payload(consent) -> dict:
    return {
        "sharing": consent is not None and consent.withdrawn_at is None,
        "given_at": consent.given_at if consent else None,
        "withdrawn_at": consent.withdrawn_at if consent else None,
        "text_version": consent.text_version if consent else "",
    }


def _own_volunteer(request):
    volunteer = getattr(request.user, "volunteer", None)
    if volunteer is None:
        raise PermissionDenied(_("Only volunteers share their position on duty."))
    return volunteer


class DutyConsentView(APIView):
    """Your consent to share your position between check-in and check-out: GET it, POST to agree, DELETE to stop."""

    @extend_schema(responses=ConsentSerializer)
    def get(self, request):
        volunteer = _own_volunteer(request)
        return Response(ConsentSerializer(_consent_payload(duty.consent_record(volunteer))).data)

    @extend_schema(request=None, responses=ConsentSerializer)
    def post(self, request):
        consent = duty.duty_consent_give(volunteer=_own_volunteer(request), by=request.user)
        return Response(ConsentSerializer(_consent_payload(consent)).data)

    @extend_schema(request=None, responses={200: ConsentSerializer})
    def delete(self, request):
        consent = duty.duty_consent_withdraw(volunteer=_own_volunteer(request), by=request.user)
        return Response(ConsentSerializer(_consent_payload(consent)).data)


class FixSerializer(serializers.Serializer):
    lat = serializers.FloatField(min_value=-90, max_value=90, help_text=_("Latitude from the phone, WGS84."))
    lng = serializers.FloatField(min_value=-180, max_value=180, help_text=_("Longitude from the phone, WGS84."))
    accuracy = serializers.FloatField(
        required=False,
        allow_null=True,
        min_value=0,
        max_value=1_000_000,
        help_text=_("The phone's accuracy in metres (GeolocationCoordinates.accuracy)."),
    )
    recorded_at = serializers.DateTimeField(help_text=_("When the phone took the position (its own clock)."))
    client_uuid = serializers.UUIDField(help_text=_("The phone's id of this position: sent again, it is kept once."))


class FixBatchSerializer(serializers.ListSerializer):
    child = FixSerializer()


class RecordedSerializer(serializers.Serializer):
    stored = serializers.IntegerField(help_text=_("Positions kept now."))
    duplicates = serializers.IntegerField(help_text=_("Positions already kept from an earlier send."))


class TrackPointSerializer(serializers.Serializer):
    lat = serializers.FloatField()
    lng = serializers.FloatField()
    accuracy = serializers.IntegerField(allow_null=True)
    recorded_at = serializers.DateTimeField()


class AssignmentPositionsView(APIView):
    """POST: positions from the volunteer's own phone while checked in on this assignment, a batch in the order they
    were taken (buffered offline, sent later; each `client_uuid` is kept once). GET: the track, in the order the
    positions were taken, for those who see the assignment."""

    @extend_schema(request=FixSerializer(many=True), responses={200: RecordedSerializer})
    def post(self, request, pk: int):
        assignment = duty.own_assignment(user=request.user, assignment_id=pk)
        if assignment is None:
            raise Http404
        batch = FixBatchSerializer(data=request.data, min_length=1, max_length=duty.MAX_BATCH)
        batch.is_valid(raise_exception=True)
        fixes = [
            duty.fix_from(
                lat=item["lat"],
                lng=item["lng"],
                accuracy=item.get("accuracy"),
                recorded_at=item["recorded_at"],
                client_uuid=item["client_uuid"],
            )
            for item in batch.validated_data
        ]
        result = duty.positions_record(assignment=assignment, by=request.user, fixes=fixes)
        return Response(RecordedSerializer(result).data, status=status.HTTP_200_OK)

    @extend_schema(responses=TrackPointSerializer(many=True))
    def get(self, request, pk: int):
        assignment = Assignment.objects.visible_to(request.user).filter(pk=pk).first()
        if assignment is None:
            raise Http404
        track = assignment.positions.order_by("recorded_at", "id").values_list("point", "accuracy_m", "recorded_at")
        return Response(
            TrackPointSerializer(
                [
                    {"lat": round(p.y, 6), "lng": round(p.x, 6), "accuracy": acc, "recorded_at": at}
                    for p, acc, at in track
                ],
                many=True,
            ).data
        )


class BoardAlarmSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.CharField()
    status = serializers.CharField()
    status_label = serializers.CharField()
    volunteer = serializers.CharField()
    shift = serializers.IntegerField(allow_null=True)
    zone = serializers.CharField(allow_blank=True)
    lat = serializers.FloatField(allow_null=True)
    lng = serializers.FloatField(allow_null=True)
    created_at = serializers.DateTimeField()


class OnDutySerializer(serializers.Serializer):
    assignment = serializers.IntegerField()
    volunteer = serializers.CharField()
    shift = serializers.IntegerField()
    zone = serializers.CharField()
    shift_starts_at = serializers.DateTimeField()
    shift_ends_at = serializers.DateTimeField()
    groups = serializers.ListField(child=serializers.CharField())
    since = serializers.DateTimeField(help_text=_("Checked in at."))
    last_seen = serializers.DateTimeField(allow_null=True, help_text=_("When the last position was taken."))
    stale = serializers.BooleanField(help_text=_("Nothing heard from the phone for longer than DUTY_STALE_SECONDS."))
    lat = serializers.FloatField(allow_null=True)
    lng = serializers.FloatField(allow_null=True)
    accuracy = serializers.IntegerField(allow_null=True)


class StartedEmptySerializer(serializers.Serializer):
    shift = serializers.IntegerField()
    zone = serializers.CharField()
    starts_at = serializers.DateTimeField()
    ends_at = serializers.DateTimeField()
    min_volunteers = serializers.IntegerField()
    signed_up = serializers.IntegerField()


class BoardCallOutSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    place = serializers.CharField()
    starts_at = serializers.DateTimeField()
    ends_at = serializers.DateTimeField()
    needed = serializers.IntegerField()
    assigned = serializers.IntegerField(help_text=_("Who accepted and got a seat so far."))
    waitlisted = serializers.IntegerField()


class DutyBoardSerializer(serializers.Serializer):
    now = serializers.DateTimeField()
    stale_after_seconds = serializers.IntegerField()
    alarms = BoardAlarmSerializer(many=True, help_text=_("Open SOS alarms, newest first."))
    on_duty = OnDutySerializer(many=True)
    started_empty = StartedEmptySerializer(many=True, help_text=_("Shifts under way with nobody checked in."))
    callouts = BoardCallOutSerializer(many=True, help_text=_("Call-outs not yet over, soonest first."))


def board_or_404(user) -> dict:
    """The board for those who have one; for everyone else it does not exist."""
    if not sees_duty_board(user):
        raise Http404
    return DutyBoardSerializer(duty_board(user)).data


class DutyNowView(APIView):
    """Who is on duty now in your scope: where, since when, last seen (stale after DUTY_STALE_SECONDS), shift and
    group; the shifts under way with nobody checked in; open SOS alarms first. For inspectors, chiefs, analysts and
    group leaders (their groups' people)."""

    @extend_schema(responses={200: DutyBoardSerializer, 404: ErrorSerializer})
    def get(self, request):
        return Response(board_or_404(request.user))
