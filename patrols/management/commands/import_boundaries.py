"""`manage.py import_boundaries FILE --level district|settlement [--dry-run]`: boundaries from a GeoJSON file."""

from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from ...services.geo import LEVELS, boundaries_import, geojson_parse


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
        try:
            raw = Path(file).read_bytes()
        except OSError as error:
            raise CommandError(
                _("Cannot read %(file)s: %(reason)s") % {"file": file, "reason": error.strerror or error}
            ) from error
        try:
            result = boundaries_import(data=geojson_parse(raw), level=level, dry_run=dry_run)
        except ValidationError as error:
            for message in error.messages:
                self.stderr.write(message)
            count = len(error.messages)
            raise CommandError(
                ngettext(
                    "%(file)s was not imported: %(count)d error, nothing changed.",
                    "%(file)s was not imported: %(count)d errors, nothing changed.",
                    count,
                )
                % {"file": file, "count": count}
            ) from None
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
