"""Roster imports through the API: upload a district's roster file, follow its check, read its problems in the
reader's language, and fetch the rows to fix when only the valid ones were imported."""

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_field, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.reverse import reverse

from ..choices import RosterImportStatus
from ..models import District, RosterImport
from ..scope import can_manage_people, manageable_districts
from ..services import roster_import
from ..web.views import rows_to_fix_download
from .fields import SlugRelatedField
from .views import ScopedReadMixin

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class RosterImportProblemSerializer(serializers.Serializer):
    row = serializers.IntegerField(allow_null=True, help_text=gettext_lazy("The row in the file (the header is 1)."))
    field = serializers.CharField(help_text=gettext_lazy("The column's technical name, or empty for the whole row."))
    column = serializers.CharField(help_text=gettext_lazy("The column's name in the reader's language."))
    code = serializers.CharField(help_text=gettext_lazy("What is wrong, as a code; empty for an older import."))
    person = serializers.CharField(help_text=gettext_lazy("Whose row it is: the last and first name as written."))
    value = serializers.CharField(help_text=gettext_lazy("The cell as written in the file (an IIN masked)."))
    message = serializers.CharField(help_text=gettext_lazy("What is wrong, in the reader's language."))


class RosterImportSerializer(serializers.ModelSerializer):
    district = serializers.SlugRelatedField(slug_field="code", read_only=True)
    uploaded_by = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)
    status = serializers.ChoiceField(choices=RosterImportStatus.choices, read_only=True)
    status_label = serializers.CharField(source="get_status_display", read_only=True)
    finished = serializers.BooleanField(source="is_finished", read_only=True)
    errors = serializers.SerializerMethodField()
    rows_to_fix = serializers.SerializerMethodField(
        help_text=gettext_lazy("Where to download the rows with errors as an XLSX to fix, when there are such rows.")
    )

    class Meta:
        model = RosterImport
        fields = [
            "id",
            "district",
            "uploaded_by",
            "original_name",
            "import_valid_rows",
            "status",
            "status_label",
            "finished",
            "total_rows",
            "processed_rows",
            "created_count",
            "updated_count",
            "errors",
            "rows_to_fix",
            "created_at",
            "finished_at",
        ]

    @extend_schema_field(RosterImportProblemSerializer(many=True))
    def get_errors(self, obj) -> list[dict]:
        return roster_import.problems_shown(obj.errors)

    def get_rows_to_fix(self, obj) -> str | None:
        if not obj.has_rows_to_fix:
            return None
        return reverse("api:roster-import-rows-to-fix", args=[obj.pk], request=self.context.get("request"))


class RosterImportInputSerializer(serializers.Serializer):
    district = SlugRelatedField(slug_field="code", queryset=District.objects.none())
    file = serializers.FileField(
        allow_empty_file=True, help_text=gettext_lazy("The roster as an XLSX workbook or a CSV file.")
    )
    import_valid_rows = serializers.BooleanField(
        required=False,
        default=False,
        help_text=gettext_lazy(
            "Import the rows without errors and give the others back as a file to fix. By default a file with any "
            "error imports nothing."
        ),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        self.fields["district"].queryset = manageable_districts(request.user if request else None)


@extend_schema_view(
    create=extend_schema(
        request={"multipart/form-data": RosterImportInputSerializer},
        responses={202: RosterImportSerializer},
        description=gettext_lazy(
            "Upload a roster file for a district you keep. It is checked in the background: follow the import "
            "until `finished`. All rows or none, unless `import_valid_rows`."
        ),
    ),
)
class RosterImportViewSet(
    ScopedReadMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    """Roster imports of the districts you keep, newest first, with their problems in your language."""

    model = RosterImport
    serializer_class = RosterImportSerializer
    parser_classes = [MultiPartParser, FormParser]

    def get_queryset(self):
        return self.base_queryset().select_related("district", "uploaded_by")

    def create(self, request, *args, **kwargs):
        if not can_manage_people(request.user):
            raise PermissionDenied(_("Only the district's inspector can add to its roster."))
        data = RosterImportInputSerializer(data=request.data, context=self.get_serializer_context())
        data.is_valid(raise_exception=True)
        job = roster_import.roster_import_start(
            by=request.user,
            district=data.validated_data["district"],
            upload=data.validated_data["file"],
            import_valid_rows=data.validated_data["import_valid_rows"],
        )
        job = self.get_queryset().get(pk=job.pk)
        return Response(self.get_serializer(job).data, status=status.HTTP_202_ACCEPTED)

    @extend_schema(
        request=None,
        responses={(200, XLSX): OpenApiResponse(OpenApiTypes.BINARY, description=gettext_lazy("The rows to fix."))},
        description=gettext_lazy(
            "The rows an import of the valid rows left out, as the file had them, with what to fix in your "
            "language: fixed and uploaded again, they import the rest. 404 when there are none."
        ),
    )
    @action(detail=True, methods=["get"], url_path="rows-to-fix", url_name="rows-to-fix")
    def rows_to_fix(self, request, pk=None):
        return rows_to_fix_download(self.get_object())
