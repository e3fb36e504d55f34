"""Distances in metres and shape checks, the same on PostGIS and SpatiaLite (computed with GEOS, not SQL)."""

import json
import math
import threading

from django.contrib.gis.gdal import CoordTransform, SpatialReference
from django.contrib.gis.geos import (
    GEOSException,
    GEOSGeometry,
    LineString,
    MultiLineString,
    MultiPolygon,
    Point,
    Polygon,
)
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

WGS84 = 4326
# At most this many projections kept per thread (Kazakhstan is ~3,000 cells; a region's patrols use a few dozen).
_CACHED_TRANSFORMS = 512


# Projections are centred on a grid of this step (degrees, about 50 km): a point is then at most ~21 km east or
# west of the central meridian, where a transverse Mercator's scale error is below 1e-5 (a centimetre a kilometre),
# and each grid cell's transform is built once per thread. Building one costs PROJ about 6 ms: on a 5 km grid a
# district's reports met a new cell every other time, on this one a district has a handful of cells.
_CENTRE_STEP = 0.5
# Building a PROJ transform costs milliseconds; GDAL's transform objects are not shared between threads.
_transforms = threading.local()


def _local_metric_transform(lng: float, lat: float) -> CoordTransform:
    """A transverse Mercator centred near the point: metres with negligible error over tens of kilometres.

    The projection string is built here from numbers, never from user input (see gis.W001 in settings).
    """
    centre = (round(lng / _CENTRE_STEP), round(lat / _CENTRE_STEP))
    cache = getattr(_transforms, "by_centre", None)
    if cache is None:
        cache = _transforms.by_centre = {}
    transform = cache.get(centre)
    if transform is None:
        lng0, lat0 = centre[0] * _CENTRE_STEP, centre[1] * _CENTRE_STEP
        proj = f"+proj=tmerc +lat_0={lat0:.6f} +lon_0={lng0:.6f} +k=1 +x_0=0 +y_0=0 +ellps=WGS84 +units=m +no_defs"
        if len(cache) >= _CACHED_TRANSFORMS:
            cache.clear()
        transform = cache[centre] = CoordTransform(SpatialReference(WGS84), SpatialReference(proj))
    return transform


def distance_m(geometry: GEOSGeometry, point: Point) -> float:
    """Metres from a point to a shape (0 when the point is inside or on it)."""
    transform = _local_metric_transform(point.x, point.y)
    shape = geometry.transform(transform, clone=True)
    where = point.transform(transform, clone=True)
    return shape.distance(where)


def box_around(point: Point, metres: float) -> Polygon:
    """A lat/lng box holding every place within `metres` of the point (a little more), for a first cut in SQL."""
    dlat = metres * 1.1 / 111_320
    dlng = metres * 1.1 / (111_320 * max(math.cos(math.radians(point.y)), 0.01))
    box = Polygon.from_bbox((point.x - dlng, point.y - dlat, point.x + dlng, point.y + dlat))
    box.srid = point.srid
    return box


def point_from(lat, lng) -> Point:
    """A WGS84 point from a phone's latitude and longitude; clear errors for nonsense."""
    try:
        lat_value, lng_value = float(lat), float(lng)
    except (TypeError, ValueError) as error:
        raise ValidationError({"lat": _("Send the position as numbers: lat and lng.")}) from error
    if not (-90 <= lat_value <= 90 and -180 <= lng_value <= 180):
        raise ValidationError({"lat": _("This is not a position on Earth.")})
    return Point(lng_value, lat_value, srid=WGS84)


def covered_by(boundary: GEOSGeometry, shape: GEOSGeometry, *, tolerance_m: float = 50) -> bool:
    """Whether a shape lies within a boundary, allowing a few metres for hand-drawn edges."""
    centre = shape.centroid
    transform = _local_metric_transform(centre.x, centre.y)
    return boundary.transform(transform, clone=True).buffer(tolerance_m).covers(shape.transform(transform, clone=True))


def _list(value) -> list:
    if not isinstance(value, list):
        raise ValueError("a GeoJSON array was expected")
    return value


def _position(value) -> tuple[float, float]:
    """Longitude and latitude as finite numbers (a third coordinate, the height, is dropped)."""
    pair = _list(value)[:2]
    if len(pair) < 2 or any(isinstance(n, bool) or not isinstance(n, int | float) for n in pair):
        raise ValueError("a position is two numbers")
    x, y = float(pair[0]), float(pair[1])
    if not (math.isfinite(x) and math.isfinite(y)):
        raise ValueError("a position is two finite numbers")
    return x, y


def _positions(value) -> list[tuple[float, float]]:
    return [_position(item) for item in _list(value)]


# Every array and number is checked before GEOS sees it: GEOS takes a string's letters as coordinates and fails
# deep in C with an error no caller expects.
_BUILDERS = {
    "Point": lambda c: Point(*_position(c)),
    "LineString": lambda c: LineString(_positions(c)),
    "MultiLineString": lambda c: MultiLineString([LineString(_positions(line)) for line in _list(c)]),
    "Polygon": lambda c: Polygon(*[_positions(ring) for ring in _list(c)]),
    "MultiPolygon": lambda c: MultiPolygon([Polygon(*[_positions(ring) for ring in _list(p)]) for p in _list(c)]),
}


def geometry_from_geojson(value) -> GEOSGeometry:
    """A GeoJSON geometry (RFC 7946: WGS84 longitude and latitude) built with GEOS from its coordinates.

    Never through GDAL: a `crs` member is a spatial reference string from the client, which GDAL must not read
    (gis.W001 in the settings), so one is refused with a clear message rather than ignored."""
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError as error:
            raise ValidationError(_("Send the shape as a GeoJSON geometry with a type and coordinates.")) from error
    if not isinstance(value, dict) or value.get("type") not in _BUILDERS or "coordinates" not in value:
        raise ValidationError(_("Send the shape as a GeoJSON geometry with a type and coordinates."))
    if "crs" in value:
        raise ValidationError(_("A GeoJSON “crs” is not accepted: send longitude and latitude in WGS84 (RFC 7946)."))
    try:
        geometry = _BUILDERS[value["type"]](value["coordinates"])
    except (TypeError, ValueError, IndexError, GEOSException) as error:
        raise ValidationError(
            _("The shape's coordinates are not a valid %(type)s.") % {"type": value["type"]}
        ) from error
    geometry.srid = WGS84
    return geometry
