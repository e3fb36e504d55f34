"""A volunteer's ledger through the API: `GET /api/v1/volunteers/{id}/ledger/?from=&to=` (the action is on the
volunteers' viewset, so the volunteer comes from the reader's scope: out of it is 404)."""

import datetime

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter
from rest_framework import serializers

from ..choices import RewardDecision, RewardKind
from ..clock import local_today
from ..models import Volunteer
from ..services.ledger import ledger_for, rewards_between
from ..validators import FIRST_YEAR, LAST_YEAR

DATE_MESSAGES = {"invalid": gettext_lazy("Give a date as YYYY-MM-DD.")}
PERIOD_PARAMETERS = [
    OpenApiParameter(
        "from",
        OpenApiTypes.DATE,
        description=gettext_lazy("First day of the period (YYYY-MM-DD); 1 January of the year of `to` by default."),
    ),
    OpenApiParameter(
        "to", OpenApiTypes.DATE, description=gettext_lazy("Last day of the period (YYYY-MM-DD); today by default.")
    ),
]


def _date_field(**kwargs) -> serializers.DateField:
    return serializers.DateField(input_formats=["%Y-%m-%d"], error_messages=DATE_MESSAGES, **kwargs)


class PeriodSerializer(serializers.Serializer):
    """The period of a ledger: `from` and `to` (fields named by `get_fields`, since `from` is a word of Python)."""

    def get_fields(self):
        return {
            "from": _date_field(required=False, help_text=gettext_lazy("First day of the period.")),
            "to": _date_field(required=False, help_text=gettext_lazy("Last day of the period.")),
        }

    def validate(self, attrs):
        end = attrs.get("to") or local_today()
        start = attrs.get("from") or datetime.date(end.year, 1, 1)
        for name, day in (("from", start), ("to", end)):
            if not FIRST_YEAR <= day.year <= LAST_YEAR:
                raise serializers.ValidationError(
                    {
                        name: [
                            _("Give a date between the years %(first)d and %(last)d.")
                            % {"first": FIRST_YEAR, "last": LAST_YEAR}
                        ]
                    }
                )
        if start > end:
            raise serializers.ValidationError({"to": [_("The period ends before it starts: give a later “to”.")]})
        return {"from": start, "to": end}


def period_from(query_params) -> tuple[datetime.date, datetime.date]:
    """The period a request asks for (this year so far by default); a translated 400 for anything else."""
    period = PeriodSerializer(data={name: query_params[name] for name in ("from", "to") if query_params.get(name)})
    period.is_valid(raise_exception=True)
    return period.validated_data["from"], period.validated_data["to"]


class LedgerRewardSerializer(serializers.Serializer):
    """A reward the commission granted, as granted (the kind and amount it decided)."""

    year = serializers.IntegerField(source="nomination.year")
    quarter = serializers.IntegerField(source="nomination.quarter")
    decision = serializers.ChoiceField(choices=RewardDecision.choices)
    kind = serializers.ChoiceField(choices=RewardKind.choices, source="decided_kind")
    kind_label = serializers.CharField(source="get_decided_kind_display")
    amount_mci = serializers.DecimalField(
        max_digits=5,
        decimal_places=2,
        allow_null=True,
        source="decided_amount_mci",
        help_text=gettext_lazy("A cash reward's amount in MCI (null for other rewards)."),
    )
    tenge = serializers.DecimalField(
        max_digits=14,
        decimal_places=2,
        allow_null=True,
        source="decided_tenge",
        help_text=gettext_lazy("A cash reward's amount in tenge."),
    )
    protocol_number = serializers.CharField(source="nomination.protocol_number")
    protocol_date = serializers.DateField(source="nomination.protocol_date")


class LedgerSerializer(serializers.Serializer):
    """A volunteer's verified service over a period, counted by whole months (Asia/Almaty) from the month of `from`
    to that of `to`, and the rewards granted for the quarters the period touches."""

    volunteer = serializers.IntegerField()
    shifts = serializers.IntegerField(help_text=gettext_lazy("Completed shifts whose patrol time counts."))
    hours = serializers.FloatField(help_text=gettext_lazy("Patrol hours that count, to a tenth."))
    minutes = serializers.IntegerField(help_text=gettext_lazy("Patrol minutes that count."))
    no_shows = serializers.IntegerField()
    meetings = serializers.IntegerField(help_text=gettext_lazy("Held meetings with residents taken part in."))
    callouts = serializers.IntegerField(help_text=gettext_lazy("Call-outs answered."))
    reports = serializers.DictField(
        child=serializers.IntegerField(), help_text=gettext_lazy("Verified reports by outcome code.")
    )
    rewards = LedgerRewardSerializer(many=True)

    def get_fields(self):
        fields = super().get_fields()
        period = {
            "from": _date_field(help_text=gettext_lazy("First day of the period.")),
            "to": _date_field(help_text=gettext_lazy("Last day of the period.")),
        }
        return {"volunteer": fields.pop("volunteer"), **period, **fields}


def ledger_answer(volunteer: Volunteer, start: datetime.date, end: datetime.date) -> dict:
    """The API's answer: the ledger of the period with the rewards of its quarters."""
    ledger = ledger_for(volunteer.pk, start, end)
    return LedgerSerializer(
        {
            "volunteer": volunteer.pk,
            "from": start,
            "to": end,
            **ledger.as_dict(),
            "rewards": rewards_between(volunteer.pk, start, end),
        }
    ).data
