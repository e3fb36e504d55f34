"""`manage.py import_settlements FILE [--dry-run]`: settlements of the classifier (KATO) from CSV, XLSX or GeoJSON."""

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand
from django.utils.translation import gettext as _

from ...services.settlements import places_from_file, settlements_import
from ..files import file_bytes, refused


class Command(BaseCommand):
    @property
    def help(self) -> str:
        """The command's description, in the active language (argparse needs a plain string)."""
        return _(
            "Create and update settlements from a table (CSV or XLSX: kato, name_kk, name_ru, name_en, district, "
            "lat, lng, boundary, code) or a GeoJSON FeatureCollection with the same properties. One bad row rejects "
            "the whole file; a second run of the same file changes nothing."
        )

    def add_arguments(self, parser) -> None:
        parser.add_argument("file", help=_("the CSV, XLSX or GeoJSON file"))
        parser.add_argument("--dry-run", action="store_true", help=_("check the file and report, but save nothing"))

    def handle(self, *args, file: str, dry_run: bool, **options) -> None:
        data = file_bytes(file)
        try:
            result = settlements_import(places=places_from_file(file, data), dry_run=dry_run)
        except ValidationError as error:
            raise refused(self, file, error) from None
        summary = _("%(created)d created, %(updated)d updated, %(unchanged)d unchanged.") % {
            "created": len(result.created),
            "updated": len(result.updated),
            "unchanged": result.unchanged,
        }
        if dry_run:
            summary = _("Dry run, nothing saved: %(summary)s") % {"summary": summary}
        self.stdout.write(self.style.SUCCESS(summary))
