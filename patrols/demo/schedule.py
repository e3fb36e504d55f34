"""The demo's patrols: zones and routes, weekly series, a year of shifts with attendance (check-ins near and far,
forgotten check-outs, no-shows, the inspector's confirmations) and the open shifts of the coming week. Each shift is
drawn from a generator seeded by its district, zone and start, counting from the real today; natural keys keep a
second run from creating anything twice.
"""

from __future__ import annotations

import datetime
import math
import random
from dataclasses import dataclass, field

from django.contrib.gis.geos import GEOSGeometry, LineString, Point, Polygon
from django.core.exceptions import ValidationError
from django.db.models import Count, F
from django.db.models.functions import Coalesce
from django.utils import timezone

from ..choices import (
    BUSY_STATUSES,
    AssignmentStatus,
    CheckInConfirmation,
    CheckInDoubt,
    ShiftEventKind,
    ShiftStatus,
    VolunteerStatus,
    ZoneKind,
)
from ..clock import LOCAL_TZ
from ..models import (
    Assignment,
    District,
    Group,
    Membership,
    Shift,
    ShiftEvent,
    ShiftSeries,
    User,
    Volunteer,
    Zone,
)
from ..services.attendance import checkin_tolerance_m, close_grace, credited_minutes
from ..services.geometry import covered_by
from ..services.scheduling import (
    late_cancel_hours,
    series_generate,
    series_horizon_days,
    series_occurrences,
    shift_create,
    shift_signup,
)
from .country import KM_PER_DEGREE, SEED, STORY_DISTRICT
from .loader import insert_rows
from .people import DEFAULT_RUSSIAN_SHARE, RUSSIAN_SHARE, _Plan

# Patrols: zones, weekly series, a year of shifts with attendance, and the coming week of the story.
#
# Names, shapes and series are drawn per district from `random.Random(f"{SEED}:{code}:patrols")`, and each shift's
# attendance from a generator seeded by its district, zone and start, so a shift comes out the same whenever it is
# seeded. Times count from the real today, not from AS_OF: closed shifts must lie in the past and open ones ahead.
# Natural keys (a zone's name in its district, a series' zone and start time, a shift's zone and start) keep a second
# run from creating anything twice.

HISTORY_DAYS = 365
COMING_WEEK = datetime.timedelta(days=7)
M_PER_DEGREE = KM_PER_DEGREE * 1000
# Kazakh and Russian names of patrol zones and routes; a district uses one language throughout.
AREA_NAMES = (
    ("Орталық саябақ", "Центральный парк"),
    ("Базар маңы", "Район рынка"),
    ("Теміржол вокзалы", "Железнодорожный вокзал"),
    ("Колледж жатақханасы", "Общежитие колледжа"),
    ("Автовокзал маңы", "Район автовокзала"),
    ("Жастар саябағы", "Молодёжный парк"),
    ("Мәдениет үйі алаңы", "Площадь у Дома культуры"),
    ("Әкімдік алаңы", "Площадь акимата"),
    ("Стадион маңы", "Район стадиона"),
    ("Жаңа шағын аудан", "Новый микрорайон"),
    ("Мектептер маңы", "Район школ"),
    ("Сауда орталығы маңы", "Район торгового центра"),
)
ROUTE_NAMES = (
    ("Абай көшесі бойымен", "По улице Абая"),
    ("Төле би көшесі — орталық алаң", "Улица Толе би — центральная площадь"),
    ("Өзен жағалауы бойымен", "Вдоль набережной"),
    ("Тәуелсіздік көшесі бойымен", "По улице Тауелсиздик"),
    ("Вокзал — базар бағыты", "Маршрут вокзал — рынок"),
)
STORY_ZONES = (
    ("Орталық саябақ", ZoneKind.AREA),
    ("Базар маңы", ZoneKind.AREA),
    ("Колледж жатақханасы", ZoneKind.AREA),
    ("Орталық көше бойымен", ZoneKind.ROUTE),
)
STORY_SOON_ZONE = "Колледж жатақханасы"
STORY_SOON_BRIEFING = "Жатақхана мен аялдамалар маңы: сабақтан кейінгі кешкі кезекшілік. Жиын 18:45-те."


@dataclass(frozen=True)
class _Pattern:
    weekdays: tuple[int, ...]
    start: datetime.time
    end: datetime.time
    min_volunteers: int
    max_volunteers: int
    briefing: tuple[str, str]


# Weekly patterns that never overlap one another, so the shifts of one district never overlap either.
PATTERNS = (
    _Pattern(
        (5, 6),
        datetime.time(20),
        datetime.time(2),
        3,
        6,
        (
            "Жиын 19:45-те учаскелік пунктте. Жилет пен куәлік міндетті.",
            "Сбор в 19:45 в участковом пункте. Жилет и удостоверение обязательны.",
        ),
    ),
    _Pattern(
        (3,),
        datetime.time(18),
        datetime.time(22),
        2,
        5,
        (
            "Жиын 17:45-те. Аялдамалар мен жарығы жоқ көшелерге назар аударыңыз.",
            "Сбор в 17:45. Внимание остановкам и неосвещённым улицам.",
        ),
    ),
    _Pattern(
        (7,),
        datetime.time(12),
        datetime.time(18),
        2,
        4,
        (
            "Демалыс күні адам көп: қалта ұрлығы мен алаяқтыққа назар аударыңыз.",
            "В выходной людно: внимание карманным кражам и мошенничеству.",
        ),
    ),
    _Pattern(
        (2, 4),
        datetime.time(19),
        datetime.time(23),
        2,
        4,
        ("Жиын 18:45-те. Жастар жиналатын орындарды аралау.", "Сбор в 18:45. Обход мест сбора молодёжи."),
    ),
)
# Talgar's two series, as (zone, pattern) indexes: Friday and Saturday nights in the park, Wednesday at the bazaar.
STORY_SERIES = ((0, 0), (1, 1))
# What inspectors wrote, in the district's language: why someone was excused, why a shift was cancelled.
EXCUSE_NOTES = (
    ("Ауырып қалды, анықтама берді.", "Заболел, справка предоставлена."),
    ("Сессия: емтихан.", "Сессия: экзамен."),
    ("Қызметтік іссапарда.", "Служебная командировка."),
    ("Отбасылық жағдай.", "Семейные обстоятельства."),
)
CANCEL_REASONS = (
    ("Қатты боран: кезекшілік тоқтатылды.", "Сильный буран: патрулирование отменено."),
    ("Дауылды ескерту: кезекшілік болмайды.", "Штормовое предупреждение: патрулирования не будет."),
    ("Учаскелік инспектор оқиғаға шақырылды.", "Участковый инспектор вызван на происшествие."),
)
# Shares of the year's sign-ups (the rest completed), of check-ins and of shifts, and the story logins' chance to be
# on a shift of theirs.
CANCELLED_SHARE, NO_SHOW_SHARE, EXCUSED_SHARE = 0.05, 0.08, 0.03
LATE_CANCEL_SHARE, OUTSIDE_SHARE, FORGOT_CHECKOUT_SHARE = 0.35, 0.05, 0.04
SHIFT_CANCELLED_SHARE, UNDERSTAFFED_SHARE, STORY_REGULAR_SHARE = 0.015, 0.1, 0.4
# The inspector confirmed the check-ins outside the zone of the shifts that ended this long ago; newer ones wait.
CONFIRMED_AFTER = datetime.timedelta(days=2)


@dataclass
class _ZonePlan:
    name: str
    kind: str
    angle: float
    distance_m: float
    size_m: float
    # Areas: per vertex, a turn off the even spacing and a radius factor; routes: per segment, a turn.
    wobble: list[tuple[float, float]]


@dataclass
class _SeriesPlan:
    zone: str
    pattern: _Pattern
    language: int
    # None: running the whole year (the story); otherwise started this many weeks ago.
    weeks_running: int | None
    # Before the series, the district patrolled the same zone every other week (odd or even weeks).
    one_offs_before: bool
    odd_weeks: int


@dataclass
class _PatrolPlan:
    zones: list[_ZonePlan]
    series: list[_SeriesPlan]


def _patrol_plan(district: dict[str, str]) -> _PatrolPlan:
    code = district["code"]
    rng = random.Random(f"{SEED}:{code}:patrols")
    russian = int(
        code != STORY_DISTRICT and rng.random() < RUSSIAN_SHARE.get(district["region"], DEFAULT_RUSSIAN_SHARE)
    )
    if code == STORY_DISTRICT:
        named = list(STORY_ZONES)
    else:
        count = rng.randint(2, 3)
        route = count == 3 and rng.random() < 0.5
        named = [(pair[russian], ZoneKind.AREA) for pair in rng.sample(AREA_NAMES, count - route)]
        if route:
            named.append((rng.choice(ROUTE_NAMES)[russian], ZoneKind.ROUTE))
    spread = rng.uniform(0, 2 * math.pi)
    zones = []
    for index, (name, kind) in enumerate(named):
        angle = spread + index * 2 * math.pi / len(named) + rng.uniform(-0.3, 0.3)
        distance = rng.uniform(0, 400) if index == 0 else rng.uniform(1600, 3000)
        if kind == ZoneKind.AREA:
            size = rng.uniform(500, 1300)
            wobble = [(rng.uniform(-0.25, 0.25), rng.uniform(0.75, 1.2)) for _ in range(rng.randint(6, 9))]
        else:
            size = rng.uniform(2000, 3000)
            wobble = [(rng.uniform(-0.45, 0.45), 1.0) for _ in range(rng.randint(4, 6))]
        zones.append(_ZonePlan(name, kind, angle, distance, size, wobble))
    if code == STORY_DISTRICT:
        series = [
            _SeriesPlan(
                zone=named[zone][0],
                pattern=PATTERNS[pattern],
                language=0,
                weeks_running=None,
                one_offs_before=False,
                odd_weeks=0,
            )
            for zone, pattern in STORY_SERIES
        ]
    else:
        patterns = rng.sample(PATTERNS, 2 if rng.random() < 0.4 else 1)
        series = [
            _SeriesPlan(
                zone=named[-1 if index else 0][0],
                pattern=pattern,
                language=russian,
                weeks_running=rng.randint(6, 14),
                one_offs_before=index == 0,
                odd_weeks=rng.randint(0, 1),
            )
            for index, pattern in enumerate(patterns)
        ]
    return _PatrolPlan(zones, series)


class _Frame:
    """Metres east and north of an origin (equirectangular: within a metre or two over a few kilometres)."""

    def __init__(self, lng: float, lat: float) -> None:
        self.lng, self.lat = lng, lat
        self.kx = M_PER_DEGREE * math.cos(math.radians(lat))

    def lnglat(self, x: float, y: float) -> tuple[float, float]:
        return self.lng + x / self.kx, self.lat + y / M_PER_DEGREE

    def xy(self, lng: float, lat: float) -> tuple[float, float]:
        return (lng - self.lng) * self.kx, (lat - self.lat) * M_PER_DEGREE

    def point(self, x: float, y: float) -> Point:
        return Point(*self.lnglat(x, y), srid=4326)

    def local(self, geometry: GEOSGeometry) -> GEOSGeometry:
        """The shape in this frame's metres (polygons and lines, also multi-part)."""
        if isinstance(geometry, Polygon):
            return Polygon(*[[self.xy(*xy) for xy in ring] for ring in geometry.coords])
        if isinstance(geometry, LineString):
            return LineString([self.xy(*xy) for xy in geometry.coords])
        return type(geometry)(*[self.local(part) for part in geometry])


def _zone_geometry(plan: _ZonePlan, frame: _Frame, *, offset: float, size: float) -> GEOSGeometry:
    cx = plan.distance_m * offset * math.cos(plan.angle)
    cy = plan.distance_m * offset * math.sin(plan.angle)
    radius = plan.size_m * size
    if plan.kind == ZoneKind.AREA:
        step = 2 * math.pi / len(plan.wobble)
        ring = [
            frame.lnglat(
                cx + radius * factor * math.cos((index + turn) * step),
                cy + radius * factor * math.sin((index + turn) * step),
            )
            for index, (turn, factor) in enumerate(plan.wobble)
        ]
        return Polygon([*ring, ring[0]], srid=4326)
    # A route bends by less than half a turn in all, so it never crosses itself.
    heading, length = plan.angle + math.pi / 2, radius / len(plan.wobble)
    points = [(0.0, 0.0)]
    for turn, _factor in plan.wobble:
        heading += turn
        points.append((points[-1][0] + length * math.cos(heading), points[-1][1] + length * math.sin(heading)))
    mx = sum(x for x, _y in points) / len(points)
    my = sum(y for _x, y in points) / len(points)
    return LineString([frame.lnglat(cx + x - mx, cy + y - my) for x, y in points], srid=4326)


def _fit_zone(plan: _ZonePlan, district: District) -> GEOSGeometry | None:
    """The zone near the district's centre, moved in and shrunk until it lies within the boundary (if there is one)."""
    boundary = district.boundary
    frame = _Frame(district.centre.x, district.centre.y)
    for scale in (1.0, 0.6, 0.35, 0.2, 0.1):
        geometry = _zone_geometry(plan, frame, offset=scale, size=max(scale, 0.3))
        if boundary is None or covered_by(boundary, geometry):
            return geometry
    inner = boundary.point_on_surface
    for size in (0.3, 0.15, 0.05):
        geometry = _zone_geometry(plan, _Frame(inner.x, inner.y), offset=0, size=size)
        if covered_by(boundary, geometry):
            return geometry
    return None


def _save_zones(
    patrols: dict[str, _PatrolPlan],
    *,
    districts: dict[str, District],
    users: dict[str, User],
    inspectors: dict[str, str],
) -> tuple[dict[tuple[str, str], Zone], int]:
    """The demo's zones by (district code, name): missing ones drawn within their district."""
    demo = {districts[code].pk: code for code in patrols}
    current = Zone.objects.filter(district_id__in=list(demo), is_archived=False)
    existing = set(current.values_list("district_id", "name"))
    new_zones = []
    for code, patrol in patrols.items():
        district = districts[code]
        for plan in patrol.zones:
            if (district.pk, plan.name) in existing:
                continue
            geometry = _fit_zone(plan, district)
            if geometry is not None:
                new_zones.append(
                    Zone(
                        district=district,
                        name=plan.name,
                        kind=plan.kind,
                        geometry=geometry,
                        created_by=users[inspectors[code]],
                    )
                )
    Zone.objects.bulk_create(new_zones)
    # `created_at` is filled on insert: the zones were drawn before the year of patrols on them.
    drawn_at = datetime.datetime.combine(
        timezone.localdate() - datetime.timedelta(days=HISTORY_DAYS + 14), datetime.time(11), tzinfo=LOCAL_TZ
    )
    Zone.objects.filter(pk__in=[zone.pk for zone in new_zones]).update(created_at=drawn_at, updated_at=drawn_at)
    zones = {(demo[zone.district_id], zone.name): zone for zone in current.all()}
    return zones, len(new_zones)


def _save_series(
    patrols: dict[str, _PatrolPlan],
    *,
    districts: dict[str, District],
    zones: dict[tuple[str, str], Zone],
    users: dict[str, User],
    inspectors: dict[str, str],
    today: datetime.date,
) -> tuple[list[tuple[ShiftSeries, _SeriesPlan]], int]:
    """The weekly series, written directly (the services refuse a first day in the past), with their groups."""
    wanted = {
        (zones[(code, plan.zone)].pk, plan.pattern.start): (code, plan)
        for code, patrol in patrols.items()
        for plan in patrol.series
        if (code, plan.zone) in zones
    }
    zone_ids = sorted({zone_id for zone_id, _start in wanted})
    existing = set(ShiftSeries.objects.filter(zone_id__in=zone_ids).values_list("zone_id", "start_time"))
    new_series = []
    for (zone_id, start), (code, plan) in wanted.items():
        if (zone_id, start) in existing:
            continue
        pattern = plan.pattern
        if plan.weeks_running is None:
            starts_on = today - datetime.timedelta(days=HISTORY_DAYS)
        else:
            starts_on = today - datetime.timedelta(weeks=plan.weeks_running)
        new_series.append(
            ShiftSeries(
                district=districts[code],
                zone_id=zone_id,
                weekdays=list(pattern.weekdays),
                start_time=pattern.start,
                end_time=pattern.end,
                starts_on=starts_on,
                min_volunteers=pattern.min_volunteers,
                max_volunteers=pattern.max_volunteers,
                inspector=users[inspectors[code]],
                briefing=pattern.briefing[plan.language],
                generated_until=today,
            )
        )
    ShiftSeries.objects.bulk_create(new_series)
    found = [
        (series, wanted[(series.zone_id, series.start_time)][1])
        for series in ShiftSeries.objects.filter(zone_id__in=zone_ids)
        .select_related("zone")
        .order_by("district__code", "zone__name")
        if (series.zone_id, series.start_time) in wanted
    ]
    fresh = [series for series, _plan in found if (series.zone_id, series.start_time) not in existing]
    group_ids: dict[int, list[int]] = {}
    for district_id, group_id in Group.objects.filter(
        district_id__in={series.district_id for series in fresh}, is_active=True
    ).values_list("district_id", "pk"):
        group_ids.setdefault(district_id, []).append(group_id)
    Through = ShiftSeries.groups.through
    Through.objects.bulk_create(
        [
            Through(shiftseries_id=series.pk, group_id=group_id)
            for series in fresh
            for group_id in group_ids.get(series.district_id, [])
        ]
    )
    # `created_at` is filled on insert: the inspector set the series up a few days before its first day.
    for series in fresh:
        series.created_at = datetime.datetime.combine(
            series.starts_on - datetime.timedelta(days=3), datetime.time(10, 30), tzinfo=LOCAL_TZ
        )
    ShiftSeries.objects.bulk_update(fresh, ["created_at"])
    return found, len(new_series)


class _ZoneSpot:
    """Positions in and around a zone, with their distance from it in metres, computed in a local frame."""

    def __init__(self, zone: Zone) -> None:
        centre = zone.geometry.centroid
        self.frame = _Frame(centre.x, centre.y)
        self.shape = self.frame.local(zone.geometry)
        self.area = self.shape.dims == 2
        self.extent = self.shape.extent
        self.centre = self.shape.centroid
        self.edge = self.shape.boundary if self.area else self.shape
        self.edge_length = self.edge.length
        polygons = [self.shape] if isinstance(self.shape, Polygon) else list(self.shape) if self.area else []
        self.rings = [ring for polygon in polygons for ring in polygon.coords]

    def _contains(self, x: float, y: float) -> bool:
        """Even-odd ray casting over the rings: cheaper than a GEOS point for every try."""
        inside = False
        for ring in self.rings:
            for (x1, y1), (x2, y2) in zip(ring, ring[1:], strict=False):
                if (y1 > y) != (y2 > y) and x < x1 + (y - y1) * (x2 - x1) / (y2 - y1):
                    inside = not inside
        return inside

    def _at(self, x: float, y: float) -> tuple[Point, int]:
        return self.frame.point(x, y), round(self.shape.distance(Point(x, y)))

    def inside(self, rng: random.Random) -> tuple[Point, int]:
        if self.area:
            xmin, ymin, xmax, ymax = self.extent
            for _ in range(30):
                x, y = rng.uniform(xmin, xmax), rng.uniform(ymin, ymax)
                if self._contains(x, y):
                    return self.frame.point(x, y), 0
            inner = self.shape.point_on_surface
            return self.frame.point(inner.x, inner.y), 0
        on_line = self.edge.interpolate(rng.uniform(0, self.edge_length))
        return self._at(on_line.x + rng.uniform(-25, 25), on_line.y + rng.uniform(-25, 25))

    def outside(self, rng: random.Random, metres: float) -> tuple[Point, int]:
        """A position about `metres` out of the zone: off its edge, away from its centre."""
        centre = self.centre
        best: tuple[float, float, float] | None = None
        for _ in range(8):
            on_edge = self.edge.interpolate(rng.uniform(0, self.edge_length))
            dx, dy = on_edge.x - centre.x, on_edge.y - centre.y
            norm = math.hypot(dx, dy)
            if norm < 1:
                angle = rng.uniform(0, 2 * math.pi)
                dx, dy, norm = math.cos(angle), math.sin(angle), 1.0
            x, y = on_edge.x + dx / norm * metres, on_edge.y + dy / norm * metres
            away = self.shape.distance(Point(x, y))
            if best is None or away > best[2]:
                best = (x, y, away)
            if away >= 0.6 * metres:
                break
        return self._at(best[0], best[1])


@dataclass
class _Occasion:
    """One shift of the past year to write, with what happened on it."""

    district: str
    zone: Zone
    series: ShiftSeries | None
    starts_at: datetime.datetime
    ends_at: datetime.datetime
    min_volunteers: int
    max_volunteers: int
    inspector_id: int
    briefing: str
    group_ids: list[int]
    language: int
    shift: Shift | None = None
    assignments: list[Assignment] = field(default_factory=list)
    events: list[ShiftEvent] = field(default_factory=list)


class _Roster:
    """Who could patrol for a district's groups on a given day: registered members at the time."""

    def __init__(self, districts: list[District]) -> None:
        self.rows: dict[int, list[tuple[str, int, int, datetime.date, datetime.date | None, datetime.date]]] = {}
        memberships = Membership.objects.filter(
            group__district__in=districts,
            volunteer__status__in=[VolunteerStatus.REGISTERED, VolunteerStatus.RETIRED],
            volunteer__registered_on__isnull=False,
        ).values_list(
            "group__district_id",
            "volunteer__iin",
            "volunteer_id",
            "group_id",
            "joined_on",
            "left_on",
            "volunteer__registered_on",
        )
        for district_id, *row in memberships:
            self.rows.setdefault(district_id, []).append(tuple(row))
        for rows in self.rows.values():
            rows.sort()

    def on(self, district_id: int, day: datetime.date, group_ids: list[int]) -> list[int]:
        """Volunteer ids in IIN order (so the draw does not depend on database ids)."""
        chosen: dict[int, None] = {}
        for _iin, volunteer_id, group_id, joined_on, left_on, registered_on in self.rows.get(district_id, []):
            if group_id in group_ids and joined_on <= day < (left_on or datetime.date.max) and registered_on <= day:
                chosen[volunteer_id] = None
        return list(chosen)


def _past_occasions(
    series: list[tuple[ShiftSeries, _SeriesPlan]], *, codes: dict[int, str], now: datetime.datetime
) -> list[_Occasion]:
    """The year's shifts of every series up to now, and every other week's one-off shift before a series began."""
    today = timezone.localdate(now)
    window = today - datetime.timedelta(days=HISTORY_DAYS)
    group_ids: dict[int, list[int]] = {}
    for series_id, group_id in ShiftSeries.groups.through.objects.filter(
        shiftseries_id__in=[item.pk for item, _plan in series]
    ).values_list("shiftseries_id", "group_id"):
        group_ids.setdefault(series_id, []).append(group_id)
    occasions = []
    for item, plan in series:
        common = {
            "district": codes[item.district_id],
            "zone": item.zone,
            "min_volunteers": item.min_volunteers,
            "max_volunteers": item.max_volunteers,
            "inspector_id": item.inspector_id,
            "briefing": item.briefing,
            "group_ids": sorted(group_ids.get(item.pk, [])),
            "language": plan.language,
        }
        for starts_at, ends_at in series_occurrences(item, start=window, end=today):
            if starts_at <= now:
                occasions.append(_Occasion(series=item, starts_at=starts_at, ends_at=ends_at, **common))
        if plan.one_offs_before and item.starts_on > window:
            earlier = ShiftSeries(
                weekdays=item.weekdays[:1],
                start_time=item.start_time,
                end_time=item.end_time,
                starts_on=window,
                ends_on=item.starts_on - datetime.timedelta(days=1),
            )
            for starts_at, ends_at in series_occurrences(earlier, start=window, end=today):
                if (starts_at.date().toordinal() // 7) % 2 == plan.odd_weeks and starts_at <= now:
                    occasions.append(_Occasion(series=None, starts_at=starts_at, ends_at=ends_at, **common))
    return occasions


def _minutes(rng: random.Random, low: int, high: int) -> datetime.timedelta:
    return datetime.timedelta(minutes=rng.randint(low, high), seconds=rng.randint(0, 59))


def _attend(
    occasion: _Occasion,
    *,
    people: list[int],
    spot: _ZoneSpot,
    regulars: dict[int, int | None],
    now: datetime.datetime,
) -> None:
    """What happened on one past (or running) shift: its status, who came, who did not, and its history."""
    local_start = timezone.localtime(occasion.starts_at)
    rng = random.Random(f"{SEED}:{occasion.district}:{occasion.zone.name}:{local_start:%Y-%m-%dT%H:%M}")
    starts_at, ends_at = occasion.starts_at, occasion.ends_at
    running = ends_at + close_grace() > now
    tolerance = checkin_tolerance_m()
    shift = Shift(
        district_id=occasion.zone.district_id,
        zone=occasion.zone,
        series=occasion.series,
        starts_at=starts_at,
        ends_at=ends_at,
        min_volunteers=occasion.min_volunteers,
        max_volunteers=occasion.max_volunteers,
        inspector_id=occasion.inspector_id,
        briefing=occasion.briefing,
        status=ShiftStatus.SCHEDULED if running else ShiftStatus.CLOSED,
        closed_at=None if running else ends_at + close_grace(),
    )
    occasion.shift = shift
    cancelled = not running and rng.random() < SHIFT_CANCELLED_SHARE
    # Now and then a shift goes short of its minimum (and was flagged the day before).
    fewest = occasion.min_volunteers - (rng.random() < UNDERSTAFFED_SHARE)
    size = min(len(people), rng.randint(fewest, occasion.max_volunteers))
    chosen = [volunteer for volunteer in regulars if volunteer in people and rng.random() < STORY_REGULAR_SHARE]
    others = [volunteer for volunteer in people if volunteer not in chosen]
    chosen += rng.sample(others, max(min(size - len(chosen), len(others)), 0))
    if cancelled:
        shift.status, shift.closed_at = ShiftStatus.CANCELLED, None
        shift.cancel_reason = rng.choice(CANCEL_REASONS)[occasion.language]
        cancelled_at = starts_at - _minutes(rng, 120, 30 * 60)
        occasion.events.append(
            ShiftEvent(
                kind=ShiftEventKind.CANCELLED,
                by_id=occasion.inspector_id,
                details={"reason": shift.cancel_reason},
                at=cancelled_at,
            )
        )
    for volunteer_id in chosen:
        signed_up_at = starts_at - _minutes(rng, 12 * 60, 14 * 24 * 60)
        assignment = Assignment(
            volunteer_id=volunteer_id, signed_up_by_id=regulars.get(volunteer_id), created_at=signed_up_at
        )
        draw = rng.random()
        if cancelled:
            assignment.status, assignment.cancelled_at = AssignmentStatus.CANCELLED, cancelled_at
            assignment.created_at = min(signed_up_at, cancelled_at - _minutes(rng, 60, 24 * 60))
        elif draw < CANCELLED_SHARE:
            late = rng.random() < LATE_CANCEL_SHARE
            before = _minutes(rng, 60, (late_cancel_hours() - 1) * 60) if late else _minutes(rng, 13 * 60, 4 * 24 * 60)
            assignment.status, assignment.cancelled_at = AssignmentStatus.CANCELLED, starts_at - before
            assignment.cancelled_late = late
            assignment.created_at = assignment.cancelled_at - _minutes(rng, 60, 5 * 24 * 60)
        elif draw < CANCELLED_SHARE + NO_SHOW_SHARE:
            assignment.status = AssignmentStatus.SIGNED_UP if running else AssignmentStatus.NO_SHOW
        elif draw < CANCELLED_SHARE + NO_SHOW_SHARE + EXCUSED_SHARE:
            assignment.status, assignment.note = AssignmentStatus.EXCUSED, rng.choice(EXCUSE_NOTES)[occasion.language]
            occasion.events.append(
                ShiftEvent(
                    kind=ShiftEventKind.EXCUSED,
                    by_id=occasion.inspector_id,
                    volunteer_id=volunteer_id,
                    details={"note": assignment.note},
                    at=min(starts_at - _minutes(rng, 30, 20 * 60), now),
                )
            )
        else:
            assignment.status = AssignmentStatus.COMPLETED
            assignment.check_in_at = starts_at + _minutes(rng, -15, 12)
            if rng.random() < OUTSIDE_SHARE:
                assignment.check_in_point, assignment.check_in_distance_m = spot.outside(rng, rng.uniform(200, 800))
            else:
                assignment.check_in_point, assignment.check_in_distance_m = spot.inside(rng)
            assignment.check_in_outside = assignment.check_in_distance_m > tolerance
            if rng.random() < FORGOT_CHECKOUT_SHARE:
                assignment.check_out_at, assignment.closed_automatically = ends_at, True
            else:
                assignment.check_out_at = ends_at + _minutes(rng, -25, 15)
                assignment.check_out_point, assignment.check_out_distance_m = spot.inside(rng)
                assignment.check_out_outside = assignment.check_out_distance_m > tolerance
            if assignment.check_in_outside:
                _doubt(assignment, inspector_id=occasion.inspector_id, ends_at=ends_at, now=now)
            if running:
                _rewind(assignment, now=now)
            assignment.credited_minutes = credited_minutes(assignment, shift)
        occasion.assignments.append(assignment)
    on_shift = [a for a in occasion.assignments if a.status != AssignmentStatus.CANCELLED or cancelled]
    if len(on_shift) < occasion.min_volunteers:
        shift.understaffed_at = starts_at - _minutes(rng, 23 * 60, 24 * 60)
    if shift.status == ShiftStatus.CLOSED:
        occasion.events.append(ShiftEvent(kind=ShiftEventKind.CLOSED, details={"automatic": True}, at=shift.closed_at))


def _doubt(assignment: Assignment, *, inspector_id: int, ends_at: datetime.datetime, now: datetime.datetime) -> None:
    """A check-in outside the zone waits for the inspector, who confirmed those of shifts over two days ago."""
    assignment.confirmation, assignment.confirmation_doubt = CheckInConfirmation.NEEDED, CheckInDoubt.OUTSIDE_ZONE
    if ends_at < now - CONFIRMED_AFTER:
        assignment.confirmation = CheckInConfirmation.CONFIRMED
        assignment.confirmed_by_id, assignment.confirmed_at = inspector_id, ends_at + CONFIRMED_AFTER / 2


def _rewind(assignment: Assignment, *, now: datetime.datetime) -> None:
    """A shift still running: whoever has not arrived yet is signed up, whoever has not left is still checked in (the
    periodic close records the forgetful ones' check-out later)."""
    if assignment.check_in_at > now:
        assignment.status = AssignmentStatus.SIGNED_UP
        assignment.check_in_at = assignment.check_in_point = assignment.check_in_distance_m = None
        assignment.check_in_outside = False
        assignment.confirmation, assignment.confirmation_doubt = CheckInConfirmation.NOT_NEEDED, ""
        assignment.confirmed_by_id = assignment.confirmed_at = None
    elif assignment.closed_automatically or assignment.check_out_at > now:
        assignment.status = AssignmentStatus.CHECKED_IN
    if assignment.status != AssignmentStatus.COMPLETED:
        assignment.check_out_at = assignment.check_out_point = assignment.check_out_distance_m = None
        assignment.check_out_outside = assignment.closed_automatically = False


def _save_history(
    series: list[tuple[ShiftSeries, _SeriesPlan]],
    *,
    districts: dict[str, District],
    now: datetime.datetime,
) -> dict[str, int]:
    """The past year's shifts (closed, a few cancelled, one maybe still running) with attendance, in bulk."""
    codes = {district.pk: code for code, district in districts.items()}
    occasions = _past_occasions(series, codes=codes, now=now)
    zone_ids = sorted({occasion.zone.pk for occasion in occasions})
    earliest = min((occasion.starts_at for occasion in occasions), default=now)
    existing = set(
        Shift.objects.filter(zone_id__in=zone_ids, starts_at__gte=earliest, starts_at__lte=now).values_list(
            "zone_id", "starts_at"
        )
    )
    occasions = [o for o in occasions if (o.zone.pk, o.starts_at) not in existing]
    if not occasions:
        return {"past_shifts": 0, "past_assignments": 0}
    roster = _Roster(list(districts.values()))
    story = Volunteer.objects.filter(user__username__in=["volunteer", "leader"]).values_list("pk", "user_id")
    regulars = dict(story.order_by("iin"))
    spots: dict[int, _ZoneSpot] = {}
    for occasion in occasions:
        zone = occasion.zone
        if zone.pk not in spots:
            spots[zone.pk] = _ZoneSpot(zone)
        people = roster.on(zone.district_id, timezone.localdate(occasion.starts_at), occasion.group_ids)
        story_people = regulars if occasion.district == STORY_DISTRICT else {}
        _attend(occasion, people=people, spot=spots[zone.pk], regulars=story_people, now=now)

    insert_rows(Shift, [occasion.shift for occasion in occasions], batch_size=500)
    ids = dict(
        ((zone_id, starts_at), pk)
        for zone_id, starts_at, pk in Shift.objects.filter(
            zone_id__in=zone_ids, starts_at__gte=earliest, starts_at__lte=now
        ).values_list("zone_id", "starts_at", "pk")
    )
    for occasion in occasions:
        occasion.shift.pk = ids[(occasion.zone.pk, occasion.starts_at)]
        for item in (*occasion.assignments, *occasion.events):
            item.shift_id = occasion.shift.pk
    Through = Shift.groups.through
    insert_rows(
        Through, [Through(shift_id=o.shift.pk, group_id=group_id) for o in occasions for group_id in o.group_ids]
    )
    # `created_at` and `at` (`auto_now_add`) are written as drawn: when each sign-up and each step really happened.
    assignments = [a for occasion in occasions for a in occasion.assignments]
    insert_rows(Assignment, assignments, keep=("created_at",))
    insert_rows(ShiftEvent, [e for occasion in occasions for e in occasion.events], keep=("at",))
    # A series' shifts were generated four weeks ahead; the one-off ones planned a week before.
    for chunk in _chunks([occasion.shift.pk for occasion in occasions if occasion.series is not None]):
        Shift.objects.filter(pk__in=chunk).update(
            created_at=F("starts_at") - datetime.timedelta(days=series_horizon_days()),
            updated_at=Coalesce("closed_at", "ends_at"),
        )
    for chunk in _chunks([occasion.shift.pk for occasion in occasions if occasion.series is None]):
        Shift.objects.filter(pk__in=chunk).update(
            created_at=F("starts_at") - datetime.timedelta(days=7), updated_at=Coalesce("closed_at", "ends_at")
        )
    return {"past_shifts": len(occasions), "past_assignments": len(assignments)}


def _chunks(items: list[int], size: int = 500):
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _soon_start(now: datetime.datetime) -> datetime.datetime:
    """This evening at seven if it is early enough to sign up, else tomorrow evening."""
    local = timezone.localtime(now)
    day = local.date() if local.hour < 17 else local.date() + datetime.timedelta(days=1)
    return datetime.datetime.combine(day, datetime.time(19), tzinfo=LOCAL_TZ)


def _save_coming_week(
    *, district: District, zones: dict[tuple[str, str], Zone], users: dict[str, User], now: datetime.datetime
) -> dict[str, int]:
    """Talgar's coming week, through the services: one shift full with a waiting list, one the demo volunteer is on,
    the others partly filled, and one this or tomorrow evening. Only shifts nobody has signed up for are filled."""
    inspector = users["inspector"]
    coming = Shift.objects.filter(
        district=district, status=ShiftStatus.SCHEDULED, starts_at__gt=now, starts_at__lte=now + COMING_WEEK
    )
    created_shifts = 0
    zone = zones.get((STORY_DISTRICT, STORY_SOON_ZONE))
    if zone is not None and not coming.filter(series=None).exists():
        starts_at = _soon_start(now)
        shift_create(
            by=inspector,
            zone=zone,
            starts_at=starts_at,
            ends_at=starts_at + datetime.timedelta(hours=4),
            min_volunteers=2,
            max_volunteers=4,
            briefing=STORY_SOON_BRIEFING,
        )
        created_shifts = 1
    shifts = list(coming.select_related("zone").annotate(people=Count("assignments")).order_by("starts_at", "pk"))
    me = Volunteer.objects.get(user__username="volunteer")
    mine = Assignment.objects.filter(shift__in=shifts, volunteer=me, status__in=BUSY_STATUSES).exists()
    waiting = Assignment.objects.filter(shift__in=shifts, status=AssignmentStatus.WAITLISTED).exists()
    empty = [shift for shift in shifts if not shift.people]
    pool = list(
        Volunteer.objects.filter(
            status=VolunteerStatus.REGISTERED,
            memberships__group__district=district,
            memberships__group__is_active=True,
            memberships__left_on=None,
        )
        .exclude(pk=me.pk)
        .select_related("user")
        .distinct()
        .order_by("iin")
    )
    signed = 0

    def sign_up(shift: Shift, volunteer: Volunteer) -> bool:
        by = volunteer.user if volunteer.user_id else inspector
        try:
            shift_signup(shift=shift, volunteer=volunteer, by=by)
        except ValidationError:
            return False
        return True

    def fill(shift: Shift, count: int | None = None) -> int:
        rng = random.Random(f"{SEED}:{shift.zone.name}:{timezone.localtime(shift.starts_at):%Y-%m-%dT%H:%M}:coming")
        if count is None:
            count = rng.randint(1, shift.max_volunteers - 2)
        done = 0
        for volunteer in rng.sample(pool, len(pool)):
            if done >= count:
                break
            done += sign_up(shift, volunteer)
        return done

    if not waiting and empty:
        # The busiest night (the weekend one, with the most seats) fills up first.
        full = min(empty, key=lambda shift: (shift.series_id is None, -shift.max_volunteers, shift.starts_at))
        empty.remove(full)
        signed += fill(full, full.max_volunteers + 2)
    if not mine:
        for shift in [s for s in empty if s.series_id] + [s for s in empty if not s.series_id]:
            if sign_up(shift, me):
                signed += 1 + fill(shift, 1)
                empty.remove(shift)
                break
    for shift in empty:
        signed += fill(shift, 1 if shift.series_id is None else None)
    return {"coming_shifts": created_shifts, "coming_assignments": signed}


def _save_patrols(
    plan: _Plan, *, districts: dict[str, District], users: dict[str, User], now: datetime.datetime
) -> dict[str, int]:
    patrols = {row["code"]: _patrol_plan(row) for row in plan.districts}
    today = timezone.localdate(now)
    zones, new_zones = _save_zones(patrols, districts=districts, users=users, inspectors=plan.inspectors)
    series, new_series = _save_series(
        patrols, districts=districts, zones=zones, users=users, inspectors=plan.inspectors, today=today
    )
    history = _save_history(series, districts=districts, now=now)
    generated = sum(series_generate(series=item) for item, _plan in series)
    coming = _save_coming_week(district=districts[STORY_DISTRICT], zones=zones, users=users, now=now)
    return {
        "zones": new_zones,
        "series": new_series,
        "shifts": history["past_shifts"] + generated + coming["coming_shifts"],
        "assignments": history["past_assignments"] + coming["coming_assignments"],
    }
