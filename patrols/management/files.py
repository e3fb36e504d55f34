"""What the import commands share: reading the named file, and refusing it with every problem on stderr."""

from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _
from django.utils.translation import ngettext


def file_bytes(file: str) -> bytes:
    """The file's content; a CommandError that names it when it cannot be read."""
    try:
        return Path(file).read_bytes()
    except OSError as error:
        raise CommandError(
            _("Cannot read %(file)s: %(reason)s") % {"file": file, "reason": error.strerror or error}
        ) from error


def refused(command: BaseCommand, file: str, error: ValidationError) -> CommandError:
    """Write each of the import's problems to stderr; the CommandError to raise says nothing changed."""
    for message in error.messages:
        command.stderr.write(message)
    count = len(error.messages)
    return CommandError(
        ngettext(
            "%(file)s was not imported: %(count)d error, nothing changed.",
            "%(file)s was not imported: %(count)d errors, nothing changed.",
            count,
        )
        % {"file": file, "count": count}
    )
