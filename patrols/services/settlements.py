"""Settlements from the classifier (KATO): a table (CSV or XLSX) or a GeoJSON file, every row checked, all or nothing.

A row names the settlement's KATO code, its names, its district (the app's code or the district's KATO code) and its
centre, and may give a boundary. A settlement already there (the same KATO code, or the same app code) is updated,
a new one created; a second run of the same file changes nothing. Problems are `{"row": n, "field": "kato",
"message": "…"}` like every table's (`services/tables.py`); for GeoJSON `row` is the feature's number.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass

from django.contrib.gis.geos import GEOSGeometry, MultiPolygon, Point, Polygon
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from ..models import District, Settlement
from ..validators import validate_kato
from . import tables
from .geo import inside_kazakhstan
from .geometry import covered_by, geometry_from_geojson

# A settlement's centre may lie this far outside its district's boundary (boundaries are drawn coarser than villages).
CENTRE_TOLERANCE_M = 1000
NAME_LIMIT = 200
MAX_ROWS = 20_000

COLUMNS: tuple[tables.Column, ...] = (
    tables.Column(
        "kato",
        gettext_lazy("KATO code"),
        True,
        gettext_lazy("Required: the settlement's 9 digits in the classifier."),
        ("КАТО", "ӘАОЖ", "код КАТО"),
    ),
    tables.Column(
        "name_kk", gettext_lazy("Name in Kazakh"), True, gettext_lazy("Required."), ("Атауы", "Название (каз)")
    ),
    tables.Column(
        "name_ru", gettext_lazy("Name in Russian"), True, gettext_lazy("Required."), ("Название", "Название (рус)")
    ),
    tables.Column(
        "name_en", gettext_lazy("Name in English"), False, gettext_lazy("Optional: the Kazakh name in Latin letters.")
    ),
    tables.Column(
        "district",
        gettext_lazy("District"),
        True,
        gettext_lazy("Required: the district's code in the system or its KATO code."),
        ("Район", "Аудан"),
    ),
    tables.Column(
        "lat",
        gettext_lazy("Latitude"),
        False,
        gettext_lazy("The centre's latitude, for example 43.3030."),
        ("Широта", "Ендік"),
    ),
    tables.Column(
        "lng",
        gettext_lazy("Longitude"),
        False,
        gettext_lazy("The centre's longitude, for example 77.2400."),
        ("Долгота", "Бойлық"),
    ),
    tables.Column(
        "boundary",
        gettext_lazy("Boundary"),
        False,
        gettext_lazy("Optional: a GeoJSON Polygon or MultiPolygon; the centre is taken from it when empty."),
        ("Граница", "Шекара"),
    ),
    tables.Column(
        "code",
        gettext_lazy("Code in the system"),
        False,
        gettext_lazy("Optional: the code the system knows the settlement by; the KATO code when empty."),
    ),
)

_LATIN = {
    "а": "a", "ә": "a", "б": "b", "в": "v", "г": "g", "ғ": "g", "д": "d", "е": "e", "ё": "yo", "ж": "zh",
    "з": "z", "и": "i", "й": "i", "к": "k", "қ": "k", "л": "l", "м": "m", "н": "n", "ң": "n", "о": "o",
    "ө": "o", "п": "p", "р": "r", "с": "s", "т": "t", "у": "u", "ұ": "u", "ү": "u", "ф": "f", "х": "kh",
    "һ": "h", "ц": "ts", "ч": "ch", "ш": "sh", "щ": "shch", "ъ": "", "ы": "y", "і": "i", "ь": "", "э": "e",
    "ю": "yu", "я": "ya",
}  # fmt: skip


def latin(name: str) -> str:
    """A Kazakh name in Latin letters, as English maps write it (Қарабұлақ: Karabulak)."""
    letters = "".join(_LATIN.get(char.lower(), char) for char in name)
    return letters[:1].upper() + letters[1:]


@dataclass(frozen=True)
class SettlementsImport:
    """What an import did (or, in a dry run, would do), by KATO code."""

    created: tuple[str, ...]
    updated: tuple[str, ...]
    unchanged: int
    dry_run: bool


@dataclass
class _Place:
    """One row of a table, or one feature of a GeoJSON file (`feature`), as cells by column name."""

    number: int
    cells: dict[str, object]
    boundary: object = None
    centre: object = None
    feature: bool = False


class _Refused(Exception):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field, self.message = field, message


def places_from_table(data: bytes) -> tuple[list[_Place], list[dict]]:
    """The rows of a CSV or XLSX table of settlements, or the problems that stop the import before any row."""
    rows, problems = tables.read_table(
        data,
        COLUMNS,
        max_rows=MAX_ROWS,
        too_much=_("The workbook unpacks to more than the installation allows: save it as CSV."),
        empty=_("The file has no settlements in it: fill in the rows under the header."),
    )
    return [_Place(row.number, row.cells, boundary=row.cells.get("boundary")) for row in rows], [
        {**problem, "message": _row_message(problem)} for problem in problems
    ]


def places_from_geojson(data: dict) -> tuple[list[_Place], list[dict]]:
    """The features of a GeoJSON FeatureCollection of settlements: properties as the table's columns, the geometry a
    Point (the centre) or a Polygon or MultiPolygon (the boundary)."""
    features = data.get("features") if isinstance(data, dict) and data.get("type") == "FeatureCollection" else None
    if not isinstance(features, list):
        return [], [tables.problem(None, "", _("The file is not a GeoJSON FeatureCollection."))]
    if not features:
        return [], [tables.problem(None, "", _("The FeatureCollection has no features."))]
    if len(features) > MAX_ROWS:
        message = _("The file has more than %(limit)d rows: split it into smaller files.") % {"limit": MAX_ROWS}
        return [], [tables.problem(None, "", message)]
    places, problems = [], []
    for number, feature in enumerate(features, start=1):
        properties = feature.get("properties") if isinstance(feature, dict) else None
        if not isinstance(properties, dict) or feature.get("type") != "Feature":
            problems.append(_problem(_Place(number, {}, feature=True), "", _("It is not a GeoJSON Feature.")))
            continue
        geometry = feature.get("geometry")
        place = _Place(number, dict(properties), feature=True)
        if isinstance(geometry, dict) and geometry.get("type") == "Point":
            place.centre = geometry
        else:
            place.boundary = geometry
        places.append(place)
    return places, problems


def _text(place: _Place, name: str, *, required: bool = False) -> str:
    value = tables.cell_text(place.cells.get(name))
    if required and not value:
        raise _Refused(name, _("Fill in “%(column)s”.") % {"column": tables.column_label(COLUMNS, name)})
    if len(value) > NAME_LIMIT:
        raise _Refused(
            name,
            _("Keep this within %(limit)d characters (now %(count)d).") % {"limit": NAME_LIMIT, "count": len(value)},
        )
    return value


def _kato(place: _Place) -> str:
    value = place.cells.get("kato")
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    kato = tables.cell_text(value).replace(" ", "")
    if not kato:
        raise _Refused("kato", _("Fill in “%(column)s”.") % {"column": tables.column_label(COLUMNS, "kato")})
    try:
        validate_kato(kato)
    except ValidationError as error:
        raise _Refused("kato", error.messages[0]) from error
    return kato


def _boundary(place: _Place) -> MultiPolygon | None:
    value = place.boundary
    if tables.is_blank(value):
        return None
    try:
        shape = geometry_from_geojson(value if isinstance(value, dict | str) else str(value))
    except ValidationError as error:
        raise _Refused("boundary", error.messages[0]) from error
    if isinstance(shape, Polygon):
        shape = MultiPolygon(shape, srid=shape.srid)
    if not isinstance(shape, MultiPolygon):
        raise _Refused("boundary", _("A boundary is a Polygon or a MultiPolygon."))
    if not shape.valid:
        raise _Refused(
            "boundary", _("The boundary is not a valid polygon (%(reason)s).") % {"reason": shape.valid_reason}
        )
    return shape


def _centre(place: _Place, boundary: MultiPolygon | None) -> Point:
    if place.centre is not None:
        try:
            point = geometry_from_geojson(place.centre)
        except ValidationError as error:
            raise _Refused("lat", error.messages[0]) from error
    elif not (tables.is_blank(place.cells.get("lat")) and tables.is_blank(place.cells.get("lng"))):
        try:
            lat = float(str(place.cells.get("lat")).replace(",", "."))
            lng = float(str(place.cells.get("lng")).replace(",", "."))
        except ValueError as error:
            raise _Refused("lat", _("Give the centre as two numbers: latitude and longitude.")) from error
        point = Point(lng, lat, srid=4326)
    elif boundary is not None:
        return boundary.point_on_surface
    else:
        raise _Refused("lat", _("Give the centre (latitude and longitude) or a boundary."))
    if not inside_kazakhstan(point.x, point.y):
        raise _Refused(
            "lat",
            _("The centre %(lat)s, %(lng)s is not in Kazakhstan: check the latitude and the longitude.")
            % {"lat": f"{point.y:.4f}", "lng": f"{point.x:.4f}"},
        )
    return point


class _Districts:
    """The districts rows name, by app code and by KATO code, looked up once."""

    def __init__(self, places: Iterable[_Place]) -> None:
        wanted = {tables.cell_text(place.cells.get("district")) for place in places} - {""}
        found = District.objects.filter(code__in=wanted) | District.objects.filter(kato__in=wanted)
        self.by_key: dict[str, District] = {}
        for district in found:
            self.by_key[district.code] = district
            if district.kato:
                self.by_key[district.kato] = district

    def of(self, place: _Place) -> District:
        key = _text(place, "district", required=True)
        district = self.by_key.get(key)
        if district is None:
            raise _Refused("district", _("There is no district “%(district)s”.") % {"district": key})
        return district


def _checked(place: _Place, *, districts: _Districts, existing: dict[str, Settlement]) -> tuple[Settlement, str]:
    """The settlement the row describes (changed, unsaved) and what happens to it: created, updated or unchanged."""
    kato = _kato(place)
    names = {
        "name_kk": _text(place, "name_kk", required=True),
        "name_ru": _text(place, "name_ru", required=True),
        "name_en": _text(place, "name_en"),
    }
    names["name_en"] = names["name_en"] or latin(names["name_kk"])
    district = districts.of(place)
    if district.kato and kato[:4] != district.kato[:4]:
        raise _Refused(
            "kato",
            _("The KATO code %(kato)s is not of district %(district)s (its codes begin %(prefix)s).")
            % {"kato": kato, "district": district.name, "prefix": district.kato[:4]},
        )
    boundary = _boundary(place)
    centre = _centre(place, boundary)
    if district.boundary is not None and not covered_by(district.boundary, centre, tolerance_m=CENTRE_TOLERANCE_M):
        raise _Refused(
            "lat", _("The centre is outside the boundary of district %(district)s.") % {"district": district.name}
        )
    code = _text(place, "code") or kato
    settlement = existing.get(kato) or existing.get(code)
    if settlement is None:
        return Settlement(district=district, kato=kato, code=code, centre=centre, boundary=boundary, **names), "created"
    if settlement.district_id != district.pk:
        raise _Refused(
            "district",
            _("This settlement is in district %(current)s; the import does not move settlements.")
            % {"current": settlement.district.name},
        )
    if settlement.kato and settlement.kato != kato:
        raise _Refused(
            "code",
            _("The code %(code)s belongs to the settlement with KATO code %(kato)s.")
            % {"code": code, "kato": settlement.kato},
        )
    wanted = {**names, "kato": kato, "centre": centre}
    if boundary is not None:
        wanted["boundary"] = boundary
    changed = False
    for name, value in wanted.items():
        current = getattr(settlement, name)
        if isinstance(current, GEOSGeometry) and value is not None:
            same = current.equals_exact(value, 1e-7)
        else:
            same = current == value
        if not same:
            setattr(settlement, name, value)
            changed = True
    return settlement, "updated" if changed else "unchanged"


@transaction.atomic
def settlements_import(*, places: list[_Place], dry_run: bool = False) -> SettlementsImport:
    """Create and update the settlements of checked rows: all of them, or on any problem none (a ValidationError whose
    `error_list` are the problems' messages, each naming its row)."""
    katos = {tables.cell_text(place.cells.get("kato")).replace(" ", "") for place in places}
    codes = {tables.cell_text(place.cells.get("code")) for place in places} - {""}
    known = Settlement.objects.select_for_update(of=("self",)).select_related("district")
    existing: dict[str, Settlement] = {}
    for settlement in known.filter(kato__in=katos) | known.filter(code__in=codes | katos):
        existing[settlement.code] = settlement
        if settlement.kato:
            existing[settlement.kato] = settlement
    districts = _Districts(places)
    problems: list[dict] = []
    results: list[tuple[Settlement, str]] = []
    first_row: dict[tuple[str, str], int] = {}
    for place in places:
        try:
            settlement, outcome = _checked(place, districts=districts, existing=existing)
            for field, value in (("kato", settlement.kato), ("code", settlement.code)):
                if (field, value) in first_row:
                    message = _("The same %(column)s is already in row %(row)d.") % {
                        "column": tables.column_label(COLUMNS, field),
                        "row": first_row[(field, value)],
                    }
                    raise _Refused(field, message)
                first_row[(field, value)] = place.number
            if outcome != "unchanged":
                # Uniqueness is settled above: against the file's other rows and the settlements already there.
                settlement.full_clean(validate_unique=False)
        except _Refused as refused:
            problems.append(_problem(place, refused.field, refused.message))
            continue
        except ValidationError as error:
            problems.extend(_problem(place, "", message) for message in error.messages)
            continue
        results.append((settlement, outcome))
    if problems:
        raise ValidationError([problem["message"] for problem in problems])
    if not dry_run:
        for settlement, outcome in results:
            if outcome != "unchanged":
                settlement.save()
    return SettlementsImport(
        created=tuple(s.kato for s, outcome in results if outcome == "created"),
        updated=tuple(s.kato for s, outcome in results if outcome == "updated"),
        unchanged=sum(outcome == "unchanged" for _s, outcome in results),
        dry_run=dry_run,
    )


def _row_message(problem: dict) -> str:
    """A table's problem as one sentence that names its row."""
    if problem["row"] is None:
        return problem["message"]
    return _("Row %(row)d: %(message)s") % {"row": problem["row"], "message": problem["message"]}


def _problem(place: _Place, field: str, message: str) -> dict:
    """A problem of one row or feature, its message naming it."""
    if place.feature:
        message = _("Feature %(index)d: %(message)s") % {"index": place.number, "message": message}
    else:
        message = _("Row %(row)d: %(message)s") % {"row": place.number, "message": message}
    return tables.problem(place.number, field, message)


def places_from_file(name: str, data: bytes) -> list[_Place]:
    """The places of a settlements file by its kind (GeoJSON by its .geojson/.json name, else a table); a
    ValidationError with the file's problems when it cannot be read."""
    if name.lower().endswith((".geojson", ".json")):
        try:
            document = json.loads(data.decode("utf-8-sig"))
        except (UnicodeDecodeError, ValueError) as error:
            raise ValidationError(_("The file is not valid JSON.")) from error
        places, problems = places_from_geojson(document)
    else:
        places, problems = places_from_table(data)
    if problems:
        raise ValidationError([problem["message"] for problem in problems])
    return places
