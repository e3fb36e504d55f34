"""Dashboards through the API: verified totals against the benchmarks, activity, and the benchmarks themselves.

The area comes from `services.figures.dashboard_area` (scope: out of scope is 404); the numbers from the tallies.
"""

from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import permissions, serializers, viewsets
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from ..choices import BenchmarkLevel, CrimeStatus, Role
from ..models import Benchmark, District, Region
from ..scope import role_of
from ..services import figures, report_map
from ..validators import FIRST_YEAR, LAST_YEAR
from .fields import SlugRelatedField

AREA_PARAMETERS = [
    OpenApiParameter(
        "year", OpenApiTypes.INT, description=gettext_lazy("Calendar year (Asia/Almaty); this year when left out.")
    ),
    OpenApiParameter("region", OpenApiTypes.STR, description=gettext_lazy("Region code, e.g. KZ-19.")),
    OpenApiParameter("district", OpenApiTypes.STR, description=gettext_lazy("District code.")),
]


def year_from(value: str | None) -> int:
    """The year asked for, or this year in Almaty; a clear 400 for anything else (as the pages and exports read it)."""
    try:
        return figures.dashboard_year(value)
    except DjangoValidationError as error:
        raise ValidationError(error.message_dict) from None


def area_from(request) -> figures.Area:
    try:
        return figures.dashboard_area(
            request.user, region=request.query_params.get("region"), district=request.query_params.get("district")
        )
    except figures.NotInScope as missing:
        raise Http404 from missing


class FigureSerializer(serializers.Serializer):
    count = serializers.IntegerField()
    benchmark = serializers.IntegerField(
        allow_null=True, help_text=gettext_lazy("The area's own target; null when none is set for the area.")
    )
    benchmark_scope = serializers.ChoiceField(
        BenchmarkLevel.choices,
        allow_null=True,
        help_text=gettext_lazy("The level of the target: always the area's own; null when the area has none."),
    )
    percent = serializers.FloatField(allow_null=True, help_text=gettext_lazy("Percent of the area's own target."))
    expected_to_date = serializers.IntegerField(
        allow_null=True, help_text=gettext_lazy("Where a straight line through the year to the own target is today.")
    )
    pace = serializers.ChoiceField(["ahead", "on_track", "behind"], allow_null=True)
    projection = serializers.IntegerField(allow_null=True, help_text=gettext_lazy("The year end at this pace."))
    national_benchmark = serializers.IntegerField(
        allow_null=True,
        help_text=gettext_lazy("The national target, for a region or a district; null for the country."),
    )
    national_share = serializers.FloatField(
        allow_null=True,
        help_text=gettext_lazy("The count as a percent of the national target: a share, not progress to a target."),
    )


class AreaSerializer(serializers.Serializer):
    level = serializers.ChoiceField(BenchmarkLevel.choices)
    code = serializers.CharField()
    name = serializers.CharField()


class GroupKindRowSerializer(serializers.Serializer):
    kind = serializers.CharField()
    name = serializers.CharField()
    prevented = serializers.IntegerField()
    solved = serializers.IntegerField()


class AreaRowSerializer(serializers.Serializer):
    level = serializers.CharField(help_text=gettext_lazy("region, district or group"))
    code = serializers.CharField()
    name = serializers.CharField()
    prevented = serializers.IntegerField()
    solved = serializers.IntegerField()
    prevented_figure = FigureSerializer(required=False)
    solved_figure = FigureSerializer(required=False)
    has_target = serializers.BooleanField(
        required=False, help_text=gettext_lazy("Whether the area has its own target.")
    )
    kind = serializers.CharField(required=False)
    meetings = serializers.IntegerField(required=False, help_text=gettext_lazy("Meetings with residents held."))
    residents = serializers.IntegerField(required=False, help_text=gettext_lazy("Residents those meetings reached."))
    initiative_settlements = serializers.IntegerField(required=False)
    crime_free_settlements = serializers.IntegerField(required=False)
    meetings_figure = FigureSerializer(required=False)
    initiative_settlements_figure = FigureSerializer(required=False)
    crime_free_settlements_figure = FigureSerializer(required=False)


class SettlementRowSerializer(serializers.Serializer):
    code = serializers.CharField()
    kato = serializers.CharField(allow_null=True)
    name = serializers.CharField()
    meetings = serializers.IntegerField(help_text=gettext_lazy("Meetings with residents held there in the year."))
    residents = serializers.IntegerField()
    initiative = serializers.BooleanField(help_text=gettext_lazy("An initiative was active there in the year."))
    crime_status = serializers.ChoiceField(
        CrimeStatus.choices,
        help_text=gettext_lazy(
            "crime_free: a count for every month of the year so far, all zero; no_data: a month without a count."
        ),
    )
    months_recorded = serializers.IntegerField()
    crimes = serializers.IntegerField(help_text=gettext_lazy("Crimes registered (ЕРДР) in the year."))


class TargetSumSerializer(serializers.Serializer):
    parts_sum = serializers.IntegerField(help_text=gettext_lazy("The targets of the areas one level below, added up."))
    target = serializers.IntegerField(allow_null=True, help_text=gettext_lazy("The area's own target."))
    difference = serializers.IntegerField(
        allow_null=True, help_text=gettext_lazy("The sum minus the own target: below zero, the parts fall short.")
    )


class TargetsCheckSerializer(serializers.Serializer):
    parts_level = serializers.ChoiceField(BenchmarkLevel.choices)
    parts = serializers.IntegerField(help_text=gettext_lazy("How many areas there are one level below."))
    parts_with_target = serializers.IntegerField()
    parts_without_target = serializers.ListField(child=serializers.CharField())
    prevented = TargetSumSerializer()
    solved = TargetSumSerializer()
    adds_up = serializers.BooleanField(
        help_text=gettext_lazy("Every part has a target and they add up to the area's own, for both figures.")
    )


class MonthRowSerializer(serializers.Serializer):
    month = serializers.IntegerField(min_value=1, max_value=12)
    prevented = serializers.IntegerField()
    solved = serializers.IntegerField()
    prevented_last_year = serializers.IntegerField()
    solved_last_year = serializers.IntegerField()


class CategoryRowSerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()
    prevented = serializers.IntegerField()
    solved = serializers.IntegerField()
    verified = serializers.IntegerField()


class TotalsSerializer(serializers.Serializer):
    year = serializers.IntegerField()
    area = AreaSerializer()
    as_of = serializers.DateField()
    prevented = FigureSerializer()
    solved = FigureSerializer()
    by_group_kind = GroupKindRowSerializer(many=True)
    by_area = AreaRowSerializer(many=True)
    by_month = MonthRowSerializer(many=True)
    by_category = CategoryRowSerializer(many=True)
    meetings = FigureSerializer(help_text=gettext_lazy("Meetings with residents held (planned ones do not count)."))
    residents = serializers.IntegerField(help_text=gettext_lazy("Residents the held meetings reached."))
    initiative_settlements = FigureSerializer(
        help_text=gettext_lazy("Settlements with a village initiative active in the year.")
    )
    crime_free_settlements = FigureSerializer(
        help_text=gettext_lazy("Initiative settlements with a zero count recorded for every month of the year so far.")
    )
    by_settlement = SettlementRowSerializer(
        many=True, help_text=gettext_lazy("For a district: its settlements with prevention work in the year.")
    )
    targets_check = TargetsCheckSerializer(
        allow_null=True,
        help_text=gettext_lazy("For the country and a region: whether the targets one level below add up to its own."),
    )


# One serializer for every answer: making a new one per request rebuilds (deep-copies) all its nested fields, which
# cost a totals request more than filling them in. It holds no request state; `to_representation` only reads it.
TOTALS_OUTPUT = TotalsSerializer()


def totals_payload(totals: figures.Totals, categories: list[dict]) -> dict:
    return {
        "year": totals.year,
        "area": {"level": totals.area.level, "code": totals.area.code, "name": totals.area.name},
        "as_of": totals.as_of,
        "prevented": totals.prevented.as_dict(),
        "solved": totals.solved.as_dict(),
        "by_group_kind": totals.by_group_kind,
        "by_area": totals.by_area,
        "by_month": totals.by_month,
        "by_category": categories,
        "meetings": totals.meetings.as_dict(),
        "residents": totals.residents,
        "initiative_settlements": totals.initiative_settlements.as_dict(),
        "crime_free_settlements": totals.crime_free_settlements.as_dict(),
        "by_settlement": totals.by_settlement,
        "targets_check": totals.targets_check,
    }


class TotalsView(APIView):
    """Verified offenses prevented and crimes solved for a year and an area, against the benchmarks."""

    @extend_schema(parameters=AREA_PARAMETERS, responses={200: TotalsSerializer})
    def get(self, request):
        year = year_from(request.query_params.get("year"))
        area = area_from(request)
        totals = figures.dashboard_totals(area, year)
        return Response(TOTALS_OUTPUT.to_representation(totals_payload(totals, figures.by_category(area, year))))


class ActivitySerializer(serializers.Serializer):
    active_volunteers = serializers.IntegerField()
    shifts_held = serializers.IntegerField()
    patrol_hours = serializers.FloatField()
    no_show_rate = serializers.FloatField(allow_null=True, help_text=gettext_lazy("Percent of expected people."))
    reports_waiting = serializers.IntegerField()


class ActivityView(APIView):
    """Active volunteers, shifts held, patrol hours, the no-show rate and reports waiting, for a year and an area."""

    @extend_schema(parameters=AREA_PARAMETERS, responses={200: ActivitySerializer})
    def get(self, request):
        year = year_from(request.query_params.get("year"))
        return Response(ActivitySerializer(figures.dashboard_activity(area_from(request), year)).data)


class MapPointSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    lat = serializers.FloatField()
    lng = serializers.FloatField()
    outcome = serializers.CharField(help_text=gettext_lazy("Outcome code."))
    day = serializers.DateField(help_text=gettext_lazy("The day it happened, Asia/Almaty."))


class MapCellSerializer(serializers.Serializer):
    lat = serializers.FloatField()
    lng = serializers.FloatField()
    count = serializers.IntegerField()


class MapVillageSerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()
    lat = serializers.FloatField()
    lng = serializers.FloatField()
    crime_free = serializers.BooleanField(
        help_text=gettext_lazy("A zero count recorded for every month of the year so far.")
    )


class ReportMapSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(
        ["points", "grid"],
        help_text=gettext_lazy("Points for a region or a district; a grid of counts for the country (a heat layer)."),
    )
    year = serializers.IntegerField()
    total = serializers.IntegerField(help_text=gettext_lazy("Verified reports of the area and year."))
    limit = serializers.IntegerField(allow_null=True, help_text=gettext_lazy("The most points sent, newest first."))
    capped = serializers.BooleanField(help_text=gettext_lazy("True when there are more reports than points sent."))
    points = MapPointSerializer(many=True)
    cells = MapCellSerializer(many=True)
    outcomes = serializers.DictField(child=serializers.CharField(), help_text=gettext_lazy("Outcome names by code."))
    bounds = serializers.ListField(
        child=serializers.FloatField(),
        allow_null=True,
        min_length=4,
        max_length=4,
        help_text=gettext_lazy("The area's extent: south, west, north, east."),
    )
    villages = MapVillageSerializer(many=True, help_text=gettext_lazy("Settlements with an initiative in the year."))


class MapView(APIView):
    """Where the verified reports of a year happened: points of a region or district, a grid for the country."""

    @extend_schema(parameters=AREA_PARAMETERS, responses={200: ReportMapSerializer})
    def get(self, request):
        year = year_from(request.query_params.get("year"))
        # Thousands of points, already JSON-ready: sent as they are (the serializer documents them for the schema).
        return Response(report_map.report_map(area_from(request), year).as_dict())


# Benchmarks


class IsAdminOrReadOnly(permissions.BasePermission):
    """Everyone signed in reads the targets in their scope; admins set them."""

    def has_permission(self, request, view) -> bool:
        if request.method in permissions.SAFE_METHODS:
            return True
        return role_of(request.user) == Role.ADMIN


class BenchmarkSerializer(serializers.ModelSerializer):
    region = SlugRelatedField(slug_field="code", queryset=Region.objects.all(), required=False, allow_null=True)
    district = SlugRelatedField(slug_field="code", queryset=District.objects.all(), required=False, allow_null=True)
    year = serializers.IntegerField(min_value=FIRST_YEAR, max_value=LAST_YEAR)

    class Meta:
        model = Benchmark
        fields = [
            "id",
            "year",
            "level",
            "region",
            "district",
            "prevented_target",
            "solved_target",
            "meetings_target",
            "initiative_target",
            "crime_free_target",
            "note",
            "updated_at",
        ]
        read_only_fields = ["updated_at"]
        validators = []

    def validate(self, attrs):
        level = attrs.get("level", getattr(self.instance, "level", None))
        region = attrs.get("region", getattr(self.instance, "region", None))
        district = attrs.get("district", getattr(self.instance, "district", None))
        if level == BenchmarkLevel.NATIONAL:
            attrs["region"], attrs["district"] = None, None
        elif level == BenchmarkLevel.REGION:
            if region is None:
                raise ValidationError({"region": [_("Choose the region of this target.")]})
            attrs["district"] = None
        elif level == BenchmarkLevel.DISTRICT:
            if district is None:
                raise ValidationError({"district": [_("Choose the district of this target.")]})
            attrs["region"] = None
        candidate = Benchmark(**{**self._current(), **attrs})
        if self.instance is not None:
            candidate.pk = self.instance.pk
        candidate.validate_constraints()
        return attrs

    def _current(self) -> dict:
        if self.instance is None:
            return {}
        fields = [
            "year",
            "level",
            "region",
            "district",
            "prevented_target",
            "solved_target",
            "meetings_target",
            "initiative_target",
            "crime_free_target",
            "note",
        ]
        return {name: getattr(self.instance, name) for name in fields}


class BenchmarkViewSet(viewsets.ModelViewSet):
    """Yearly targets per scope (national, region, district); the 2025 national one is 15,000 prevented / 307 solved."""

    serializer_class = BenchmarkSerializer
    permission_classes = [permissions.IsAuthenticated, IsAdminOrReadOnly]
    filterset_fields = ["year", "level"]

    def get_queryset(self):
        return Benchmark.objects.visible_to(self.request.user).select_related("region", "district")
