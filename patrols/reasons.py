"""The sentences the app writes about its own actions (a report marked a duplicate, a volunteer imported from a file).

They are stored as facts, a code of `AutoReason` and its figures (`{"number": 7499}`), never as a sentence: the
inspector who marks a duplicate may work in Russian while the volunteer reads in Kazakh. The sentence is made when
it is read, in the reader's active language; what a person typed is kept apart and shown after it.
"""

from __future__ import annotations

from django.utils.translation import gettext as _

from .choices import AutoReason


def reason_text(reason: str, params: dict | None = None) -> str:
    """The sentence for an automatic reason in the active language; "" when there is none."""
    params = params or {}
    if reason == AutoReason.DUPLICATE:
        return _("Duplicate of report No. %(number)d.") % {"number": int(params.get("number") or 0)}
    if reason == AutoReason.IMPORTED:
        if params.get("name"):
            return _("Imported from the file “%(name)s”.") % {"name": params["name"]}
        # The file's name is forgotten with the volunteer's other personal data (retention).
        return _("Imported from a roster file.")
    return ""


def note_text(*, reason: str, params: dict | None, note: str) -> str:
    """What a history line or a status says: the app's reason in the reader's language, then the person's note."""
    return " ".join(part for part in (reason_text(reason, params), (note or "").strip()) if part)
