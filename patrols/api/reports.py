"""Reports through the API: filing from the phone (once per `client_uuid`), photos, verification with its history,
and the managed lists the report form needs (categories and outcomes).

Querysets come from `scope`, writes go to `services.reporting`; serializers only shape and parse.
"""

from urllib.parse import quote

import django_filters
from django.conf import settings
from django.core.files.storage import FileSystemStorage
from django.db.models import Prefetch
from django.db.models.fields.files import FieldFile
from django.http import FileResponse, Http404, HttpResponse, HttpResponseRedirect
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_filters.rest_framework import BooleanFilter
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_field, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.reverse import reverse

from ..choices import AccessChannel, ReportFlag, ReportStatus
from ..filters import MomentBoundFilter
from ..models import Category, Outcome, Report, ReportEvent, ReportPhoto
from ..prepared import PreparedQuery
from ..scope import manageable_districts, scoped_as_volunteer, sees_third_party_details
from ..selectors import reference
from ..selectors.reports import own_reports_count, own_reports_first_page
from ..services import audit, reporting
from ..services.geometry import point_from
from .escalation import ESCALATE_SCHEMA, EscalationSerializer, escalate_response
from .fields import ReferenceSlugField, RowListSerializer, moment
from .pagination import first_page_response
from .throttles import PhotoThrottle, ReportThrottle

# Managed lists


class CategorySerializer(serializers.ModelSerializer):
    name = serializers.CharField(read_only=True, help_text=gettext_lazy("The name in the request's language."))

    class Meta:
        model = Category
        fields = ["code", "name", "name_kk", "name_ru", "name_en"]


class OutcomeSerializer(serializers.ModelSerializer):
    name = serializers.CharField(read_only=True, help_text=gettext_lazy("The name in the request's language."))

    class Meta:
        model = Outcome
        fields = ["code", "name", "name_kk", "name_ru", "name_en", "requires_case_number"]


class CategoryViewSet(viewsets.ReadOnlyModelViewSet):
    """Offense types a report can have (active ones only)."""

    queryset = Category.objects.filter(is_active=True)
    serializer_class = CategorySerializer
    lookup_field = "code"
    pagination_class = None


class OutcomeViewSet(viewsets.ReadOnlyModelViewSet):
    """What a report's action achieved; `solved` needs a police case number."""

    queryset = Outcome.objects.all()
    serializer_class = OutcomeSerializer
    lookup_field = "code"
    pagination_class = None


# Output


def photo_response(image: FieldFile):
    """A stored photo's bytes from the media folder, or a redirect to the bucket's signed, expiring link.

    Either way the reader's scope was checked first: photos show faces, cars and homes, and the storage's own
    address (public under MEDIA_URL for a folder) is never handed out. With PHOTOS_X_ACCEL_REDIRECT on, the bytes
    from the folder are sent by nginx.
    """
    if not isinstance(image.storage, FileSystemStorage):
        # A bucket: its signed link lets the browser fetch the photo from the bucket itself.
        return HttpResponseRedirect(image.url)
    if settings.PHOTOS_X_ACCEL_REDIRECT:
        # nginx sends the file from its `internal` location (deploy/nginx/coordination.conf): no Python process is
        # held for as long as a slow phone takes to download it. Every stored photo is a JPEG (services.photos).
        response = HttpResponse(content_type="image/jpeg")
        response["X-Accel-Redirect"] = settings.PHOTOS_X_ACCEL_PREFIX + quote(image.name)
    else:
        response = FileResponse(image.open("rb"), content_type="image/jpeg")
    # A photo never changes once stored; only the reader's own browser may keep it.
    response["Cache-Control"] = "private, max-age=86400"
    return response


def listed_photo_response(owner, photo_id: str):
    """One of a report's or a meeting's photos (`owner.listed_photos`, read in scope), or 404."""
    photo = next((photo for photo in owner.listed_photos if str(photo.pk) == photo_id), None)
    if photo is None:
        raise Http404
    return photo_response(photo.image)


class PhotoSerializer(serializers.ModelSerializer):
    url = serializers.SerializerMethodField()

    class Meta:
        model = ReportPhoto
        fields = ["id", "url", "width", "height"]

    def get_url(self, obj) -> str:
        """The photo through the app, which checks the reader's scope; never the storage's own address."""
        return reverse("api:report-photo-file", args=[obj.report_id, obj.pk], request=self.context.get("request"))


class ReportFlagSerializer(serializers.Serializer):
    code = serializers.ChoiceField(choices=ReportFlag.choices)
    label = serializers.CharField()
    details = serializers.DictField(
        help_text=gettext_lazy("Figures behind the flag: distance, speed, similar reports.")
    )


class ReportEventSerializer(serializers.ModelSerializer):
    kind_label = serializers.CharField(source="get_kind_display", read_only=True)
    by = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)
    note = serializers.CharField(
        source="note_text",
        read_only=True,
        help_text=gettext_lazy(
            "The app's own reason in the reader's language (Accept-Language), then what was written."
        ),
    )
    reason = serializers.CharField(
        read_only=True, help_text=gettext_lazy("The app's own reason as a code (`duplicate`), or empty.")
    )
    reason_params = serializers.DictField(
        read_only=True, help_text=gettext_lazy("The facts of the reason: `number`, the original report's id.")
    )

    class Meta:
        model = ReportEvent
        fields = ["kind", "kind_label", "from_status", "to_status", "note", "reason", "reason_params", "by", "at"]

    @staticmethod
    def row(event: ReportEvent) -> dict:
        """The fields above for one line, as a plain function of it (`by` read with it)."""
        return {
            "kind": event.kind,
            "kind_label": str(event.get_kind_display()),
            "from_status": event.from_status,
            "to_status": event.to_status,
            "note": event.note_text,
            "reason": event.reason,
            "reason_params": {str(key): value for key, value in (event.reason_params or {}).items()},
            "by": event.by.username if event.by_id else None,
            "at": moment(event.at),
        }


def _is_police(serializer) -> bool:
    request = serializer.context.get("request")
    return request is not None and sees_third_party_details(request.user)


class ReportSerializer(serializers.ModelSerializer):
    """A report as the contract gives it; other people's details only for inspectors and above."""

    lat = serializers.SerializerMethodField()
    lng = serializers.SerializerMethodField()
    category = serializers.SlugRelatedField(slug_field="code", read_only=True)
    outcome = serializers.SlugRelatedField(slug_field="code", read_only=True)
    district = serializers.SlugRelatedField(slug_field="code", read_only=True)
    status_label = serializers.CharField(source="get_status_display", read_only=True)
    reporter_name = serializers.CharField(source="reporter.full_name", read_only=True)
    flags = serializers.SerializerMethodField()
    photos = PhotoSerializer(source="listed_photos", many=True, read_only=True)
    third_party_details = serializers.SerializerMethodField()
    status_note = serializers.CharField(
        source="status_note_text",
        read_only=True,
        help_text=gettext_lazy(
            "The reason or question in the reader's language (Accept-Language): a duplicate names its original."
        ),
    )
    status_reason = serializers.CharField(
        read_only=True,
        help_text=gettext_lazy("The app's own reason for the status as a code (`duplicate`), or empty."),
    )

    class Meta:
        model = Report
        list_serializer_class = RowListSerializer
        fields = [
            "id",
            "client_uuid",
            "occurred_at",
            "lat",
            "lng",
            "category",
            "outcome",
            "description",
            "shift",
            "case_number",
            "status",
            "status_label",
            "status_note",
            "status_reason",
            "district",
            "reporter",
            "reporter_name",
            "flags",
            "duplicate_of",
            "photos",
            "third_party_details",
            "verified_at",
            "created_at",
        ]

    def get_lat(self, obj) -> float:
        return round(obj.location.y, 6)

    def get_lng(self, obj) -> float:
        return round(obj.location.x, 6)

    @extend_schema_field(ReportFlagSerializer(many=True))
    def get_flags(self, obj):
        police = _is_police(self)
        flags = []
        for flag in obj.flags or []:
            code = flag.get("code", "")
            details = {key: value for key, value in flag.items() if key != "code"}
            if not police:
                # The ids of similar reports point at other volunteers' reports: for the police only.
                details.pop("reports", None)
            label = ReportFlag(code).label if code in ReportFlag.values else code
            flags.append({"code": code, "label": str(label), "details": details})
        return flags

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_third_party_details(self, obj):
        if not _is_police(self):
            return None
        audit.report_third_party_shown(self.context["request"], obj, how=AccessChannel.API)
        return obj.third_party_details

    def row(self, obj) -> dict:
        """The fields above for one report of a list (RowListSerializer); the codes of its category, outcome and
        district from the cached reference lists."""
        request = self.context.get("request")
        codes = self.context.get("reference_codes")
        if codes is None:
            codes = self.context["reference_codes"] = {
                "categories": reference.category_codes(),
                "outcomes": reference.outcome_codes(),
                "districts": reference.district_codes(),
            }
        return {
            "id": obj.pk,
            "client_uuid": str(obj.client_uuid),
            "occurred_at": moment(obj.occurred_at),
            "lat": self.get_lat(obj),
            "lng": self.get_lng(obj),
            "category": _code(codes["categories"], obj, "category"),
            "outcome": _code(codes["outcomes"], obj, "outcome"),
            "description": obj.description,
            "shift": obj.shift_id,
            "case_number": obj.case_number,
            "status": obj.status,
            "status_label": str(obj.get_status_display()),
            "status_note": obj.status_note_text,
            "status_reason": obj.status_reason,
            "district": _code(codes["districts"], obj, "district"),
            "reporter": obj.reporter_id,
            "reporter_name": obj.reporter.full_name,
            "flags": self.get_flags(obj),
            "duplicate_of": obj.duplicate_of_id,
            "photos": [
                {
                    "id": photo.pk,
                    "url": reverse("api:report-photo-file", args=[obj.pk, photo.pk], request=request),
                    "width": photo.width,
                    "height": photo.height,
                }
                for photo in obj.listed_photos
            ],
            "third_party_details": self.get_third_party_details(obj),
            "verified_at": moment(obj.verified_at),
            "created_at": moment(obj.created_at),
        }


def _code(codes: dict[int, str], obj, relation: str) -> str:
    """A related row's code from a cached list, or from the row itself (one the list does not hold yet)."""
    code = codes.get(getattr(obj, f"{relation}_id"))
    return code if code is not None else getattr(obj, relation).code


class ReportDetailSerializer(ReportSerializer):
    """A report with its history, newest first."""

    history = ReportEventSerializer(source="events", many=True, read_only=True)
    escalation = serializers.SerializerMethodField(
        help_text=gettext_lazy("The newest sending of the report to the police duty unit, or null.")
    )

    class Meta(ReportSerializer.Meta):
        list_serializer_class = serializers.ListSerializer
        fields = [*ReportSerializer.Meta.fields, "history", "escalation"]

    def filed_row(self, obj, history: list[ReportEvent]) -> dict:
        """The fields above for a report this request filed, from the rows the request holds: its category, outcome
        and district are the ones it was filed with, it has no photos and nothing has sent it to the duty unit yet."""
        # Empty lists send `row` to the report's own category, outcome and district, not the cache.
        self.context["reference_codes"] = {"categories": {}, "outcomes": {}, "districts": {}}
        obj.listed_photos = []
        return {**self.row(obj), "history": [ReportEventSerializer.row(event) for event in history], "escalation": None}

    @extend_schema_field(EscalationSerializer(allow_null=True))
    def get_escalation(self, obj):
        escalation = obj.escalations.select_related("unit", "by").prefetch_related("events").first()
        return EscalationSerializer(escalation, context=self.context).data if escalation else None


# Input


class ReportInputSerializer(serializers.Serializer):
    client_uuid = serializers.UUIDField(
        help_text=gettext_lazy("The report's id made on the device; sending it again returns the first report.")
    )
    occurred_at = serializers.DateTimeField(
        required=False, help_text=gettext_lazy("When it happened; now when omitted.")
    )
    lat = serializers.FloatField()
    lng = serializers.FloatField()
    category = ReferenceSlugField(slug_field="code", queryset=Category.objects.all(), cached=reference.categories)
    outcome = ReferenceSlugField(slug_field="code", queryset=Outcome.objects.all(), cached=reference.outcomes)
    # Blank passes here so that the service answers with its own message.
    description = serializers.CharField(allow_blank=True)
    case_number = serializers.CharField(max_length=40, required=False, allow_blank=True, default="")
    third_party_details = serializers.CharField(required=False, allow_blank=True, default="")


class PhotoInputSerializer(serializers.Serializer):
    # A plain file: the photo service checks the content and says what is wrong with it.
    photo = serializers.FileField(
        allow_empty_file=True, help_text=gettext_lazy("One JPEG, PNG or WebP photo per request.")
    )


class RejectInputSerializer(serializers.Serializer):
    reason = serializers.CharField(allow_blank=True)


class RequestInfoInputSerializer(serializers.Serializer):
    question = serializers.CharField(allow_blank=True)


class ResubmitInputSerializer(serializers.Serializer):
    answer = serializers.CharField(allow_blank=True)
    case_number = serializers.CharField(max_length=40, required=False, allow_blank=True)


class MarkDuplicateInputSerializer(serializers.Serializer):
    original = serializers.PrimaryKeyRelatedField(queryset=Report.objects.none())

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        self.fields["original"].queryset = Report.objects.visible_to(request.user if request else None)


class BulkVerifyInputSerializer(serializers.Serializer):
    ids = serializers.ListField(child=serializers.IntegerField(min_value=1), allow_empty=False, max_length=500)
    include_flagged = serializers.ListField(
        child=serializers.IntegerField(min_value=1),
        required=False,
        default=list,
        max_length=500,
        help_text=gettext_lazy(
            "Flagged reports to verify anyway, each chosen on purpose; other flagged reports among `ids` are left out."
        ),
    )


class SkippedReportSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    reason = serializers.CharField()


class BulkVerifyResultSerializer(serializers.Serializer):
    verified = serializers.IntegerField(help_text=gettext_lazy("How many reports were verified."))
    skipped = SkippedReportSerializer(many=True)
    flagged_left_out = serializers.ListField(
        child=serializers.IntegerField(),
        help_text=gettext_lazy("Flagged reports left out because they were not in `include_flagged`."),
    )


# Filters


class ReportFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=ReportStatus.choices, label=gettext_lazy("status"))
    district = django_filters.CharFilter(field_name="district__code", label=gettext_lazy("district code"))
    outcome = django_filters.CharFilter(field_name="outcome__code", label=gettext_lazy("outcome code"))
    category = django_filters.CharFilter(field_name="category__code", label=gettext_lazy("category code"))
    occurred_from = MomentBoundFilter(
        field_name="occurred_at", edge="from", label=gettext_lazy("from: happened at or after this date or time")
    )
    occurred_to = MomentBoundFilter(
        field_name="occurred_at",
        edge="to",
        label=gettext_lazy("to: happened before this date or time (a date: its end)"),
    )
    mine = BooleanFilter(method="filter_mine", label=gettext_lazy("reports I filed"))
    flagged = BooleanFilter(method="filter_flagged", label=gettext_lazy("with flags for the inspector"))

    class Meta:
        model = Report
        fields = ["status", "district", "outcome", "category", "mine", "flagged"]

    def filter_mine(self, queryset, name, value):
        mine = {"reporter__user": self.request.user}
        return queryset.filter(**mine) if value else queryset.exclude(**mine)

    def filter_flagged(self, queryset, name, value):
        return queryset.exclude(flags=[]) if value else queryset.filter(flags=[])


# `from` and `to` are Python keywords, so the filters are declared under other names and renamed here.
ReportFilter.base_filters["from"] = ReportFilter.base_filters.pop("occurred_from")
ReportFilter.base_filters["to"] = ReportFilter.base_filters.pop("occurred_to")


# Endpoints


def _status_code(created: bool) -> int:
    return status.HTTP_201_CREATED if created else status.HTTP_200_OK


# Read for every report filed (patrols/prepared.py): its history, newest first.
_history_of = PreparedQuery(
    lambda report_id: ReportEvent.objects.filter(report_id=report_id).select_related("by"),
    report_id=int,
)


@extend_schema_view(
    retrieve=extend_schema(responses=ReportDetailSerializer),
    create=extend_schema(
        request=ReportInputSerializer,
        responses={201: ReportDetailSerializer, 200: ReportDetailSerializer},
        description=gettext_lazy(
            "File a report. 201 with the new report; 200 with the first report when its `client_uuid` "
            "was already received (a retry), whatever the body says."
        ),
    ),
)
class ReportViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    """Reports in scope (out of scope is 404); filing, photos and verification as actions."""

    serializer_class = ReportSerializer
    filterset_class = ReportFilter

    def get_queryset(self):
        reports = Report.objects.visible_to(self.request.user)
        if self.action == "list":
            # A list row takes the codes of its category, outcome and district from the cached reference lists.
            reports = reports.select_related("reporter")
        else:
            # The district is named by its code: its shapes are not read.
            reports = reports.select_related("category", "outcome", "district", "reporter").defer(
                "district__boundary", "district__centre"
            )
        # Into a plain list: a prefetch into each report's manager builds a queryset per report.
        reports = reports.prefetch_related(Prefetch("photos", to_attr="listed_photos"))
        # The history goes with one report's answer; a list and a photo do without it.
        if self.action not in ("list", "photo_file"):
            reports = reports.prefetch_related(Prefetch("events", queryset=ReportEvent.objects.select_related("by")))
        return reports

    def get_serializer_class(self):
        return ReportSerializer if self.action == "list" else ReportDetailSerializer

    def list(self, request, *args, **kwargs):
        volunteer = scoped_as_volunteer(request.user)
        if volunteer is not None and request.query_params.dict() == {"mine": "1"}:
            # What a volunteer's phone asks: its queries built once (selectors.reports).
            reports, size = own_reports_first_page(volunteer), self.paginator.page_size
            count = len(reports) if len(reports) < size else own_reports_count(volunteer)
            return first_page_response(request, self.get_serializer(reports[:size], many=True).data, count)
        return super().list(request, *args, **kwargs)

    def get_throttles(self):
        # Filing and photos are limited per volunteer; a phone's outbox retries a refused request later.
        if self.action == "create":
            return [ReportThrottle()]
        if self.action == "photos":
            return [PhotoThrottle()]
        return super().get_throttles()

    def _input(self, serializer_class):
        data = serializer_class(data=self.request.data, context=self.get_serializer_context())
        data.is_valid(raise_exception=True)
        return data.validated_data

    def _output(self, report, code=status.HTTP_200_OK):
        fresh = self.get_queryset().get(pk=report.pk)
        return Response(ReportDetailSerializer(fresh, context=self.get_serializer_context()).data, status=code)

    def _verifiable_object(self) -> Report:
        """A report the user sees but may not verify answers 403 (they already know it exists)."""
        report = self.get_object()
        if not Report.objects.verifiable_by(self.request.user).filter(pk=report.pk).exists():
            raise PermissionDenied(_("You can see this report but not verify it."))
        return report

    def _own_object(self) -> Report:
        report = self.get_object()
        if report.reporter.user_id != self.request.user.pk:
            raise PermissionDenied(_("Only the volunteer who filed the report can do this."))
        return report

    def create(self, request, *args, **kwargs):
        if getattr(request.user, "volunteer", None) is None:
            raise PermissionDenied(_("Only volunteers file reports."))
        data = self._input(ReportInputSerializer)
        report, created = reporting.report_submit(
            by=request.user,
            client_uuid=data["client_uuid"],
            occurred_at=data.get("occurred_at") or timezone.now(),
            point=point_from(data["lat"], data["lng"]),
            category=data["category"],
            outcome=data["outcome"],
            description=data["description"],
            case_number=data["case_number"],
            third_party_details=data["third_party_details"],
        )
        if created:
            return self._filed_output(report)
        return self._output(report, _status_code(created))

    def _filed_output(self, report: Report) -> Response:
        """The answer to a report this request filed, from the rows the request holds (its reporter, category,
        outcome, district and shift); its one history line is read back."""
        serializer = ReportDetailSerializer(context=self.get_serializer_context())
        data = serializer.filed_row(report, _history_of(report_id=report.pk))
        return Response(data, status=status.HTTP_201_CREATED)

    @extend_schema(
        request={"multipart/form-data": PhotoInputSerializer},
        responses={201: PhotoSerializer, 200: PhotoSerializer},
        description=gettext_lazy(
            "Attach one photo (by the reporter, while the report waits). 201 when added; 200 when the same photo "
            "was already attached (a retry)."
        ),
    )
    @action(detail=True, methods=["post"], parser_classes=[MultiPartParser, FormParser])
    def photos(self, request, pk=None):
        report = self._own_object()
        data = self._input(PhotoInputSerializer)
        photo, created = reporting.report_photo_add(report=report, by=request.user, upload=data["photo"])
        return Response(
            PhotoSerializer(photo, context=self.get_serializer_context()).data, status=_status_code(created)
        )

    @extend_schema(
        request=None,
        responses={(200, "image/jpeg"): OpenApiResponse(OpenApiTypes.BINARY, description=gettext_lazy("The photo."))},
        description=gettext_lazy(
            "One photo of a report you may see (out of scope is 404). With uploads in a bucket, a redirect to a "
            "signed link that expires."
        ),
    )
    @action(detail=True, methods=["get"], url_path=r"photos/(?P<photo_id>[0-9]+)", url_name="photo-file")
    def photo_file(self, request, pk=None, photo_id=None):
        return listed_photo_response(self.get_object(), photo_id)

    @extend_schema(request=None, responses=ReportDetailSerializer)
    @action(detail=True, methods=["post"])
    def verify(self, request, pk=None):
        """Confirm the report: from now on it counts."""
        report = reporting.report_verify(report=self._verifiable_object(), by=request.user)
        return self._output(report)

    @extend_schema(request=RejectInputSerializer, responses=ReportDetailSerializer)
    @action(detail=True, methods=["post"])
    def reject(self, request, pk=None):
        """Reject the report with a reason the volunteer will read."""
        report = self._verifiable_object()
        data = self._input(RejectInputSerializer)
        return self._output(reporting.report_reject(report=report, by=request.user, reason=data["reason"]))

    @extend_schema(request=RequestInfoInputSerializer, responses=ReportDetailSerializer)
    @action(detail=True, methods=["post"], url_path="request-info")
    def request_info(self, request, pk=None):
        """Ask the volunteer for more information."""
        report = self._verifiable_object()
        data = self._input(RequestInfoInputSerializer)
        return self._output(reporting.report_request_info(report=report, by=request.user, question=data["question"]))

    @extend_schema(request=ResubmitInputSerializer, responses=ReportDetailSerializer)
    @action(detail=True, methods=["post"])
    def resubmit(self, request, pk=None):
        """The reporter answers the inspector's question and sends the report again."""
        report = self._own_object()
        data = self._input(ResubmitInputSerializer)
        report = reporting.report_resubmit(
            report=report, by=request.user, answer=data["answer"], case_number=data.get("case_number")
        )
        return self._output(report)

    @extend_schema(request=MarkDuplicateInputSerializer, responses=ReportDetailSerializer)
    @action(detail=True, methods=["post"], url_path="mark-duplicate")
    def mark_duplicate(self, request, pk=None):
        """Mark the report as a duplicate of another one: the event counts once."""
        report = self._verifiable_object()
        data = self._input(MarkDuplicateInputSerializer)
        return self._output(reporting.report_mark_duplicate(report=report, original=data["original"], by=request.user))

    @ESCALATE_SCHEMA
    @action(detail=True, methods=["post"])
    def escalate(self, request, pk=None):
        """Needs the police now: send the report to the district's duty unit."""
        return escalate_response(report=self.get_object(), request=request, context=self.get_serializer_context())

    @extend_schema(request=BulkVerifyInputSerializer, responses=BulkVerifyResultSerializer)
    @action(detail=False, methods=["post"], url_path="bulk-verify")
    def bulk_verify(self, request):
        """Verify several reports; those that cannot be verified are skipped with the reason."""
        if not manageable_districts(request.user).exists():
            raise PermissionDenied(_("Only the district's inspector verifies reports."))
        data = self._input(BulkVerifyInputSerializer)
        ids = list(dict.fromkeys(data["ids"]))
        visible = Report.objects.visible_to(request.user).in_bulk(ids)
        result = reporting.report_bulk_verify(
            reports=[visible[pk] for pk in ids if pk in visible],
            by=request.user,
            flagged_on_purpose=data["include_flagged"],
        )
        # Out of scope reads as not found, as it would at the report's own address.
        reasons = dict(result.skipped) | {pk: _("No such report.") for pk in ids if pk not in visible}
        return Response(
            {
                "verified": result.verified,
                "skipped": [{"id": pk, "reason": reasons[pk]} for pk in ids if pk in reasons],
                "flagged_left_out": result.flagged_left_out,
            }
        )
