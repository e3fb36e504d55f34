"""Prevention work through the API: meetings with residents (logged once per `client_uuid`, planned or held, photos,
history), village initiatives with the evidence whether they work, the registered crimes per settlement and month
(one month, or a district's table), and the managed lists of topics and kinds of initiative.

Querysets come from `scope`, writes go to `services.meetings`; serializers only shape and parse.
"""

import django_filters
from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Prefetch
from django.http import Http404
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_field, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.reverse import reverse

from ..choices import NEW_MEETING_STATUSES, InitiativeStatus, MeetingKind, MeetingStatus
from ..filters import MomentBoundFilter
from ..models import (
    Group,
    Initiative,
    InitiativeKind,
    Meeting,
    MeetingEvent,
    MeetingPhoto,
    Settlement,
    SettlementCrimeCount,
    Topic,
    User,
    Volunteer,
)
from ..services import crime_counts, initiatives, meetings, villages
from ..services.geometry import point_from
from .fields import SlugRelatedField
from .reports import PhotoInputSerializer, listed_photo_response, photo_response
from .views import ScopedReadMixin

# Managed lists


class TopicSerializer(serializers.ModelSerializer):
    name = serializers.CharField(read_only=True, help_text=gettext_lazy("The name in the request's language."))

    class Meta:
        model = Topic
        fields = ["code", "name", "name_kk", "name_ru", "name_en"]


class TopicViewSet(viewsets.ReadOnlyModelViewSet):
    """What meetings with residents are about (active topics only)."""

    queryset = Topic.objects.filter(is_active=True)
    serializer_class = TopicSerializer
    lookup_field = "code"
    pagination_class = None


# Output


class MeetingPhotoSerializer(serializers.ModelSerializer):
    url = serializers.SerializerMethodField()

    class Meta:
        model = MeetingPhoto
        fields = ["id", "url", "width", "height"]

    def get_url(self, obj) -> str:
        """The photo through the app, which checks the reader's scope; never the storage's own address."""
        return reverse("api:meeting-photo-file", args=[obj.meeting_id, obj.pk], request=self.context.get("request"))


class MeetingEventSerializer(serializers.ModelSerializer):
    kind_label = serializers.CharField(source="get_kind_display", read_only=True)
    by = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)

    class Meta:
        model = MeetingEvent
        fields = ["kind", "kind_label", "changes", "note", "by", "at"]


class MeetingSerializer(serializers.ModelSerializer):
    settlement = serializers.SlugRelatedField(slug_field="code", read_only=True)
    district = serializers.SlugRelatedField(slug_field="code", read_only=True)
    lat = serializers.SerializerMethodField()
    lng = serializers.SerializerMethodField()
    kind_label = serializers.CharField(source="get_kind_display", read_only=True)
    status_label = serializers.CharField(source="get_status_display", read_only=True)
    topics = serializers.SlugRelatedField(slug_field="code", many=True, read_only=True)
    officers = serializers.SlugRelatedField(slug_field="username", many=True, read_only=True)
    attendees = serializers.SerializerMethodField()
    photos = MeetingPhotoSerializer(source="listed_photos", many=True, read_only=True)

    class Meta:
        model = Meeting
        fields = [
            "id",
            "client_uuid",
            "settlement",
            "district",
            "lat",
            "lng",
            "held_at",
            "duration_minutes",
            "kind",
            "kind_label",
            "status",
            "status_label",
            "topics",
            "residents",
            "groups",
            "officers",
            "attendees",
            "akimat_representatives",
            "decisions",
            "notes",
            "cancel_reason",
            "photos",
            "created_at",
        ]

    def get_lat(self, obj) -> float:
        return round(obj.location.y, 6)

    def get_lng(self, obj) -> float:
        return round(obj.location.x, 6)

    def get_attendees(self, obj) -> list[int]:
        """The ids of the volunteers who took part."""
        return sorted(attendee.volunteer_id for attendee in obj.attendees.all())


class MeetingDetailSerializer(MeetingSerializer):
    """A meeting with its history, newest first."""

    history = MeetingEventSerializer(source="events", many=True, read_only=True)

    class Meta(MeetingSerializer.Meta):
        fields = [*MeetingSerializer.Meta.fields, "history"]


# Input


class _ScopedChoices(serializers.Serializer):
    """Groups and volunteers are chosen among those the user sees: another district's read as not found."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        user = request.user if request else None
        for name, model in (("groups", Group), ("attendees", Volunteer)):
            if name in self.fields:
                self.fields[name].child_relation.queryset = model.objects.visible_to(user)


class _MeetingFields(_ScopedChoices):
    settlement = SlugRelatedField(slug_field="code", queryset=Settlement.objects.select_related("district"))
    lat = serializers.FloatField(
        required=False, help_text=gettext_lazy("Where it took place; the settlement's centre when omitted.")
    )
    lng = serializers.FloatField(required=False)
    held_at = serializers.DateTimeField(help_text=gettext_lazy("When it is planned, or when it took place."))
    duration_minutes = serializers.IntegerField(required=False)
    kind = serializers.ChoiceField(choices=MeetingKind.choices)
    # Negative numbers pass here so that the service answers with its own message.
    residents = serializers.IntegerField(required=False, allow_null=True)
    topics = SlugRelatedField(slug_field="code", queryset=Topic.objects.all(), many=True, required=False)
    groups = serializers.PrimaryKeyRelatedField(queryset=Group.objects.none(), many=True, required=False)
    officers = SlugRelatedField(
        slug_field="username",
        queryset=User.objects.filter(is_active=True),
        many=True,
        required=False,
        help_text=gettext_lazy("The inspectors and chiefs who held it (usernames); you when omitted."),
    )
    attendees = serializers.PrimaryKeyRelatedField(
        queryset=Volunteer.objects.none(),
        many=True,
        required=False,
        help_text=gettext_lazy("The volunteers who took part: once it is held, its minutes go to their hours."),
    )
    akimat_representatives = serializers.CharField(required=False, allow_blank=True)
    decisions = serializers.CharField(required=False, allow_blank=True)
    notes = serializers.CharField(required=False, allow_blank=True)


class MeetingInputSerializer(_MeetingFields):
    client_uuid = serializers.UUIDField(
        help_text=gettext_lazy("The meeting's id made on the device; sending it again returns the first meeting.")
    )
    status = serializers.ChoiceField(
        choices=NEW_MEETING_STATUSES,
        required=False,
        default=MeetingStatus.PLANNED,
    )


class MeetingChangeSerializer(_MeetingFields):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            field.required = False


class MeetingHoldSerializer(MeetingChangeSerializer):
    residents = serializers.IntegerField(allow_null=True, help_text=gettext_lazy("How many residents came."))


class CancelInputSerializer(serializers.Serializer):
    reason = serializers.CharField(allow_blank=True)


def meeting_changes(data: dict) -> dict:
    """The service's keyword arguments from parsed input: a position as a point, the rest as it is."""
    changes = {key: value for key, value in data.items() if key not in {"lat", "lng", "client_uuid", "status"}}
    if "lat" in data or "lng" in data:
        changes["point"] = point_from(data.get("lat"), data.get("lng"))
    return changes


# Filters


class MeetingFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=MeetingStatus.choices, label=gettext_lazy("status"))
    kind = django_filters.ChoiceFilter(choices=MeetingKind.choices, label=gettext_lazy("kind"))
    district = django_filters.CharFilter(field_name="district__code", label=gettext_lazy("district code"))
    settlement = django_filters.CharFilter(field_name="settlement__code", label=gettext_lazy("settlement code"))
    topic = django_filters.CharFilter(field_name="topics__code", distinct=True, label=gettext_lazy("topic code"))
    held_from = MomentBoundFilter(
        field_name="held_at", edge="from", label=gettext_lazy("from: at or after this date or time")
    )
    held_to = MomentBoundFilter(
        field_name="held_at", edge="to", label=gettext_lazy("to: before this date or time (a date: its end)")
    )

    class Meta:
        model = Meeting
        fields = ["status", "kind", "district", "settlement", "topic"]


MeetingFilter.base_filters["from"] = MeetingFilter.base_filters.pop("held_from")
MeetingFilter.base_filters["to"] = MeetingFilter.base_filters.pop("held_to")


# Endpoints


def _status_code(created: bool) -> int:
    return status.HTTP_201_CREATED if created else status.HTTP_200_OK


@extend_schema_view(
    retrieve=extend_schema(responses=MeetingDetailSerializer),
    create=extend_schema(
        request=MeetingInputSerializer,
        responses={201: MeetingDetailSerializer, 200: MeetingDetailSerializer},
        description=gettext_lazy(
            "Log a meeting, planned or held. 201 with the new meeting; 200 with the first meeting when its "
            "`client_uuid` was already received (a retry), whatever the body says."
        ),
    ),
    partial_update=extend_schema(request=MeetingChangeSerializer, responses=MeetingDetailSerializer),
    update=extend_schema(request=MeetingChangeSerializer, responses=MeetingDetailSerializer),
)
class MeetingViewSet(
    ScopedReadMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    model = Meeting
    serializer_class = MeetingSerializer
    filterset_class = MeetingFilter
    denied_message = gettext_lazy("You can see this meeting but not change it.")

    def get_queryset(self):
        found = (
            self.base_queryset()
            .select_related("settlement", "district")
            .defer("district__boundary", "district__centre", "settlement__boundary")
            .prefetch_related("topics", "officers", "groups", "attendees", Prefetch("photos", to_attr="listed_photos"))
        )
        if self.action not in ("list", "photo_file"):
            found = found.prefetch_related(Prefetch("events", queryset=MeetingEvent.objects.select_related("by")))
        return found

    def get_serializer_class(self):
        return MeetingSerializer if self.action == "list" else MeetingDetailSerializer

    def _input(self, serializer_class, **kwargs):
        data = serializer_class(data=self.request.data, context=self.get_serializer_context(), **kwargs)
        data.is_valid(raise_exception=True)
        return data.validated_data

    def _output(self, meeting, code=status.HTTP_200_OK):
        fresh = self.get_queryset().get(pk=meeting.pk)
        return Response(MeetingDetailSerializer(fresh, context=self.get_serializer_context()).data, status=code)

    def create(self, request, *args, **kwargs):
        if not meetings.may_log_meetings(request.user):
            raise PermissionDenied(_("Only inspectors and chiefs log meetings with residents."))
        data = self._input(MeetingInputSerializer)
        meeting, created = meetings.meeting_record(
            by=request.user, client_uuid=data["client_uuid"], status=data["status"], **meeting_changes(data)
        )
        return self._output(meeting, _status_code(created))

    def update(self, request, *args, **kwargs):
        meeting = self.get_object()
        data = self._input(MeetingChangeSerializer)
        return self._output(meetings.meeting_update(meeting=meeting, by=request.user, **meeting_changes(data)))

    @extend_schema(request=MeetingHoldSerializer, responses=MeetingDetailSerializer)
    @action(detail=True, methods=["post"])
    def hold(self, request, pk=None):
        """Mark a planned meeting held, with how many residents came: from now on it counts."""
        meeting = self.get_object()
        changes = meeting_changes(self._input(MeetingHoldSerializer))
        residents = changes.pop("residents", None)
        return self._output(meetings.meeting_hold(meeting=meeting, by=request.user, residents=residents, **changes))

    @extend_schema(request=CancelInputSerializer, responses=MeetingDetailSerializer)
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        """Cancel a planned meeting, or withdraw a held one logged by mistake (it stops counting)."""
        meeting = self.get_object()
        data = self._input(CancelInputSerializer)
        return self._output(meetings.meeting_cancel(meeting=meeting, by=request.user, reason=data["reason"]))

    @extend_schema(
        request={"multipart/form-data": PhotoInputSerializer},
        responses={201: MeetingPhotoSerializer, 200: MeetingPhotoSerializer},
        description=gettext_lazy(
            "Attach one photo of the meeting. 201 when added; 200 when the same photo was already attached (a retry)."
        ),
    )
    @action(detail=True, methods=["post"], parser_classes=[MultiPartParser, FormParser])
    def photos(self, request, pk=None):
        meeting = self.get_object()
        data = self._input(PhotoInputSerializer)
        photo, created = meetings.meeting_photo_add(meeting=meeting, by=request.user, upload=data["photo"])
        return Response(
            MeetingPhotoSerializer(photo, context=self.get_serializer_context()).data, status=_status_code(created)
        )

    @extend_schema(
        request=None,
        responses={(200, "image/jpeg"): OpenApiResponse(OpenApiTypes.BINARY, description=gettext_lazy("The photo."))},
        description=gettext_lazy("One photo of a meeting you may see (out of scope is 404)."),
    )
    @action(detail=True, methods=["get"], url_path=r"photos/(?P<photo_id>[0-9]+)", url_name="photo-file")
    def photo_file(self, request, pk=None, photo_id=None):
        return listed_photo_response(self.get_object(), photo_id)


# Village initiatives


class InitiativeKindSerializer(serializers.ModelSerializer):
    name = serializers.CharField(read_only=True, help_text=gettext_lazy("The name in the request's language."))

    class Meta:
        model = InitiativeKind
        fields = ["code", "name", "name_kk", "name_ru", "name_en"]


class InitiativeKindViewSet(viewsets.ReadOnlyModelViewSet):
    """Kinds of village initiative (active ones only): alcohol refusal first."""

    queryset = InitiativeKind.objects.filter(is_active=True)
    serializer_class = InitiativeKindSerializer
    lookup_field = "code"
    pagination_class = None


class MonthsSpanSerializer(serializers.Serializer):
    months = serializers.IntegerField()
    recorded = serializers.IntegerField(help_text=gettext_lazy("How many of those months have a count."))
    crimes = serializers.IntegerField()
    complete = serializers.BooleanField(help_text=gettext_lazy("Every month has a count."))


class EvidenceSerializer(serializers.Serializer):
    months = serializers.IntegerField(help_text=gettext_lazy("Months that ended since the adoption month."))
    before = MonthsSpanSerializer(help_text=gettext_lazy("As many months before the adoption."))
    after = MonthsSpanSerializer()


class InitiativeSerializer(serializers.ModelSerializer):
    settlement = serializers.SlugRelatedField(slug_field="code", read_only=True)
    district = serializers.SlugRelatedField(slug_field="code", read_only=True)
    kind = serializers.SlugRelatedField(slug_field="code", read_only=True)
    kind_label = serializers.CharField(source="kind.name", read_only=True)
    status_label = serializers.CharField(source="get_status_display", read_only=True)
    document = serializers.SerializerMethodField()

    class Meta:
        model = Initiative
        fields = [
            "id",
            "settlement",
            "district",
            "kind",
            "kind_label",
            "adopted_on",
            "status",
            "status_label",
            "lapsed_on",
            "lapse_reason",
            "meeting",
            "document",
        ]

    @extend_schema_field(serializers.URLField(allow_null=True))
    def get_document(self, obj):
        """The protocol's scan through the app (it checks the reader's scope), or null."""
        if not obj.document:
            return None
        return reverse("api:initiative-document", args=[obj.pk], request=self.context.get("request"))


class InitiativeDetailSerializer(InitiativeSerializer):
    evidence = serializers.SerializerMethodField()

    class Meta(InitiativeSerializer.Meta):
        fields = [*InitiativeSerializer.Meta.fields, "evidence"]

    @extend_schema_field(EvidenceSerializer)
    def get_evidence(self, obj):
        """The crimes after the adoption and in as many months before it: whether the initiative works."""
        evidence = villages.initiative_evidence(obj)
        return EvidenceSerializer(evidence).data


class InitiativeInputSerializer(serializers.Serializer):
    settlement = SlugRelatedField(slug_field="code", queryset=Settlement.objects.select_related("district"))
    kind = SlugRelatedField(slug_field="code", queryset=InitiativeKind.objects.all())
    adopted_on = serializers.DateField()
    meeting = serializers.PrimaryKeyRelatedField(queryset=Meeting.objects.none(), required=False, allow_null=True)
    document = serializers.FileField(
        required=False, allow_empty_file=True, help_text=gettext_lazy("A scan or photo of the protocol.")
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        self.fields["meeting"].queryset = Meeting.objects.visible_to(request.user if request else None)


class LapseInputSerializer(serializers.Serializer):
    lapsed_on = serializers.DateField()
    reason = serializers.CharField(allow_blank=True)


class DocumentInputSerializer(serializers.Serializer):
    document = serializers.FileField(allow_empty_file=True, help_text=gettext_lazy("A scan or photo of the protocol."))


class InitiativeFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=InitiativeStatus.choices, label=gettext_lazy("status"))
    kind = django_filters.CharFilter(field_name="kind__code", label=gettext_lazy("kind code"))
    district = django_filters.CharFilter(field_name="district__code", label=gettext_lazy("district code"))
    settlement = django_filters.CharFilter(field_name="settlement__code", label=gettext_lazy("settlement code"))

    class Meta:
        model = Initiative
        fields = ["status", "kind", "district", "settlement"]


@extend_schema_view(
    retrieve=extend_schema(responses=InitiativeDetailSerializer),
    create=extend_schema(
        request={"application/json": InitiativeInputSerializer, "multipart/form-data": InitiativeInputSerializer},
        responses={201: InitiativeDetailSerializer},
    ),
)
class InitiativeViewSet(
    ScopedReadMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, viewsets.GenericViewSet
):
    model = Initiative
    serializer_class = InitiativeSerializer
    filterset_class = InitiativeFilter
    denied_message = gettext_lazy("You can see this initiative but not change it.")

    def get_queryset(self):
        return self.base_queryset().select_related("settlement", "district", "kind")

    def get_serializer_class(self):
        return InitiativeSerializer if self.action == "list" else InitiativeDetailSerializer

    def _input(self, serializer_class):
        data = serializer_class(data=self.request.data, context=self.get_serializer_context())
        data.is_valid(raise_exception=True)
        return data.validated_data

    def _output(self, initiative, code=status.HTTP_200_OK):
        fresh = self.get_queryset().get(pk=initiative.pk)
        return Response(InitiativeDetailSerializer(fresh, context=self.get_serializer_context()).data, status=code)

    def create(self, request, *args, **kwargs):
        if not meetings.may_log_meetings(request.user):
            raise PermissionDenied(_("Only inspectors and chiefs record village initiatives."))
        data = self._input(InitiativeInputSerializer)
        initiative = initiatives.initiative_record(by=request.user, **data)
        return self._output(initiative, status.HTTP_201_CREATED)

    @extend_schema(request=LapseInputSerializer, responses=InitiativeDetailSerializer)
    @action(detail=True, methods=["post"])
    def lapse(self, request, pk=None):
        """The settlement no longer keeps the commitment: lapsed from a date, with the reason."""
        initiative = self.get_object()
        data = self._input(LapseInputSerializer)
        return self._output(initiatives.initiative_lapse(initiative=initiative, by=request.user, **data))

    @extend_schema(
        methods=["POST"], request={"multipart/form-data": DocumentInputSerializer}, responses=InitiativeDetailSerializer
    )
    @extend_schema(
        methods=["GET"],
        request=None,
        responses={(200, "image/jpeg"): OpenApiResponse(OpenApiTypes.BINARY, description=gettext_lazy("The scan."))},
    )
    @action(detail=True, methods=["get", "post"], parser_classes=[MultiPartParser, FormParser])
    def document(self, request, pk=None):
        """The scan or photo of the protocol: GET it (in scope), POST a new one."""
        initiative = self.get_object()
        if request.method == "POST":
            data = self._input(DocumentInputSerializer)
            attached = initiatives.initiative_document_attach(
                initiative=initiative, by=request.user, upload=data["document"]
            )
            return self._output(attached)
        if not initiative.document:
            raise Http404
        return photo_response(initiative.document)


# Registered crimes per settlement and month


class MonthField(serializers.Field):
    """A month as `YYYY-MM`."""

    default_error_messages = {"invalid": gettext_lazy("Write the month as YYYY-MM, for example 2026-03.")}

    def to_representation(self, value) -> str:
        return f"{value:%Y-%m}"

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        try:
            return crime_counts.parse_month(data)
        except DjangoValidationError:
            self.fail("invalid")


extend_schema_field({"type": "string", "pattern": r"^\d{4}-\d{2}$", "example": "2026-03"})(MonthField)


class CrimeCountSerializer(serializers.ModelSerializer):
    settlement = serializers.SlugRelatedField(slug_field="code", read_only=True)
    district = serializers.SlugRelatedField(slug_field="code", read_only=True)
    month = MonthField(read_only=True)

    class Meta:
        model = SettlementCrimeCount
        fields = ["settlement", "district", "month", "registered", "source", "updated_at"]


class CrimeCountInputSerializer(serializers.Serializer):
    settlement = SlugRelatedField(slug_field="code", queryset=Settlement.objects.select_related("district"))
    month = MonthField()
    # Negative numbers pass here so that the service answers with its own message.
    registered = serializers.IntegerField(help_text=gettext_lazy("Crimes registered in ЕРДР that month, 0 when none."))
    source = serializers.CharField(required=False, allow_blank=True, default="")


class CrimeImportInputSerializer(serializers.Serializer):
    file = serializers.FileField(
        allow_empty_file=True,
        help_text=gettext_lazy("CSV or XLSX with the columns settlement (KATO code), month, registered, source."),
    )


class ImportProblemSerializer(serializers.Serializer):
    row = serializers.IntegerField(allow_null=True, help_text=gettext_lazy("The row in the file (the header is 1)."))
    field = serializers.CharField()
    message = serializers.CharField()


class CrimeImportRefusedSerializer(serializers.Serializer):
    """A refused import names each problem by its row; other input errors come by field, as everywhere."""

    non_field_errors = serializers.ListField(child=serializers.CharField(), required=False)
    problems = ImportProblemSerializer(many=True, required=False)


class CrimeImportResultSerializer(serializers.Serializer):
    created = serializers.IntegerField()
    updated = serializers.IntegerField()
    unchanged = serializers.IntegerField()


class CrimeCountFilter(django_filters.FilterSet):
    district = django_filters.CharFilter(field_name="district__code", label=gettext_lazy("district code"))
    settlement = django_filters.CharFilter(field_name="settlement__code", label=gettext_lazy("settlement code"))
    year = django_filters.NumberFilter(
        field_name="month__year", label=gettext_lazy("year"), min_value=crime_counts.FIRST_YEAR, max_value=2100
    )

    class Meta:
        model = SettlementCrimeCount
        fields = ["district", "settlement", "year"]


@extend_schema_view(
    create=extend_schema(
        request=CrimeCountInputSerializer,
        responses={201: CrimeCountSerializer, 200: CrimeCountSerializer},
        description=gettext_lazy(
            "Record a settlement's registered crimes of a month: 201 when new, 200 when it replaced the month's count."
        ),
    ),
)
class CrimeCountViewSet(ScopedReadMixin, mixins.ListModelMixin, mixins.CreateModelMixin, viewsets.GenericViewSet):
    model = SettlementCrimeCount
    serializer_class = CrimeCountSerializer
    filterset_class = CrimeCountFilter

    def get_queryset(self):
        return self.base_queryset().select_related("settlement", "district").order_by("settlement__code", "-month")

    def create(self, request, *args, **kwargs):
        if not meetings.may_log_meetings(request.user):
            raise PermissionDenied(_("Only inspectors and chiefs record registered crimes."))
        data = CrimeCountInputSerializer(data=request.data, context=self.get_serializer_context())
        data.is_valid(raise_exception=True)
        row, created = crime_counts.crime_count_record(by=request.user, **data.validated_data)
        return Response(CrimeCountSerializer(row).data, status=_status_code(created))

    @extend_schema(
        request={"multipart/form-data": CrimeImportInputSerializer},
        responses={200: CrimeImportResultSerializer, 400: CrimeImportRefusedSerializer},
        description=gettext_lazy(
            "Import a table of monthly counts. All rows or none: with one wrong row nothing is written and the "
            "answer (400) names every problem by its row."
        ),
    )
    @action(detail=False, methods=["post"], url_path="import", parser_classes=[MultiPartParser, FormParser])
    def bulk_import(self, request):
        if not meetings.may_log_meetings(request.user):
            raise PermissionDenied(_("Only inspectors and chiefs record registered crimes."))
        data = CrimeImportInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        upload = data.validated_data["file"]
        if upload.size > settings.ROSTER_IMPORT_MAX_BYTES:
            raise ValidationError({"file": [_("The file is too large.")]})
        try:
            result = crime_counts.crime_counts_import(by=request.user, data=upload.read())
        except crime_counts.ImportRefused as refused:
            return Response(
                {"non_field_errors": refused.messages, "problems": refused.problems},
                status=status.HTTP_400_BAD_REQUEST,
            )
        return Response(CrimeImportResultSerializer(result).data)
