"""The demo country's places: the districts and settlements it is drawn on (data/*.tsv), Talgar's traced outline and
the story region's hexagon boundaries, and what every part of the demo shares: the seed, the story's region and
district.
"""

from __future__ import annotations

import csv
import math
from pathlib import Path

from django.contrib.gis.geos import GEOSGeometry, MultiPolygon, Point, Polygon

DATA_DIR = Path(__file__).resolve().parent.parent / "data"
DISTRICTS_FILE = DATA_DIR / "demo-districts.tsv"
SETTLEMENTS_FILE = DATA_DIR / "demo-settlements.tsv"

SEED = 2025
STORY_REGION = "KZ-19"
STORY_DISTRICT = "KZ-19-TAL"

# Talgar District traced by hand from a map, roughly: from the Zailiysky Alatau ridge in the south to the Kapchagay
# reservoir in the north, between Almaty city and Ili District in the west and Enbekshikazakh District in the east.
# Approximate, for the demo only: import the real boundary with `manage.py import_boundaries`.
TALGAR_OUTLINE = (
    (77.08, 43.15),
    (77.20, 43.04),
    (77.38, 43.08),
    (77.37, 43.30),
    (77.40, 43.72),
    (77.22, 43.80),
    (77.10, 43.55),
    (77.05, 43.35),
    (77.08, 43.15),
)
# The story region's other districts get a hexagon of this radius around their centre, cut where a neighbouring
# demo district's centre is nearer and outside Talgar's outline, so no two demo boundaries overlap. Approximate.
HEXAGON_RADIUS_KM = 20.0
KM_PER_DEGREE = 111.32


def _read(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8") as handle:
        return list(csv.DictReader(handle, delimiter="\t"))


def _short_name(name_kk: str) -> str:
    for suffix in (" ауданы", " қаласы"):
        if name_kk.endswith(suffix):
            return name_kk[: -len(suffix)]
    return name_kk


def _hexagon(lng: float, lat: float, radius_km: float) -> Polygon:
    dlat = radius_km / KM_PER_DEGREE
    dlng = radius_km / (KM_PER_DEGREE * math.cos(math.radians(lat)))
    ring = [(lng + dlng * math.cos(math.radians(a)), lat + dlat * math.sin(math.radians(a))) for a in range(0, 360, 60)]
    return Polygon([*ring, ring[0]], srid=4326)


def _nearer_half(site: tuple[float, float], other: tuple[float, float]) -> Polygon:
    """The half-plane of points nearer `site` than `other` (in a local equirectangular projection), as a big square."""
    scale = math.cos(math.radians(site[1]))
    sx, sy, ox, oy = site[0] * scale, site[1], other[0] * scale, other[1]
    length = math.hypot(ox - sx, oy - sy)
    ux, uy = (ox - sx) / length, (oy - sy) / length
    mx, my = (sx + ox) / 2, (sy + oy) / 2
    far = 10.0
    corners = [
        (mx - uy * far, my + ux * far),
        (mx - uy * far - ux * far, my + ux * far - uy * far),
        (mx + uy * far - ux * far, my - ux * far - uy * far),
        (mx + uy * far, my - ux * far),
    ]
    ring = [(x / scale, y) for x, y in corners]
    return Polygon([*ring, ring[0]], srid=4326)


def _as_multipolygon(geometry: GEOSGeometry) -> MultiPolygon:
    if isinstance(geometry, MultiPolygon):
        return geometry
    if isinstance(geometry, Polygon):
        return MultiPolygon(geometry, srid=4326)
    return MultiPolygon(*[part for part in geometry if isinstance(part, Polygon)], srid=4326)


def story_region_boundaries(rows: list[dict[str, str]]) -> dict[str, MultiPolygon]:
    """Approximate boundaries for the story region's demo districts (see TALGAR_OUTLINE and HEXAGON_RADIUS_KM)."""
    talgar = Polygon(TALGAR_OUTLINE, srid=4326)
    boundaries = {STORY_DISTRICT: MultiPolygon(talgar, srid=4326)}
    sites = {row["code"]: (float(row["lng"]), float(row["lat"])) for row in rows}
    for row in rows:
        code = row["code"]
        if row["region"] != STORY_REGION or code == STORY_DISTRICT:
            continue
        site = sites[code]
        shape: GEOSGeometry = _hexagon(*site, HEXAGON_RADIUS_KM)
        for other_code, other in sites.items():
            near = math.hypot((other[0] - site[0]) * math.cos(math.radians(site[1])), other[1] - site[1])
            if other_code not in (code, STORY_DISTRICT) and near * KM_PER_DEGREE < 2 * HEXAGON_RADIUS_KM:
                shape = shape.intersection(_nearer_half(site, other))
        boundaries[code] = _as_multipolygon(shape.difference(talgar))
    return boundaries


def _point(row: dict[str, str]) -> Point:
    return Point(float(row["lng"]), float(row["lat"]), srid=4326)
