"""Boundaries of districts and settlements from GeoJSON: checked feature by feature, saved all at once or not at all.

Geometries are built with GEOS from the coordinate lists, never through GDAL/OGR, and a "crs" member is ignored:
GeoJSON is WGS84 longitude/latitude by definition, and a user-supplied spatial reference string never reaches GDAL
(see SILENCED_SYSTEM_CHECKS in the settings).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any

from django.contrib.gis.geos import GEOSException, MultiPolygon, Point, Polygon
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from ..models import District, Region, Settlement

# Kazakhstan (lng 46.5–87.4, lat 40.6–55.5) with a margin: a position outside it is a typo or swapped axes.
KAZAKHSTAN_BBOX = (46.0, 40.0, 88.0, 56.0)
LEVELS = ("district", "settlement")
NAME_FIELDS = ("name_kk", "name_ru", "name_en")


@dataclass(frozen=True)
class ImportResult:
    """The codes an import created and updated; a dry run checks everything and saves nothing."""

    created: tuple[str, ...]
    updated: tuple[str, ...]
    dry_run: bool = False


class _BadFeature(Exception):
    """One feature's problem: a translated message with %(index)d and %(code)s still to fill."""

    def __init__(self, message: str, **params: Any) -> None:
        super().__init__(message)
        self.message = message
        self.params = params


@dataclass
class _Feature:
    index: int
    code: str
    boundary: MultiPolygon
    names: dict[str, str]
    parent: str
    centre: Point | None


def inside_kazakhstan(lng: float, lat: float) -> bool:
    """Whether a WGS84 position is inside Kazakhstan's bounding box (with a margin)."""
    west, south, east, north = KAZAKHSTAN_BBOX
    return west <= lng <= east and south <= lat <= north


def geojson_parse(raw: bytes | str) -> dict:
    """The JSON document in a file's content; a ValidationError when it is not UTF-8 JSON."""
    if isinstance(raw, bytes):
        try:
            raw = raw.decode("utf-8-sig")
        except UnicodeDecodeError as error:
            raise ValidationError(_("The file is not UTF-8 text, so it is not GeoJSON."), code="not_json") from error
    try:
        return json.loads(raw)
    except json.JSONDecodeError as error:
        raise ValidationError(
            _("The file is not valid JSON (line %(line)d, column %(column)d)."),
            code="not_json",
            params={"line": error.lineno, "column": error.colno},
        ) from error


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _position(value: Any) -> tuple[float, float]:
    if not isinstance(value, list) or len(value) not in (2, 3) or not all(_is_number(v) for v in value):
        raise _BadFeature(
            _("Feature %(index)d (%(code)s): each position must be a pair of numbers, longitude then latitude.")
        )
    lng, lat = float(value[0]), float(value[1])
    if not inside_kazakhstan(lng, lat):
        raise _BadFeature(
            _(
                "Feature %(index)d (%(code)s): the position %(lng)s, %(lat)s is outside Kazakhstan "
                "(longitude 46–88, latitude 40–56); GeoJSON puts the longitude first."
            ),
            lng=value[0],
            lat=value[1],
        )
    return lng, lat


def _ring(value: Any) -> tuple[tuple[float, float], ...]:
    if not isinstance(value, list) or len(value) < 4:
        raise _BadFeature(_("Feature %(index)d (%(code)s): each ring needs at least four positions."))
    ring = tuple(_position(position) for position in value)
    if ring[0] != ring[-1]:
        raise _BadFeature(_("Feature %(index)d (%(code)s): each ring must end at the position where it starts."))
    return ring


def _polygon(value: Any) -> Polygon:
    if not isinstance(value, list) or not value:
        raise _BadFeature(_("Feature %(index)d (%(code)s): a polygon's coordinates must be a list of rings."))
    rings = [_ring(ring) for ring in value]
    try:
        return Polygon(*rings, srid=4326)
    except (GEOSException, TypeError, ValueError) as error:
        raise _BadFeature(
            _("Feature %(index)d (%(code)s): the polygon cannot be built (%(reason)s)."), reason=str(error)
        ) from error


def _boundary(geometry: Any) -> MultiPolygon:
    """A valid MultiPolygon (SRID 4326) from a GeoJSON Polygon or MultiPolygon geometry."""
    if not isinstance(geometry, dict) or "type" not in geometry:
        raise _BadFeature(_("Feature %(index)d (%(code)s): the feature has no geometry."))
    kind, coordinates = geometry.get("type"), geometry.get("coordinates")
    if kind == "Polygon":
        polygons = [_polygon(coordinates)]
    elif kind == "MultiPolygon":
        if not isinstance(coordinates, list) or not coordinates:
            raise _BadFeature(
                _("Feature %(index)d (%(code)s): a multipolygon's coordinates must be a list of polygons.")
            )
        polygons = [_polygon(polygon) for polygon in coordinates]
    else:
        raise _BadFeature(
            _("Feature %(index)d (%(code)s): the geometry must be a Polygon or a MultiPolygon, not %(type)s."),
            type=str(kind),
        )
    boundary = MultiPolygon(*polygons, srid=4326)
    if not boundary.valid:
        raise _BadFeature(
            _("Feature %(index)d (%(code)s): the boundary is not a valid polygon (%(reason)s)."),
            reason=boundary.valid_reason,
        )
    return boundary


def _centre(value: Any) -> Point | None:
    if value is None:
        return None
    if (
        not isinstance(value, list)
        or len(value) != 2
        or not all(_is_number(v) for v in value)
        or not inside_kazakhstan(float(value[0]), float(value[1]))
    ):
        raise _BadFeature(
            _("Feature %(index)d (%(code)s): the centre must be [longitude, latitude] of a place in Kazakhstan.")
        )
    return Point(float(value[0]), float(value[1]), srid=4326)


def _text(properties: dict, key: str) -> str:
    value = properties.get(key)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise _BadFeature(_("Feature %(index)d (%(code)s): “%(property)s” must be text."), property=key)
    return value.strip()


def _parse_feature(feature: Any, *, index: int, parent_key: str) -> _Feature:
    if not isinstance(feature, dict) or feature.get("type") != "Feature":
        raise _BadFeature(_("Feature %(index)d is not a GeoJSON Feature."))
    properties = feature.get("properties")
    code = properties.get("code") if isinstance(properties, dict) else None
    if not isinstance(code, str) or not code.strip():
        raise _BadFeature(_("Feature %(index)d has no code: give it a “code” property (text)."))
    code = code.strip()
    try:
        return _Feature(
            index=index,
            code=code,
            boundary=_boundary(feature.get("geometry")),
            names={key: _text(properties, key) for key in NAME_FIELDS},
            parent=_text(properties, parent_key),
            centre=_centre(properties.get("centre")),
        )
    except _BadFeature as bad:
        bad.params.setdefault("code", code)
        raise


def _features_of(data: Any) -> list:
    if (
        not isinstance(data, dict)
        or data.get("type") != "FeatureCollection"
        or not isinstance(data.get("features"), list)
    ):
        raise ValidationError(_("The file is not a GeoJSON FeatureCollection."), code="not_feature_collection")
    if not data["features"]:
        raise ValidationError(_("The FeatureCollection has no features."), code="no_features")
    return data["features"]


def _message(bad: _BadFeature, *, index: int) -> str:
    return bad.message % {"index": index, **bad.params}


def _apply(item: _Feature, *, level: str, existing, parents: dict) -> tuple[Any, bool]:
    """The district or settlement the feature describes, changed but unsaved, and whether it is new."""
    if existing is not None:
        current_parent = existing.region.code if level == "district" else existing.district.code
        if item.parent and item.parent != current_parent:
            if level == "district":
                raise _BadFeature(
                    _(
                        "Feature %(index)d (%(code)s): this district is in region %(current)s, not %(given)s; "
                        "the import does not move districts."
                    ),
                    current=current_parent,
                    given=item.parent,
                )
            raise _BadFeature(
                _(
                    "Feature %(index)d (%(code)s): this settlement is in district %(current)s, not %(given)s; "
                    "the import does not move settlements."
                ),
                current=current_parent,
                given=item.parent,
            )
        existing.boundary = item.boundary
        for key, value in item.names.items():
            if value:
                setattr(existing, key, value)
        if item.centre is not None:
            existing.centre = item.centre
        return existing, False

    if not (all(item.names.values()) and item.parent):
        if level == "district":
            raise _BadFeature(
                _(
                    "Feature %(index)d (%(code)s): there is no district with this code; to create it, "
                    "give name_kk, name_ru, name_en and region."
                )
            )
        raise _BadFeature(
            _(
                "Feature %(index)d (%(code)s): there is no settlement with this code; to create it, "
                "give name_kk, name_ru, name_en and district."
            )
        )
    parent = parents.get(item.parent)
    if parent is None:
        if level == "district":
            raise _BadFeature(_("Feature %(index)d (%(code)s): there is no region %(region)s."), region=item.parent)
        raise _BadFeature(_("Feature %(index)d (%(code)s): there is no district %(district)s."), district=item.parent)
    centre = item.centre or item.boundary.point_on_surface
    if level == "district":
        return District(region=parent, code=item.code, centre=centre, boundary=item.boundary, **item.names), True
    return Settlement(district=parent, code=item.code, centre=centre, boundary=item.boundary, **item.names), True


@transaction.atomic
def boundaries_import(*, data: dict, level: str, dry_run: bool = False) -> ImportResult:
    """Set district or settlement boundaries from a GeoJSON FeatureCollection: all features or, on any error, none."""
    # Every feature is checked before anything is saved; the ValidationError has one message per problem, naming the
    # feature (counted from 1) and its code.
    if level not in LEVELS:
        raise ValidationError(
            _("Unknown level “%(level)s”: use district or settlement."), code="level", params={"level": level}
        )
    model, parent_model, parent_key = (
        (District, Region, "region") if level == "district" else (Settlement, District, "district")
    )
    errors: list[str] = []
    parsed: list[_Feature] = []
    first_index: dict[str, int] = {}
    for index, feature in enumerate(_features_of(data), start=1):
        try:
            item = _parse_feature(feature, index=index, parent_key=parent_key)
            if item.code in first_index:
                raise _BadFeature(
                    _("Feature %(index)d (%(code)s): the same code is already in feature %(first)d."),
                    code=item.code,
                    first=first_index[item.code],
                )
        except _BadFeature as bad:
            errors.append(_message(bad, index=index))
            continue
        first_index[item.code] = index
        parsed.append(item)

    codes = [item.code for item in parsed]
    related = "region" if level == "district" else "district"
    existing = model.objects.select_for_update().select_related(related).in_bulk(codes, field_name="code")
    parents = parent_model.objects.in_bulk({item.parent for item in parsed if item.parent}, field_name="code")
    changed: list[tuple[Any, bool]] = []
    for item in parsed:
        try:
            obj, is_new = _apply(item, level=level, existing=existing.get(item.code), parents=parents)
            try:
                obj.full_clean()
            except ValidationError as error:
                raise _BadFeature(
                    _("Feature %(index)d (%(code)s): %(problem)s"), code=item.code, problem=" ".join(error.messages)
                ) from error
        except _BadFeature as bad:
            bad.params.setdefault("code", item.code)
            errors.append(_message(bad, index=item.index))
            continue
        changed.append((obj, is_new))
    if errors:
        raise ValidationError(errors)

    if not dry_run:
        for obj, _is_new in changed:
            obj.save()
    return ImportResult(
        created=tuple(obj.code for obj, is_new in changed if is_new),
        updated=tuple(obj.code for obj, is_new in changed if not is_new),
        dry_run=dry_run,
    )
