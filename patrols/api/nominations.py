"""The district's quarterly nominations for rewards through the API: open, change the people and their proposed
rewards while a draft, submit, revise, and record the commission's decision.

Querysets come from `scope` (out of scope is 404; a chief reads the region's and gets 403 on a change); writes go to
`services.nominations`, whose refusals are the API's 400.
"""

import django_filters
from django import forms
from django.db.models import Count, Prefetch
from django.http import Http404
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_field
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.response import Response

from ..choices import NominationStatus, RewardDecision, RewardKind
from ..models import District, Nomination, NominationItem, Volunteer
from ..scope import manageable_districts
from ..services import nominations
from .views import ScopedReadMixin

QUARTER_FORMAT_MESSAGE = gettext_lazy("Give the quarter as YYYY-Qn, for example 2026-Q4.")


class FactsSerializer(serializers.Serializer):
    """A volunteer's verified service in the quarter (the ledger), with their groups in the district."""

    shifts = serializers.IntegerField(default=0)
    hours = serializers.FloatField(default=0)
    minutes = serializers.IntegerField(default=0)
    no_shows = serializers.IntegerField(default=0)
    meetings = serializers.IntegerField(default=0)
    callouts = serializers.IntegerField(default=0)
    reports = serializers.DictField(
        child=serializers.IntegerField(), default=dict, help_text=gettext_lazy("Verified reports by outcome code.")
    )
    group = serializers.CharField(required=False, default="")


class NominationItemSerializer(serializers.ModelSerializer):
    volunteer_name = serializers.CharField(source="volunteer.full_name", read_only=True)
    kind_label = serializers.CharField(source="get_kind_display", read_only=True)
    facts = FactsSerializer(read_only=True)

    class Meta:
        model = NominationItem
        fields = [
            "id",
            "volunteer",
            "volunteer_name",
            "kind",
            "kind_label",
            "amount_mci",
            "merit",
            "proposed_by_rules",
            "facts",
            "decision",
            "decided_kind",
            "decided_amount_mci",
            "decided_tenge",
            "decision_note",
        ]
        read_only_fields = fields


class BudgetSerializer(serializers.Serializer):
    """The district's money for cash rewards in the quarter, in tenge (null: not set)."""

    mci = serializers.DecimalField(
        max_digits=10, decimal_places=2, allow_null=True, help_text=gettext_lazy("The year's MCI value in tenge.")
    )
    tenge = serializers.DecimalField(
        max_digits=14, decimal_places=2, allow_null=True, help_text=gettext_lazy("The quarter's budget.")
    )
    granted = serializers.DecimalField(
        max_digits=14, decimal_places=2, help_text=gettext_lazy("Granted by the quarter's decided nominations.")
    )
    left = serializers.DecimalField(max_digits=14, decimal_places=2, allow_null=True)
    proposed = serializers.DecimalField(
        max_digits=14,
        decimal_places=2,
        allow_null=True,
        help_text=gettext_lazy("The cash this nomination proposes (decided: was granted), in tenge."),
    )


class NominationSerializer(serializers.ModelSerializer):
    district = serializers.SlugRelatedField(slug_field="code", read_only=True)
    district_name = serializers.CharField(source="district.name", read_only=True)
    quarter_code = serializers.SerializerMethodField()
    status_label = serializers.CharField(source="get_status_display", read_only=True)
    superseded_by = serializers.SerializerMethodField()
    people = serializers.IntegerField(source="item_count", read_only=True)

    class Meta:
        model = Nomination
        fields = [
            "id",
            "district",
            "district_name",
            "year",
            "quarter",
            "quarter_code",
            "version",
            "status",
            "status_label",
            "supersedes",
            "superseded_by",
            "people",
            "created_at",
            "submitted_at",
            "protocol_number",
            "protocol_date",
            "decided_at",
        ]
        read_only_fields = fields

    def get_quarter_code(self, obj) -> str:
        return nominations.quarter_code(obj.year, obj.quarter)

    def get_superseded_by(self, obj) -> int | None:
        newer = getattr(obj, "superseded_by", None)
        return newer.pk if newer is not None else None


class NominationDetailSerializer(NominationSerializer):
    items = NominationItemSerializer(many=True, read_only=True)
    budget = serializers.SerializerMethodField()

    class Meta(NominationSerializer.Meta):
        fields = [*NominationSerializer.Meta.fields, "items", "budget"]
        read_only_fields = fields

    @extend_schema_field(BudgetSerializer)
    def get_budget(self, obj):
        budget = nominations.nomination_budget(obj, obj.items.all())
        return BudgetSerializer(
            {
                "mci": budget.mci,
                "tenge": budget.tenge,
                "granted": budget.granted,
                "left": budget.left,
                "proposed": budget.proposed,
            }
        ).data


class QuarterField(forms.CharField):
    """A quarter as `YYYY-Qn`."""

    def clean(self, value):
        value = super().clean(value)
        if not value:
            return None
        try:
            return nominations.parse_quarter(value)
        except forms.ValidationError:
            raise forms.ValidationError(QUARTER_FORMAT_MESSAGE) from None


@extend_schema_field(OpenApiTypes.STR)
class QuarterFilter(django_filters.Filter):
    field_class = QuarterField

    def filter(self, qs, value):
        if not value:
            return qs
        year, quarter = value
        return qs.filter(year=year, quarter=quarter)


class NominationFilter(django_filters.FilterSet):
    district = django_filters.CharFilter(field_name="district__code", label=gettext_lazy("district code"))
    quarter = QuarterFilter(label=gettext_lazy("quarter, as YYYY-Qn"))
    status = django_filters.ChoiceFilter(choices=NominationStatus.choices, label=gettext_lazy("status"))

    class Meta:
        model = Nomination
        fields = ["district", "quarter", "status"]


class OpenSerializer(serializers.Serializer):
    district = serializers.SlugRelatedField(slug_field="code", queryset=District.objects.none())
    quarter = serializers.CharField(
        required=False, help_text=gettext_lazy("YYYY-Qn; the current quarter when left out.")
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        self.fields["district"].queryset = manageable_districts(request.user if request else None).defer(
            "boundary", "centre"
        )

    def validate_quarter(self, value):
        try:
            return nominations.parse_quarter(value)
        except forms.ValidationError:
            raise serializers.ValidationError(QUARTER_FORMAT_MESSAGE) from None


def _amount_field():
    return serializers.DecimalField(
        max_digits=12,
        decimal_places=2,
        required=False,
        allow_null=True,
        help_text=gettext_lazy("For a cash reward only: more than 0 and at most 15 MCI."),
    )


class ItemAddSerializer(serializers.Serializer):
    volunteer = serializers.PrimaryKeyRelatedField(queryset=Volunteer.objects.none())
    kind = serializers.ChoiceField(choices=RewardKind.choices, default=RewardKind.THANKS)
    amount_mci = _amount_field()
    merit = serializers.CharField(required=False, allow_blank=True, default="", max_length=500)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        self.fields["volunteer"].queryset = Volunteer.objects.visible_to(request.user if request else None)


class ItemChangeSerializer(serializers.Serializer):
    """What changes; what is left out stays as it is (a kind other than cash clears the amount)."""

    kind = serializers.ChoiceField(choices=RewardKind.choices, required=False)
    amount_mci = _amount_field()
    merit = serializers.CharField(required=False, allow_blank=True, max_length=500)


class DecisionSerializer(serializers.Serializer):
    item = serializers.IntegerField(help_text=gettext_lazy("The id of the nomination's item (a person on it)."))
    decision = serializers.ChoiceField(choices=RewardDecision.choices)
    kind = serializers.ChoiceField(
        choices=RewardKind.choices, required=False, help_text=gettext_lazy("For `changed`: the reward granted.")
    )
    amount_mci = _amount_field()
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=500)


class DecideSerializer(serializers.Serializer):
    protocol_number = serializers.CharField(max_length=40)
    protocol_date = serializers.DateField()
    decisions = DecisionSerializer(many=True, allow_empty=False)


class NominationViewSet(ScopedReadMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Nominations for rewards in scope: the inspector's districts', the chief's region's."""

    model = Nomination
    serializer_class = NominationSerializer
    filterset_class = NominationFilter
    denied_message = gettext_lazy("You can see this nomination but not change it.")

    def get_queryset(self):
        found = (
            self.base_queryset()
            .select_related("district", "superseded_by")
            .defer("district__boundary", "district__centre")
            .annotate(item_count=Count("items"))
            .order_by("-year", "-quarter", "district__code", "-version")
        )
        if self.action != "list":
            found = found.prefetch_related(
                Prefetch("items", queryset=NominationItem.objects.select_related("volunteer"))
            )
        return found

    def get_serializer_class(self):
        return NominationSerializer if self.action == "list" else NominationDetailSerializer

    def _input(self, serializer_class):
        data = serializer_class(data=self.request.data, context=self.get_serializer_context())
        data.is_valid(raise_exception=True)
        return data.validated_data

    def _output(self, nomination, code=status.HTTP_200_OK):
        fresh = self.get_queryset().get(pk=nomination.pk)
        return Response(NominationDetailSerializer(fresh, context=self.get_serializer_context()).data, status=code)

    def _item(self, nomination, item_id) -> NominationItem:
        item = nomination.items.filter(pk=item_id).select_related("nomination").first()
        if item is None:
            raise Http404
        return item

    @extend_schema(
        request=OpenSerializer,
        responses={201: NominationDetailSerializer, 200: NominationDetailSerializer},
        description=gettext_lazy(
            "Open the district's nomination for a quarter (the district's inspector). 201 with a new draft that "
            "proposes everyone who meets the district's rules; 200 with the quarter's current version when there is "
            "one (a draft's facts brought up to date)."
        ),
    )
    def create(self, request, *args, **kwargs):
        if not manageable_districts(request.user).exists():
            raise PermissionDenied(_("Only the district's inspector opens its nominations for rewards."))
        data = self._input(OpenSerializer)
        year, quarter = data.get("quarter") or nominations.current_quarter()
        existed = nominations.current_nomination(data["district"], year, quarter) is not None
        nomination = nominations.nomination_open(district=data["district"], year=year, quarter=quarter, by=request.user)
        return self._output(nomination, status.HTTP_200_OK if existed else status.HTTP_201_CREATED)

    @extend_schema(
        request=ItemAddSerializer,
        responses={201: NominationItemSerializer},
        description=gettext_lazy("Put one of the district's registered volunteers on a draft."),
    )
    @action(detail=True, methods=["post"], url_path="items")
    def items(self, request, pk=None):
        nomination = self.get_object()
        data = self._input(ItemAddSerializer)
        item = nominations.nomination_item_add(
            nomination=nomination,
            volunteer=data["volunteer"],
            by=request.user,
            kind=data["kind"],
            amount_mci=data.get("amount_mci"),
            merit=data["merit"],
        )
        item = NominationItem.objects.select_related("volunteer").get(pk=item.pk)
        return Response(NominationItemSerializer(item).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        methods=["PATCH"],
        request=ItemChangeSerializer,
        responses={200: NominationItemSerializer},
        description=gettext_lazy("Change a person's proposed reward, amount in MCI or line of merit on a draft."),
    )
    @extend_schema(
        methods=["DELETE"],
        request=None,
        responses={204: OpenApiResponse(description=gettext_lazy("Taken off the draft."))},
        description=gettext_lazy("Take a person off a draft."),
    )
    @action(detail=True, methods=["patch", "delete"], url_path=r"items/(?P<item_id>[0-9]+)")
    def item(self, request, pk=None, item_id=None):
        nomination = self.get_object()
        item = self._item(nomination, item_id)
        if request.method == "DELETE":
            nominations.nomination_item_remove(item=item, by=request.user)
            return Response(status=status.HTTP_204_NO_CONTENT)
        data = self._input(ItemChangeSerializer)
        kind = data.get("kind", item.kind)
        if "amount_mci" in data:
            amount = data["amount_mci"]
        else:
            amount = item.amount_mci if kind == RewardKind.CASH else None
        item = nominations.nomination_item_set(
            item=item, by=request.user, kind=kind, amount_mci=amount, merit=data.get("merit", item.merit)
        )
        item = NominationItem.objects.select_related("volunteer").get(pk=item.pk)
        return Response(NominationItemSerializer(item).data)

    @extend_schema(
        request=None,
        responses={200: NominationDetailSerializer},
        description=gettext_lazy("Submit the draft to the commission: its facts are frozen with it."),
    )
    @action(detail=True, methods=["post"])
    def submit(self, request, pk=None):
        return self._output(nominations.nomination_submit(nomination=self.get_object(), by=request.user))

    @extend_schema(
        request=None,
        responses={201: NominationDetailSerializer},
        description=gettext_lazy(
            "Make a new version (a draft) of a submitted nomination; the submitted one stays as it was, superseded."
        ),
    )
    @action(detail=True, methods=["post"])
    def revise(self, request, pk=None):
        revision = nominations.nomination_revise(nomination=self.get_object(), by=request.user)
        return self._output(revision, status.HTTP_201_CREATED)

    @extend_schema(
        request=DecideSerializer,
        responses={200: NominationDetailSerializer},
        description=gettext_lazy(
            "Record the commission's decision on a submitted nomination: the protocol and, for every person, "
            "granted, changed (with the reward and, for cash, the amount in MCI) or refused. Cash is at most 15 MCI a "
            "person and within the district's budget for the quarter; each volunteer is told."
        ),
    )
    @action(detail=True, methods=["post"])
    def decide(self, request, pk=None):
        nomination = self.get_object()
        data = self._input(DecideSerializer)
        decided = nominations.nomination_decide(
            nomination=nomination,
            by=request.user,
            protocol_number=data["protocol_number"],
            protocol_date=data["protocol_date"],
            decisions=[
                nominations.Decision(
                    item_id=row["item"],
                    decision=row["decision"],
                    kind=row.get("kind", ""),
                    amount_mci=row.get("amount_mci"),
                    note=row.get("note", ""),
                )
                for row in data["decisions"]
            ],
        )
        return self._output(decided)
