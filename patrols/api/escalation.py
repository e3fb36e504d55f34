"""Reports sent to the police duty unit: the escalation as the reporter and the inspector read it, and the
integration endpoint the unit's own system answers on (signed with the unit's key instead of a sign-in)."""

import json

from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound, PermissionDenied, ValidationError
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from ..choices import EscalationReason
from ..models import DutyUnit, Escalation, EscalationEvent
from ..services import escalation as escalations
from ..services.duty_webhooks import SIGNATURE_HEADER, signature_valid
from .errors import as_drf_error


class EscalationEventSerializer(serializers.ModelSerializer):
    kind_label = serializers.CharField(source="get_kind_display", read_only=True)

    class Meta:
        model = EscalationEvent
        fields = ["kind", "kind_label", "status", "text", "at"]


class EscalationSerializer(serializers.ModelSerializer):
    """An escalation with its history; the unit is named, its contacts and key are not given out."""

    report = serializers.PrimaryKeyRelatedField(read_only=True)
    unit = serializers.CharField(source="unit.name", read_only=True)
    status_label = serializers.CharField(source="get_status_display", read_only=True)
    reason_label = serializers.CharField(source="get_reason_display", read_only=True)
    by = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)
    history = EscalationEventSerializer(source="events", many=True, read_only=True)

    class Meta:
        model = Escalation
        fields = [
            "id",
            "report",
            "unit",
            "reason",
            "reason_label",
            "note",
            "status",
            "status_label",
            "attempts",
            "by",
            "created_at",
            "sent_at",
            "history",
        ]


class EscalateInputSerializer(serializers.Serializer):
    reason = serializers.ChoiceField(choices=EscalationReason.choices)
    note = serializers.CharField(required=False, allow_blank=True, default="")


ESCALATE_SCHEMA = extend_schema(
    request=EscalateInputSerializer,
    responses={201: EscalationSerializer, 200: EscalationSerializer},
    description=gettext_lazy(
        "Send the report to the district's police duty unit now (the reporter or the district's inspector). 201 "
        "with the new escalation; 200 with the one already under way (it is not sent twice). 400 when the district "
        "has no duty unit the app can reach. The report still goes through verification."
    ),
)


def escalate_response(*, report, request, context) -> Response:
    """The `escalate` action of the reports' endpoint: the report was found in the user's scope."""
    data = EscalateInputSerializer(data=request.data)
    data.is_valid(raise_exception=True)
    escalation, created = escalations.report_escalate(
        report=report, by=request.user, reason=data.validated_data["reason"], note=data.validated_data["note"]
    )
    escalation = Escalation.objects.select_related("unit", "by").prefetch_related("events").get(pk=escalation.pk)
    return Response(
        EscalationSerializer(escalation, context=context).data,
        status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
    )


class EscalationAnswerSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=[(value, value) for value in escalations.ANSWER_STATUSES])
    text = serializers.CharField(required=False, allow_blank=True, default="", max_length=2000)


class EscalationAnswerResultSerializer(serializers.Serializer):
    key = serializers.UUIDField()
    status = serializers.CharField()


class EscalationStatusView(APIView):
    """The duty unit's system tells how a report stands. No sign-in: the body must be signed with the unit's key
    (`X-Signature: sha256=<hex HMAC-SHA256 of the body>`), as the app signs what it sends to the unit."""

    authentication_classes: list = []
    permission_classes = [AllowAny]

    @extend_schema(
        request=EscalationAnswerSerializer,
        responses={
            200: EscalationAnswerResultSerializer,
            403: OpenApiResponse(description=gettext_lazy("The signature is missing or not the unit's.")),
            404: OpenApiResponse(description=gettext_lazy("The unit sent nothing under this key.")),
        },
        parameters=[
            OpenApiParameter(
                SIGNATURE_HEADER,
                location=OpenApiParameter.HEADER,
                required=True,
                description=gettext_lazy("sha256= and the hex HMAC-SHA256 of the body under the unit's key."),
            )
        ],
        auth=[],
        description=gettext_lazy(
            "received, officer_sent or closed, with the unit's free text. The same answer again changes nothing."
        ),
    )
    def post(self, request, unit_id: int, key):
        # The signature covers the bytes as they came: read them before any parser does.
        body = request.body
        unit = DutyUnit.objects.filter(pk=unit_id, is_active=True).first()
        if unit is None or not signature_valid(unit, body, request.headers.get(SIGNATURE_HEADER)):
            raise PermissionDenied(_("The signature is missing or does not match the duty unit's key."))
        try:
            data = json.loads(body or b"null")
        except (ValueError, UnicodeDecodeError) as error:
            raise ValidationError({"non_field_errors": [_("The body is not JSON.")]}) from error
        answer = EscalationAnswerSerializer(data=data if isinstance(data, dict) else {})
        answer.is_valid(raise_exception=True)
        try:
            escalation = escalations.escalation_answer(
                unit=unit, key=key, status=answer.validated_data["status"], text=answer.validated_data["text"]
            )
        except Escalation.DoesNotExist:
            raise NotFound() from None
        except DjangoValidationError as error:
            raise as_drf_error(error) from error
        return Response({"key": str(escalation.key), "status": escalation.status})
