"""The public check of a certificate of service by its code, as JSON: the same answer as the check page
(`/c/<code>/`), with only what the paper shows. No sign-in; rate-limited per client address together with the page."""

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from ..choices import RewardKind
from ..services import certificates
from .throttles import CertificateCheckThrottle


class RewardSerializer(serializers.Serializer):
    year = serializers.IntegerField()
    quarter = serializers.IntegerField(min_value=1, max_value=4)
    kind = serializers.ChoiceField(choices=RewardKind.choices)
    amount_mci = serializers.CharField(
        allow_blank=True, help_text=gettext_lazy("For a cash reward, the amount in MCI (a decimal); else empty.")
    )
    protocol_number = serializers.CharField(allow_blank=True)
    protocol_date = serializers.DateField(allow_null=True)


class ReportsByOutcomeSerializer(serializers.Serializer):
    prevented = serializers.IntegerField()
    solved = serializers.IntegerField()
    handed_over = serializers.IntegerField()
    assistance = serializers.IntegerField()
    info = serializers.IntegerField()


class CertificateFiguresSerializer(serializers.Serializer):
    shifts = serializers.IntegerField(help_text=gettext_lazy("Patrol shifts completed."))
    hours = serializers.FloatField(help_text=gettext_lazy("Patrol hours, to a tenth."))
    reports = ReportsByOutcomeSerializer(help_text=gettext_lazy("Verified reports by outcome."))
    meetings = serializers.IntegerField(help_text=gettext_lazy("Meetings with residents attended."))
    callouts = serializers.IntegerField(help_text=gettext_lazy("Call-outs answered."))
    rewards = RewardSerializer(many=True, help_text=gettext_lazy("Rewards granted for quarters in the period."))


class CertificateCheckSerializer(serializers.Serializer):
    status = serializers.ChoiceField(
        choices=[(value, value) for value in certificates.CHECK_STATUSES],
        help_text=gettext_lazy(
            "genuine; revoked; not_genuine (the code is forged or mistyped); not_found (a well-formed code that was "
            "never issued)."
        ),
    )
    detail = serializers.CharField(help_text=gettext_lazy("What the answer means, in the request's language."))
    code = serializers.CharField(required=False, help_text=gettext_lazy("The code as issued, grouped."))
    holder = serializers.CharField(required=False, help_text=gettext_lazy("Initials and surname."))
    period_start = serializers.DateField(required=False)
    period_end = serializers.DateField(required=False)
    issuer = serializers.CharField(required=False, help_text=gettext_lazy("The police unit that issued it."))
    issued_on = serializers.DateField(required=False)
    revoked_on = serializers.DateField(required=False, allow_null=True)
    figures = CertificateFiguresSerializer(
        required=False, allow_null=True, help_text=gettext_lazy("What the certificate shows; none once revoked.")
    )


def _detail(status_code: str) -> str:
    return {
        certificates.GENUINE: _("This certificate is genuine."),
        certificates.REVOKED: _("This certificate was revoked and is no longer valid."),
        certificates.NOT_GENUINE: _("This code is not genuine: it was altered, mistyped or made up."),
        certificates.NOT_FOUND: _("No certificate was issued with this code."),
    }[status_code]


class CertificateCheckView(APIView):
    """Check a certificate of service by its code (as printed under its QR code; case and dashes do not matter)."""

    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_classes = [CertificateCheckThrottle]

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "code",
                OpenApiTypes.STR,
                OpenApiParameter.PATH,
                description=gettext_lazy("The certificate's code, such as K7Q2-M9XP-4TZD-8W."),
            )
        ],
        responses={
            200: CertificateCheckSerializer,
            404: OpenApiResponse(
                CertificateCheckSerializer,
                description=gettext_lazy("The code is not genuine, or no certificate has it (see `status`)."),
            ),
        },
        auth=[],
    )
    def get(self, request, code: str):
        result = certificates.certificate_check(code)
        body: dict = {"status": result.status, "detail": _detail(result.status)}
        if result.certificate is None:
            return Response(body, status=status.HTTP_404_NOT_FOUND)
        body.update(certificates.public_data(result.certificate))
        return Response(CertificateCheckSerializer(body).data)
