"""Shapes of the public API. Output serializers read; input serializers only parse and check types.

Business rules live in `patrols.services`; these classes never save anything themselves.
"""

from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework_gis.fields import GeometryField
from rest_framework_gis.serializers import GeoFeatureModelSerializer

from ..choices import (
    AccessChannel,
    AssignmentStatus,
    CheckInDoubt,
    CrimeStatus,
    GroupKind,
    Role,
    ShiftStatus,
    ZoneKind,
)
from ..models import (
    ApiToken,
    Assignment,
    District,
    Group,
    Notification,
    Region,
    Settlement,
    Shift,
    ShiftEvent,
    ShiftSeries,
    User,
    Volunteer,
    VolunteerStatusChange,
    Zone,
)
from ..scope import districts_in_scope, is_police, manageable_districts, regions_in_scope, sees_personal_data
from ..services import audit, villages
from ..services.geometry import geometry_from_geojson
from ..services.messages import render
from ..validators import format_phone, mask_iin, mask_phone
from .fields import RowListSerializer, SlugRelatedField, moment


def _requesting_user(serializer):
    """The user whose scope limits the choices (none when the schema is being generated)."""
    request = serializer.context.get("request")
    return request.user if request is not None else None


class CentreMixin(serializers.Serializer):
    lat = serializers.SerializerMethodField()
    lng = serializers.SerializerMethodField()

    def get_lat(self, obj) -> float:
        return round(obj.centre.y, 6)

    def get_lng(self, obj) -> float:
        return round(obj.centre.x, 6)


class RegionSerializer(CentreMixin, serializers.ModelSerializer):
    name = serializers.CharField(read_only=True)

    class Meta:
        model = Region
        fields = ["code", "kato", "kind", "name", "name_kk", "name_ru", "name_en", "lat", "lng"]


class DistrictSerializer(CentreMixin, serializers.ModelSerializer):
    name = serializers.CharField(read_only=True)
    region = serializers.SlugRelatedField(slug_field="code", read_only=True)
    has_boundary = serializers.SerializerMethodField()

    class Meta:
        model = District
        fields = ["code", "kato", "region", "name", "name_kk", "name_ru", "name_en", "lat", "lng", "has_boundary"]

    def get_has_boundary(self, obj) -> bool:
        return obj.boundary is not None


class SettlementSerializer(CentreMixin, serializers.ModelSerializer):
    name = serializers.CharField(read_only=True)
    district = serializers.SlugRelatedField(slug_field="code", read_only=True)

    class Meta:
        model = Settlement
        fields = ["code", "kato", "district", "name", "name_kk", "name_ru", "name_en", "lat", "lng"]


class ActiveInitiativeSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.CharField(source="kind.code")
    kind_label = serializers.CharField(source="kind.name")
    adopted_on = serializers.DateField()
    meeting = serializers.IntegerField(source="meeting_id", allow_null=True)


class CrimeYearSerializer(serializers.Serializer):
    year = serializers.IntegerField()
    status = serializers.ChoiceField(
        choices=CrimeStatus.choices,
        help_text=_("crime_free: a count for every month so far and all zero; no_data: a month without a count."),
    )
    months_required = serializers.IntegerField(help_text=_("The months of the year that have ended."))
    months_recorded = serializers.IntegerField()
    crimes = serializers.IntegerField()


class SettlementDetailSerializer(SettlementSerializer):
    """A settlement with its active initiatives and whether it is crime-free this year."""

    active_initiatives = serializers.SerializerMethodField()
    crime_free = serializers.SerializerMethodField()

    class Meta(SettlementSerializer.Meta):
        fields = [*SettlementSerializer.Meta.fields, "active_initiatives", "crime_free"]

    @extend_schema_field(ActiveInitiativeSerializer(many=True))
    def get_active_initiatives(self, obj):
        return ActiveInitiativeSerializer(villages.active_initiatives(obj), many=True).data

    @extend_schema_field(CrimeYearSerializer(allow_null=True))
    def get_crime_free(self, obj):
        """This year's registered crimes: police statistics, so null but for police and ministry accounts."""
        request = self.context.get("request")
        if request is None or not is_police(request.user):
            return None
        return CrimeYearSerializer(villages.settlement_year(obj)).data


class MeSerializer(serializers.ModelSerializer):
    roles = serializers.ListField(child=serializers.CharField(), read_only=True)
    districts = serializers.SerializerMethodField()
    regions = serializers.SerializerMethodField()
    volunteer = serializers.SerializerMethodField()

    class Meta:
        model = User
        fields = [
            "username",
            "first_name",
            "last_name",
            "role",
            "roles",
            "language",
            "districts",
            "regions",
            "volunteer",
        ]

    def get_districts(self, obj) -> list[str]:
        return list(districts_in_scope(obj).order_by("code").values_list("code", flat=True))

    def get_regions(self, obj) -> list[str]:
        return list(regions_in_scope(obj).order_by("code").values_list("code", flat=True))

    @extend_schema_field(serializers.IntegerField(allow_null=True))
    def get_volunteer(self, obj) -> int | None:
        volunteer = getattr(obj, "volunteer", None)
        return volunteer.pk if volunteer else None


class GroupSerializer(serializers.ModelSerializer):
    district = serializers.SlugRelatedField(slug_field="code", read_only=True)
    settlement = serializers.SlugRelatedField(slug_field="code", read_only=True, allow_null=True)
    kind_label = serializers.CharField(source="get_kind_display", read_only=True)
    leader_name = serializers.SerializerMethodField()
    inspector = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)
    member_count = serializers.IntegerField(read_only=True)

    class Meta:
        model = Group
        fields = [
            "id",
            "name",
            "kind",
            "kind_label",
            "district",
            "settlement",
            "institution",
            "leader",
            "leader_name",
            "inspector",
            "is_active",
            "member_count",
        ]

    def get_leader_name(self, obj) -> str:
        return obj.leader.full_name if obj.leader_id else ""


class GroupInputSerializer(serializers.Serializer):
    """Relations are limited to what the user may use, so out of scope reads as 'does not exist'."""

    name = serializers.CharField(max_length=200)
    kind = serializers.ChoiceField(choices=GroupKind.choices)
    district = SlugRelatedField(slug_field="code", queryset=District.objects.none())
    settlement = SlugRelatedField(slug_field="code", queryset=Settlement.objects.all(), required=False, allow_null=True)
    institution = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    leader = serializers.PrimaryKeyRelatedField(queryset=Volunteer.objects.none(), required=False, allow_null=True)
    inspector = SlugRelatedField(slug_field="username", queryset=User.objects.none(), required=False, allow_null=True)
    is_active = serializers.BooleanField(required=False, default=True)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        user = _requesting_user(self)
        self.fields["district"].queryset = manageable_districts(user)
        self.fields["leader"].queryset = Volunteer.objects.manageable_by(user)
        self.fields["inspector"].queryset = User.objects.filter(role="inspector", is_active=True)


class MembershipInputSerializer(serializers.Serializer):
    volunteer = serializers.PrimaryKeyRelatedField(queryset=Volunteer.objects.none())
    date = serializers.DateField(required=False, help_text=_("Joining or leaving date; today when omitted."))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["volunteer"].queryset = Volunteer.objects.visible_to(_requesting_user(self))


class GroupRefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Group
        fields = ["id", "name", "kind"]


class VolunteerSerializer(serializers.ModelSerializer):
    """A volunteer; IIN, phone and date of birth are masked unless the reader may see them."""

    district = serializers.SlugRelatedField(slug_field="code", read_only=True)
    full_name = serializers.CharField(read_only=True)
    status_label = serializers.CharField(source="get_status_display", read_only=True)
    iin = serializers.SerializerMethodField()
    phone = serializers.SerializerMethodField()
    birth_date = serializers.SerializerMethodField()
    groups = serializers.SerializerMethodField()
    has_account = serializers.SerializerMethodField()

    class Meta:
        model = Volunteer
        fields = [
            "id",
            "full_name",
            "last_name",
            "first_name",
            "patronymic",
            "iin",
            "phone",
            "birth_date",
            "district",
            "status",
            "status_label",
            "applied_on",
            "vetted_on",
            "registration_number",
            "registered_on",
            "refusal_reason",
            "id_card_number",
            "badge_number",
            "medical_check_passed",
            "consent_at",
            "consent_version",
            "groups",
            "has_account",
        ]

    def _personal(self, obj) -> bool:
        cache = self.context.setdefault("_personal", {})
        if obj.pk not in cache:
            cache[obj.pk] = sees_personal_data(self.context["request"].user, obj, scoped=True)
        return cache[obj.pk]

    def get_iin(self, obj) -> str:
        if not self._personal(obj):
            return mask_iin(obj.iin)
        audit.volunteer_iin_shown(self.context["request"], obj, how=AccessChannel.API)
        return obj.iin

    def get_phone(self, obj) -> str:
        return format_phone(obj.phone, space=" ") if self._personal(obj) else mask_phone(obj.phone)

    @extend_schema_field(serializers.DateField(allow_null=True, help_text=_("Null unless you may see it.")))
    def get_birth_date(self, obj):
        return obj.birth_date.isoformat() if self._personal(obj) else None

    @extend_schema_field(GroupRefSerializer(many=True))
    def get_groups(self, obj):
        return [
            {"id": m.group.pk, "name": m.group.name, "kind": m.group.kind}
            for m in obj.memberships.all()
            if m.left_on is None
        ]

    def get_has_account(self, obj) -> bool:
        return obj.user_id is not None


class VolunteerCreateSerializer(serializers.Serializer):
    district = SlugRelatedField(slug_field="code", queryset=District.objects.none())
    last_name = serializers.CharField(max_length=100)
    first_name = serializers.CharField(max_length=100)
    patronymic = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    iin = serializers.CharField(max_length=12)
    phone = serializers.CharField(max_length=32)
    birth_date = serializers.DateField(required=False, allow_null=True, default=None)
    applied_on = serializers.DateField(required=False, allow_null=True, default=None)
    consent = serializers.BooleanField(help_text=_("The applicant signed the consent to personal data processing."))
    consent_version = serializers.CharField(max_length=20, required=False)
    groups = serializers.PrimaryKeyRelatedField(many=True, queryset=Group.objects.none(), required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        user = _requesting_user(self)
        self.fields["district"].queryset = manageable_districts(user)
        self.fields["groups"].child_relation.queryset = Group.objects.manageable_by(user)

    def validate_consent(self, value: bool) -> bool:
        if not value:
            raise serializers.ValidationError(_("The applicant's consent to personal data processing is required."))
        return value


class VolunteerUpdateSerializer(serializers.Serializer):
    last_name = serializers.CharField(max_length=100, required=False)
    first_name = serializers.CharField(max_length=100, required=False)
    patronymic = serializers.CharField(max_length=100, required=False, allow_blank=True)
    phone = serializers.CharField(max_length=32, required=False)
    birth_date = serializers.DateField(required=False)
    medical_check_passed = serializers.BooleanField(required=False, allow_null=True)


class VetSerializer(serializers.Serializer):
    on_date = serializers.DateField(required=False, allow_null=True, default=None)
    medical_check_passed = serializers.BooleanField(required=False, allow_null=True, default=None)


class RegisterSerializer(serializers.Serializer):
    number = serializers.CharField(max_length=40)
    on_date = serializers.DateField()


class ReasonSerializer(serializers.Serializer):
    reason = serializers.CharField()


class NoteSerializer(serializers.Serializer):
    note = serializers.CharField(required=False, allow_blank=True, default="")


class DocumentsSerializer(serializers.Serializer):
    id_card_number = serializers.CharField(max_length=40)
    badge_number = serializers.CharField(max_length=40)


class StatusChangeSerializer(serializers.ModelSerializer):
    by = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)
    note = serializers.CharField(
        source="note_text",
        read_only=True,
        help_text=_("The app's own reason in the reader's language (Accept-Language), then what was written."),
    )
    reason = serializers.CharField(
        read_only=True, help_text=_("The app's own reason as a code (`imported`), or empty.")
    )
    reason_params = serializers.DictField(
        read_only=True, help_text=_("The facts of the reason: `name`, the imported file's name.")
    )

    class Meta:
        model = VolunteerStatusChange
        fields = ["from_status", "to_status", "note", "reason", "reason_params", "by", "at"]


class TokenRequestSerializer(serializers.Serializer):
    username = serializers.CharField(max_length=150)
    password = serializers.CharField(style={"input_type": "password"}, max_length=128)
    device = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=120,
        help_text=_("The device's name, shown in the list of your devices (for example “Samsung A14”)."),
    )
    otp = serializers.CharField(
        required=False,
        allow_blank=True,
        help_text=_(
            "The 6-digit code from the authenticator app: required for inspectors, chiefs, analysts and admins "
            "when two-factor sign-in is on."
        ),
    )


class TokenResponseSerializer(serializers.Serializer):
    token = serializers.CharField(help_text=_("Send it as `Authorization: Token <token>`; it is shown only this once."))
    expiry = serializers.DateTimeField(
        help_text=_("When the token expires unless it is used; each use moves this on, up to its maximum age.")
    )


class ApiTokenSerializer(serializers.ModelSerializer):
    """A device's token as its owner sees it: never the secret, only its first characters."""

    user = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = ApiToken
        fields = ["token_key", "user", "device", "created", "expiry", "last_used_at", "with_second_factor"]
        read_only_fields = fields


class RevokedSerializer(serializers.Serializer):
    revoked = serializers.IntegerField(help_text=_("How many tokens were revoked."))


# Zones


@extend_schema_field(
    {
        "type": "object",
        "description": "GeoJSON: Polygon or MultiPolygon for an area, LineString or MultiLineString for a route.",
        "properties": {
            "type": {"type": "string", "enum": ["Polygon", "MultiPolygon", "LineString", "MultiLineString"]},
            "coordinates": {"type": "array", "items": {}},
        },
        "required": ["type", "coordinates"],
    }
)
class GeoJSONGeometryField(GeometryField):
    """A GeoJSON geometry object (or its JSON text), as drawn on the map."""

    default_error_messages = {"invalid": _("Send the shape as a GeoJSON geometry with a type and coordinates.")}

    def to_internal_value(self, value):
        try:
            return geometry_from_geojson(value)
        except DjangoValidationError as error:
            raise serializers.ValidationError(error.messages) from error


class ZoneSerializer(GeoFeatureModelSerializer):
    """A patrol zone or route as a GeoJSON Feature."""

    district = serializers.SlugRelatedField(slug_field="code", read_only=True)

    class Meta:
        model = Zone
        geo_field = "geometry"
        # The id stays among the properties, where map clients look for it.
        id_field = False
        fields = ["id", "name", "kind", "district", "description", "is_archived"]


class ZoneInputSerializer(serializers.Serializer):
    district = SlugRelatedField(slug_field="code", queryset=District.objects.none())
    name = serializers.CharField(max_length=200)
    kind = serializers.ChoiceField(choices=ZoneKind.choices, default=ZoneKind.AREA)
    geometry = GeoJSONGeometryField()
    description = serializers.CharField(required=False, allow_blank=True, default="")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["district"].queryset = manageable_districts(_requesting_user(self))


# Shifts


class ShiftSerializer(serializers.ModelSerializer):
    """A shift with its staffing; `signed_up`, `waitlisted` and `my_assignment` come annotated with the list."""

    zone_name = serializers.CharField(source="zone.name", read_only=True)
    district = serializers.SlugRelatedField(slug_field="code", read_only=True)
    inspector = serializers.SlugRelatedField(slug_field="username", read_only=True)
    groups = serializers.SerializerMethodField()
    signed_up = serializers.IntegerField(read_only=True, help_text=_("Seats held: signed up, checked in, completed."))
    waitlisted = serializers.IntegerField(read_only=True, help_text=_("Volunteers on the waiting list."))
    understaffed = serializers.SerializerMethodField(help_text=_("A scheduled shift below its minimum."))
    my_assignment = serializers.ChoiceField(
        choices=AssignmentStatus.choices,
        read_only=True,
        allow_null=True,
        help_text=_("The status of your own sign-up for this shift, or null."),
    )

    class Meta:
        model = Shift
        list_serializer_class = RowListSerializer
        fields = [
            "id",
            "zone",
            "zone_name",
            "district",
            "series",
            "starts_at",
            "ends_at",
            "min_volunteers",
            "max_volunteers",
            "groups",
            "status",
            "cancel_reason",
            "signed_up",
            "waitlisted",
            "understaffed",
            "inspector",
            "briefing",
            "my_assignment",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.ListField(child=serializers.IntegerField()))
    def get_groups(self, obj) -> list[int]:
        # Prefetched into a plain list by shifts_with_staffing: no queryset is built per shift.
        return [group.pk for group in obj.invited_groups]

    def get_understaffed(self, obj) -> bool:
        return obj.status == ShiftStatus.SCHEDULED and obj.signed_up < obj.min_volunteers

    def row(self, row: dict) -> dict:
        """The fields above for one shift of a list, from `selectors.schedule.shift_rows` (RowListSerializer)."""
        return {
            "id": row["id"],
            "zone": row["zone_id"],
            "zone_name": row["zone_name"],
            "district": row["district_code"],
            "series": row["series_id"],
            "starts_at": moment(row["starts_at"]),
            "ends_at": moment(row["ends_at"]),
            "min_volunteers": row["min_volunteers"],
            "max_volunteers": row["max_volunteers"],
            "groups": row["groups"],
            "status": row["status"],
            "cancel_reason": row["cancel_reason"],
            "signed_up": row["signed_up"],
            "waitlisted": row["waitlisted"],
            "understaffed": row["status"] == ShiftStatus.SCHEDULED and row["signed_up"] < row["min_volunteers"],
            "inspector": row["inspector_username"],
            "briefing": row["briefing"],
            "my_assignment": row["my_assignment"],
        }


# A plan's zone and invited groups are the planner's own; its inspector is any active inspector.
# (A comment, not a docstring: the schema would take a docstring as the series input's description.)
class _PlanChoices:
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        user = _requesting_user(self)
        self.fields["zone"].queryset = Zone.objects.manageable_by(user)
        self.fields["groups"].child_relation.queryset = Group.objects.manageable_by(user)
        self.fields["inspector"].queryset = User.objects.filter(role=Role.INSPECTOR, is_active=True)


class ShiftInputSerializer(_PlanChoices, serializers.Serializer):
    """A one-off shift; the invited groups default to the district's groups, the inspector to the planner."""

    zone = serializers.PrimaryKeyRelatedField(queryset=Zone.objects.none())
    starts_at = serializers.DateTimeField()
    ends_at = serializers.DateTimeField()
    min_volunteers = serializers.IntegerField(min_value=1, max_value=500, default=2)
    max_volunteers = serializers.IntegerField(min_value=1, max_value=500, default=6)
    groups = serializers.PrimaryKeyRelatedField(many=True, queryset=Group.objects.none(), required=False)
    inspector = SlugRelatedField(slug_field="username", queryset=User.objects.none(), required=False, allow_null=True)
    briefing = serializers.CharField(required=False, allow_blank=True, default="")


class VolunteerChoiceSerializer(serializers.Serializer):
    volunteer = serializers.PrimaryKeyRelatedField(
        queryset=Volunteer.objects.none(),
        required=False,
        allow_null=True,
        help_text=_("Someone else (for a group leader or the inspector); yourself when omitted."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["volunteer"].queryset = Volunteer.objects.visible_to(_requesting_user(self))


class PositionSerializer(serializers.Serializer):
    lat = serializers.FloatField(help_text=_("Latitude from the phone, WGS84."))
    lng = serializers.FloatField(help_text=_("Longitude from the phone, WGS84."))
    accuracy = serializers.FloatField(
        required=False,
        allow_null=True,
        min_value=0,
        max_value=1_000_000,
        help_text=_("The phone's accuracy in metres (GeolocationCoordinates.accuracy)."),
    )


class CheckOutSerializer(PositionSerializer):
    reason = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        max_length=500,
        help_text=_("Why the volunteer leaves before the end of the shift (needed then)."),
    )


class CheckInDecisionSerializer(serializers.Serializer):
    volunteer = serializers.PrimaryKeyRelatedField(queryset=Volunteer.objects.none())
    decision = serializers.ChoiceField(choices=[("confirm", _("Confirm")), ("decline", _("Do not confirm"))])
    reason = serializers.CharField(required=False, allow_blank=True, default="", max_length=500)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["volunteer"].queryset = Volunteer.objects.visible_to(_requesting_user(self))


class HoursCorrectionSerializer(serializers.Serializer):
    volunteer = serializers.PrimaryKeyRelatedField(queryset=Volunteer.objects.none())
    hours = serializers.DecimalField(max_digits=4, decimal_places=2, min_value=0, max_value=24)
    reason = serializers.CharField(max_length=500)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["volunteer"].queryset = Volunteer.objects.visible_to(_requesting_user(self))


class AttendanceSerializer(serializers.ModelSerializer):
    """One volunteer on a shift: the sign-up, check-in and check-out, and how far from the zone they were."""

    volunteer_name = serializers.CharField(source="volunteer.full_name", read_only=True)
    signed_up_at = serializers.DateTimeField(source="created_at", read_only=True)
    patrol_hours = serializers.FloatField(
        read_only=True, help_text=_("Hours that count: clipped to the shift, 0 while the check-in waits.")
    )
    confirmed_by = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)
    confirmation_doubt = serializers.ChoiceField(
        choices=CheckInDoubt.choices,
        allow_blank=True,
        read_only=True,
        help_text=_("Why the check-in waits for confirmation; empty when it needs none."),
    )

    class Meta:
        model = Assignment
        fields = [
            "id",
            "shift",
            "volunteer",
            "volunteer_name",
            "status",
            "signed_up_at",
            "check_in_at",
            "check_in_distance_m",
            "check_in_outside",
            "check_in_accuracy_m",
            "confirmation",
            "confirmation_doubt",
            "confirmed_by",
            "confirmed_at",
            "check_out_at",
            "check_out_distance_m",
            "check_out_outside",
            "check_out_reason",
            "closed_automatically",
            "patrol_hours",
            "corrected_minutes",
            "cancelled_at",
            "cancelled_late",
            "note",
        ]
        read_only_fields = fields

    @staticmethod
    def row(obj) -> dict:
        """The fields above for one sign-up, as a plain function of it (its volunteer and confirmer read with it):
        the answer to every sign-up, cancel, check-in and check-out."""
        number = _int_or_none
        return {
            "id": obj.pk,
            "shift": obj.shift_id,
            "volunteer": obj.volunteer_id,
            "volunteer_name": obj.volunteer.full_name,
            "status": obj.status,
            "signed_up_at": moment(obj.created_at),
            "check_in_at": moment(obj.check_in_at),
            "check_in_distance_m": number(obj.check_in_distance_m),
            "check_in_outside": bool(obj.check_in_outside),
            "check_in_accuracy_m": number(obj.check_in_accuracy_m),
            "confirmation": obj.confirmation,
            "confirmation_doubt": obj.confirmation_doubt,
            "confirmed_by": obj.confirmed_by.username if obj.confirmed_by_id else None,
            "confirmed_at": moment(obj.confirmed_at),
            "check_out_at": moment(obj.check_out_at),
            "check_out_distance_m": number(obj.check_out_distance_m),
            "check_out_outside": bool(obj.check_out_outside),
            "check_out_reason": obj.check_out_reason,
            "closed_automatically": bool(obj.closed_automatically),
            "patrol_hours": float(obj.patrol_hours),
            "corrected_minutes": number(obj.corrected_minutes),
            "cancelled_at": moment(obj.cancelled_at),
            "cancelled_late": bool(obj.cancelled_late),
            "note": obj.note,
        }


def _int_or_none(value) -> int | None:
    return None if value is None else int(value)


ATTENDANCE_MARKS = [
    (AssignmentStatus.NO_SHOW.value, AssignmentStatus.NO_SHOW.label),
    (AssignmentStatus.EXCUSED.value, AssignmentStatus.EXCUSED.label),
]


class AttendanceMarkSerializer(serializers.Serializer):
    volunteer = serializers.PrimaryKeyRelatedField(queryset=Volunteer.objects.none())
    status = serializers.ChoiceField(choices=ATTENDANCE_MARKS)
    note = serializers.CharField(required=False, allow_blank=True, default="")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["volunteer"].queryset = Volunteer.objects.visible_to(_requesting_user(self))


class ShiftEventSerializer(serializers.ModelSerializer):
    kind_label = serializers.CharField(source="get_kind_display", read_only=True)
    by = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)
    volunteer_name = serializers.SerializerMethodField()

    class Meta:
        model = ShiftEvent
        fields = ["id", "kind", "kind_label", "by", "volunteer", "volunteer_name", "details", "at"]
        read_only_fields = fields

    def get_volunteer_name(self, obj) -> str:
        return obj.volunteer.full_name if obj.volunteer_id else ""


# Weekly series


class ShiftSeriesSerializer(serializers.ModelSerializer):
    zone_name = serializers.CharField(source="zone.name", read_only=True)
    district = serializers.SlugRelatedField(slug_field="code", read_only=True)
    inspector = serializers.SlugRelatedField(slug_field="username", read_only=True)
    groups = serializers.PrimaryKeyRelatedField(many=True, read_only=True)
    weekdays = serializers.ListField(child=serializers.IntegerField(), read_only=True)

    class Meta:
        model = ShiftSeries
        fields = [
            "id",
            "zone",
            "zone_name",
            "district",
            "weekdays",
            "start_time",
            "end_time",
            "starts_on",
            "ends_on",
            "min_volunteers",
            "max_volunteers",
            "groups",
            "inspector",
            "briefing",
            "is_active",
            "generated_until",
            "created_at",
        ]
        read_only_fields = fields


class ShiftSeriesInputSerializer(_PlanChoices, serializers.Serializer):
    zone = serializers.PrimaryKeyRelatedField(queryset=Zone.objects.none())
    weekdays = serializers.ListField(
        child=serializers.IntegerField(), help_text=_("ISO weekdays: 1 is Monday, 7 is Sunday.")
    )
    start_time = serializers.TimeField()
    end_time = serializers.TimeField(help_text=_("An end at or before the start means the next day."))
    starts_on = serializers.DateField()
    ends_on = serializers.DateField(required=False, allow_null=True, default=None)
    min_volunteers = serializers.IntegerField(min_value=1, max_value=500, default=2)
    max_volunteers = serializers.IntegerField(min_value=1, max_value=500, default=6)
    groups = serializers.PrimaryKeyRelatedField(many=True, queryset=Group.objects.none(), required=False)
    inspector = SlugRelatedField(slug_field="username", queryset=User.objects.none(), required=False, allow_null=True)
    briefing = serializers.CharField(required=False, allow_blank=True, default="")


# The inbox


class NotificationSerializer(serializers.ModelSerializer):
    read = serializers.BooleanField(read_only=True)
    text = serializers.SerializerMethodField(help_text=_("The message as a sentence, in the reader's language."))

    class Meta:
        model = Notification
        fields = ["id", "kind", "shift", "report", "created_at", "read", "read_at", "text"]
        read_only_fields = fields

    def get_text(self, obj) -> str:
        return render(obj, language=get_language()).body


class ReadAllSerializer(serializers.Serializer):
    marked = serializers.IntegerField(help_text=_("How many unread messages were marked as read."))
