"""Exports of reports through the API: a small one streamed at once, a larger one a job to follow and download.

Filters, scope and errors are the service's (`services.report_exports`): the dashboard's filters mean the same here,
a bad one is a translated 400 that creates nothing, an area out of scope a 404. A job is its owner's alone.
"""

from types import SimpleNamespace

from django.conf import settings
from django.http import Http404
from django.urls import reverse
from django.utils.translation import gettext_lazy
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, permissions, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotAcceptable
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.response import Response
from rest_framework.views import APIView

from ..choices import ExportFormat, ExportStatus
from ..models import ReportExport
from ..scope import sees_figures
from ..services import figures
from ..services import report_exports as service
from ..web.report_exports import export_download, export_stream
from .schema import ErrorSerializer


class FileFormatNegotiation(DefaultContentNegotiation):
    """`format` names the export's file here, not the renderer of the answer (DRF's `?format=json`); a client that
    accepts only the file's type (`Accept: text/csv`) gets it, and JSON for a job or an error."""

    settings = SimpleNamespace(URL_FORMAT_OVERRIDE=None)

    def select_renderer(self, request, renderers, format_suffix=None):
        try:
            return super().select_renderer(request, renderers, format_suffix)
        except NotAcceptable:
            return renderers[0], renderers[0].media_type


class ReportExportSerializer(serializers.ModelSerializer):
    format = serializers.ChoiceField(choices=ExportFormat.choices, read_only=True)
    status = serializers.ChoiceField(choices=ExportStatus.choices, read_only=True)
    status_label = serializers.CharField(source="get_status_display", read_only=True)
    finished = serializers.BooleanField(source="is_finished", read_only=True)
    percent = serializers.IntegerField(read_only=True)
    filters = serializers.DictField(
        read_only=True, help_text=gettext_lazy("The filters as codes: year, region or district, status, outcome...")
    )
    url = serializers.SerializerMethodField(help_text=gettext_lazy("This job, to follow its progress."))
    file = serializers.SerializerMethodField(
        help_text=gettext_lazy("Where to download the file once it is ready (until `expires_at`); null before.")
    )

    class Meta:
        model = ReportExport
        fields = [
            "id",
            "url",
            "format",
            "filters",
            "language",
            "status",
            "status_label",
            "finished",
            "rows_total",
            "rows_done",
            "percent",
            "error",
            "file",
            "size_bytes",
            "created_at",
            "finished_at",
            "expires_at",
        ]

    def _absolute(self, name: str, pk: int) -> str:
        # Django's reverse: DRF's would copy this request's `format` (the file's, here) into the address.
        path = reverse(name, args=[pk])
        request = self.context.get("request")
        return request.build_absolute_uri(path) if request is not None else path

    def get_url(self, obj) -> str:
        return self._absolute("api:report-export-detail", obj.pk)

    def get_file(self, obj) -> str | None:
        return self._absolute("api:report-export-file", obj.pk) if obj.is_ready else None


class ReportExportInputSerializer(serializers.Serializer):
    """Plain text fields: the service checks them, with the same messages as the page."""

    format = serializers.CharField(help_text=gettext_lazy("csv, xlsx or geojson."))
    year = serializers.CharField(required=False, allow_blank=True, help_text=gettext_lazy("This year when left out."))
    region = serializers.CharField(required=False, allow_blank=True)
    district = serializers.CharField(required=False, allow_blank=True)
    status = serializers.CharField(required=False, allow_blank=True, help_text=gettext_lazy("A report status."))
    outcome = serializers.CharField(required=False, allow_blank=True, help_text=gettext_lazy("An outcome code."))
    category = serializers.CharField(required=False, allow_blank=True, help_text=gettext_lazy("A category code."))
    personal = serializers.BooleanField(
        required=False,
        default=False,
        help_text=gettext_lazy("Include the details of other people (written to the access log)."),
    )


FILTER_PARAMETERS = [
    OpenApiParameter(
        "year", OpenApiTypes.INT, description=gettext_lazy("Calendar year (Asia/Almaty); this year when left out.")
    ),
    OpenApiParameter("region", OpenApiTypes.STR, description=gettext_lazy("Region code, e.g. KZ-19.")),
    OpenApiParameter("district", OpenApiTypes.STR, description=gettext_lazy("District code.")),
    OpenApiParameter("status", OpenApiTypes.STR, description=gettext_lazy("A report status.")),
    OpenApiParameter("outcome", OpenApiTypes.STR, description=gettext_lazy("An outcome code.")),
    OpenApiParameter("category", OpenApiTypes.STR, description=gettext_lazy("A category code.")),
    OpenApiParameter(
        "personal",
        OpenApiTypes.BOOL,
        description=gettext_lazy("Include the details of other people (written to the access log)."),
    ),
]
FILE = OpenApiResponse(OpenApiTypes.BINARY, description=gettext_lazy("The file."))
GEOJSON = OpenApiResponse(
    {
        "type": "object",
        "required": ["type", "features"],
        "properties": {
            "type": {"type": "string", "enum": ["FeatureCollection"]},
            "features": {"type": "array", "items": {"type": "object"}},
        },
    },
    description=gettext_lazy("A FeatureCollection: one point a report, its columns as properties."),
)


def _checked(request, params) -> tuple[str, service.ExportFilters, object, int]:
    """The format, the filters, the reports and how many: 404 out of scope, a 400 for anything wrong."""
    try:
        fmt, filters = service.export_request(request.user, params)
        reports = service.export_reports(request.user, filters)
        count = reports.count()
        service.export_check_size(fmt, count)
    except figures.NotInScope as missing:
        raise Http404 from missing
    return fmt, filters, reports, count


class IsExporter(permissions.BasePermission):
    """Exports are the figures' readers' (inspectors, chiefs, analysts, admins); for others they do not exist."""

    def has_permission(self, request, view) -> bool:
        if not sees_figures(request.user):
            raise Http404
        return True


class ReportExportStreamView(APIView):
    """The reports in your scope with the dashboard's filters as a file: sent at once when small, else a job."""

    permission_classes = [permissions.IsAuthenticated, IsExporter]
    content_negotiation_class = FileFormatNegotiation

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "format",
                OpenApiTypes.STR,
                enum=ExportFormat.values,
                required=True,
                description=gettext_lazy("The file."),
            ),
            *FILTER_PARAMETERS,
        ],
        responses={
            (200, "text/csv"): FILE,
            (200, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"): FILE,
            (200, "application/geo+json"): GEOJSON,
            202: ReportExportSerializer,
        },
        description=gettext_lazy(
            "Up to REPORT_EXPORT_STREAM_MAX_ROWS reports (5,000 by default) the file itself; more: 202 with the job "
            "written in the background (follow its `url`, download its `file` when ready). A bad filter is a 400 "
            "and makes nothing; an area outside your scope is a 404."
        ),
    )
    def get(self, request):
        fmt, filters, reports, count = _checked(request, request.query_params)
        if count <= settings.REPORT_EXPORT_STREAM_MAX_ROWS:
            return export_stream(request, fmt=fmt, filters=filters, reports=reports)
        job = service.report_export_start(by=request.user, fmt=fmt, filters=filters, rows_total=count)
        data = ReportExportSerializer(job, context={"request": request}).data
        return Response(data, status=status.HTTP_202_ACCEPTED, headers={"Location": data["url"]})


@extend_schema_view(
    create=extend_schema(
        request=ReportExportInputSerializer,
        responses={202: ReportExportSerializer, 404: ErrorSerializer},
        description=gettext_lazy(
            "Have an export written in the background, whatever its size: follow it until `finished`, then "
            "download `file`. A bad filter is a 400 and makes nothing; an area outside your scope is a 404."
        ),
    ),
)
class ReportExportViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, viewsets.GenericViewSet
):
    """Your exports of reports, newest first; nobody else's (404), and each file for a day."""

    serializer_class = ReportExportSerializer
    permission_classes = [permissions.IsAuthenticated, IsExporter]
    content_negotiation_class = FileFormatNegotiation

    def get_queryset(self):
        return ReportExport.objects.visible_to(self.request.user)

    def create(self, request, *args, **kwargs):
        given = ReportExportInputSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        fmt, filters, _reports, count = _checked(request, given.validated_data)
        job = service.report_export_start(by=request.user, fmt=fmt, filters=filters, rows_total=count)
        data = self.get_serializer(job).data
        return Response(data, status=status.HTTP_202_ACCEPTED, headers={"Location": data["url"]})

    @extend_schema(
        request=None,
        responses={
            (200, "text/csv"): FILE,
            (200, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"): FILE,
            (200, "application/geo+json"): GEOJSON,
        },
        description=gettext_lazy("The finished file, for its owner until it expires (then 404)."),
    )
    @action(detail=True, methods=["get"], url_path="file", url_name="file")
    def file(self, request, pk=None):
        return export_download(self.get_object())
