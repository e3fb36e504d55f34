"""The text of an uncompressed PDF made by fpdf2, read back through the fonts' ToUnicode maps.

fpdf2 writes text in embedded TrueType fonts as two-byte glyph codes, so a name is not in the file as UTF-8; each
font carries a ToUnicode map from its codes to characters. This reads the content streams, follows the font chosen
before each string (`/F1 12 Tf`) and maps its codes: enough to test what a report says without another dependency.
"""

import re

_OBJECT = re.compile(rb"(\d+) 0 obj(.*?)endobj", re.S)
_FONT_REF = re.compile(rb"/F(\d+) (\d+) 0 R")
_TO_UNICODE = re.compile(rb"/ToUnicode (\d+) 0 R")
_PAIR = re.compile(rb"<([0-9A-Fa-f]{4})> <([0-9A-Fa-f]+)>")
_FONT_USE = re.compile(rb"/F(\d+) [\d.]+ Tf")
_ESCAPES = {ord("n"): 10, ord("r"): 13, ord("t"): 9, ord("b"): 8, ord("f"): 12}


def _literal(data: bytes, start: int) -> tuple[bytes, int]:
    """The bytes of the literal string opening at `start` (a parenthesis), and where it ends."""
    out, depth, index = bytearray(), 1, start + 1
    while depth:
        char = data[index]
        if char == ord("\\"):
            following = data[index + 1]
            if ord("0") <= following <= ord("7"):
                digits = re.match(rb"[0-7]{1,3}", data[index + 1 : index + 4]).group()
                out.append(int(digits, 8) & 0xFF)
                index += 1 + len(digits)
                continue
            if following in (10, 13):
                index += 2
                continue
            out.append(_ESCAPES.get(following, following))
            index += 2
            continue
        if char == ord("("):
            depth += 1
        elif char == ord(")"):
            depth -= 1
            if not depth:
                break
        out.append(char)
        index += 1
    return bytes(out), index + 1


def _codes(raw: bytes) -> list[int]:
    return [int.from_bytes(raw[i : i + 2], "big") for i in range(0, len(raw), 2)]


def pdf_text(data: bytes) -> str:
    """Every string shown on the pages, one text object a line."""
    objects = {int(number): body for number, body in _OBJECT.findall(data)}
    maps: dict[int, dict[int, str]] = {}
    for number, body in objects.items():
        found = _TO_UNICODE.search(body)
        if found:
            pairs = _PAIR.findall(objects[int(found.group(1))])
            maps[number] = {int(code, 16): bytes.fromhex(text.decode()).decode("utf-16-be") for code, text in pairs}
    fonts = {int(name): maps.get(int(ref), {}) for name, ref in _FONT_REF.findall(data)}
    lines = []
    for body in objects.values():
        if b"stream" not in body or b" Tj" not in body:
            continue
        stream = body.split(b"stream", 1)[1].rsplit(b"endstream", 1)[0]
        current: dict[int, str] = {}
        index = 0
        line = []
        while index < len(stream):
            char = stream[index]
            if stream.startswith(b"/F", index):
                used = _FONT_USE.match(stream, index)
                if used:
                    current = fonts.get(int(used.group(1)), {})
                    index = used.end()
                    continue
            if char == ord("("):
                raw, index = _literal(stream, index)
                line.append("".join(current.get(code, "") for code in _codes(raw)))
                continue
            if stream.startswith(b"ET", index):
                lines.append("".join(line))
                line = []
            index += 1
    return "\n".join(lines)
