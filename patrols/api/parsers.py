"""JSON bodies within bounds: a body larger than `API_MAX_JSON_BYTES` or nested deeper than `API_MAX_JSON_DEPTH` is a
clear 400 before it is parsed (Python's parser would recurse until a RecursionError, a 500, on 2,000 brackets)."""

from __future__ import annotations

import io
import re

from django.conf import settings
from django.utils.translation import gettext as _
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser

# A JSON string, escapes included: brackets inside strings do not nest anything.
_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"', re.S)
_BRACKET = re.compile(rb"[\[\]{}]")


def json_depth(data: bytes) -> int:
    """How deep arrays and objects nest in a JSON text (0 for a bare value)."""
    depth = deepest = 0
    for bracket in _BRACKET.finditer(_STRING.sub(b'""', data)):
        if bracket.group() in (b"[", b"{"):
            depth += 1
            deepest = max(deepest, depth)
        else:
            depth -= 1
    return deepest


class BoundedJSONParser(JSONParser):
    """DRF's JSON parser behind a size and a depth check."""

    def parse(self, stream, media_type=None, parser_context=None):
        limit = settings.API_MAX_JSON_BYTES
        data = stream.read(limit + 1) if stream is not None else b""
        if len(data) > limit:
            raise ParseError(_("The request body is larger than %(kb)d KB.") % {"kb": limit // 1024})
        if json_depth(data) > settings.API_MAX_JSON_DEPTH:
            raise ParseError(
                _("The JSON is nested more than %(depth)d levels deep.") % {"depth": settings.API_MAX_JSON_DEPTH}
            )
        return super().parse(io.BytesIO(data), media_type, parser_context)
