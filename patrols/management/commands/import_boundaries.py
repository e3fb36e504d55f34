"""`manage.py import_boundaries FILE --level district|settlement [--dry-run]`: boundaries from a GeoJSON file."""

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand
from django.utils.translation import gettext as _

from ...services.geo import LEVELS, boundaries_import, geojson_parse
from ..files import file_bytes, refused


class Command(BaseCommand):
    @property
    def help(self) -> str:
        """The command's description, in the active language (argparse needs a plain string)."""
        return _(
            "Set district or settlement boundaries from a GeoJSON FeatureCollection (WGS84 longitude/latitude); "
            "unknown codes are created when names and the parent are given. One bad feature rejects the whole file."
        )

    def add_arguments(self, parser) -> None:
        parser.add_argument("file", help=_("the GeoJSON file"))
        parser.add_argument("--level", choices=LEVELS, required=True, help=_("what the features are"))
        parser.add_argument("--dry-run", action="store_true", help=_("check the file and report, but save nothing"))

    def handle(self, *args, file: str, level: str, dry_run: bool, **options) -> None:
        raw = file_bytes(file)
        try:
            result = boundaries_import(data=geojson_parse(raw), level=level, dry_run=dry_run)
        except ValidationError as error:
            raise refused(self, file, error) from None
        if result.created:
            self.stdout.write(_("Created: %(codes)s") % {"codes": ", ".join(result.created)})
        if result.updated:
            self.stdout.write(_("Updated: %(codes)s") % {"codes": ", ".join(result.updated)})
        summary = _("%(created)d created, %(updated)d updated.") % {
            "created": len(result.created),
            "updated": len(result.updated),
        }
        if dry_run:
            summary = _("Dry run, nothing saved: %(summary)s") % {"summary": summary}
        self.stdout.write(self.style.SUCCESS(summary))
