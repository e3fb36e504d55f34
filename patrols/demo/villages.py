"""The demo districts' villages and KATO codes.

The data files hold 41 real settlements; a rural district has 20 to 60 villages, so the rest are made up here: names
built the way Kazakh village names are (Ақсу, Қарабұлақ, Жаңаталап), in Kazakh, in the Russian spelling and in Latin
letters, at a spot near the district's centre. Their KATO codes, and the districts', follow the classifier's shape
(region, district, rural okrug, settlement: 2 + 2 + 2 + 3 digits) but are the demo's own: import the real classifier
with `manage.py import_settlements`. The villages have their own random stream, so the rest of the demo (people,
shifts, reports) is the same with or without them.
"""

from __future__ import annotations

import math
import random

from django.contrib.gis.geos import MultiPolygon, Point

from ..services.settlements import latin
from .country import KM_PER_DEGREE, SEED

VILLAGES_PER_DISTRICT = (20, 60)
# City districts (Astana, Almaty, Shymkent) have no villages.
CITY_REGIONS = ("KZ-71", "KZ-75", "KZ-79")
# How far from the district's centre the made-up villages lie.
SPREAD_KM = 35.0

# The first and second halves of a village name, each in Kazakh and in the Russian spelling.
FIRST = (
    ("Ақ", "Ак"),
    ("Қара", "Кара"),
    ("Көк", "Кок"),
    ("Сары", "Сары"),
    ("Жаңа", "Жана"),
    ("Қызыл", "Кызыл"),
    ("Бес", "Бес"),
    ("Үш", "Уш"),
    ("Талды", "Талды"),
    ("Алма", "Алма"),
    ("Қайың", "Кайын"),
    ("Тас", "Тас"),
    ("Құм", "Кум"),
    ("Шұбар", "Шубар"),
    ("Ащы", "Ащи"),
    ("Терең", "Терен"),
    ("Бай", "Бай"),
    ("Ор", "Ор"),
    ("Шың", "Шын"),
    ("Ұзын", "Узын"),
)
SECOND = (
    ("су", "су"),
    ("бұлақ", "булак"),
    ("тау", "тау"),
    ("төбе", "тобе"),
    ("қайнар", "кайнар"),
    ("арық", "арык"),
    ("өзек", "озек"),
    ("жар", "жар"),
    ("көл", "коль"),
    ("құдық", "кудук"),
    ("терек", "терек"),
    ("сай", "сай"),
    ("ағаш", "агаш"),
    ("қамыс", "камыс"),
    ("талап", "талап"),
    ("тоғай", "тогай"),
)
# Names of villages named after people and ideas, as many are.
WHOLE = (
    ("Абай", "Абай"),
    ("Амангелді", "Амангельды"),
    ("Жамбыл", "Жамбыл"),
    ("Бірлік", "Бирлик"),
    ("Ынтымақ", "Ынтымак"),
    ("Береке", "Береке"),
    ("Достық", "Достык"),
    ("Жаңалық", "Жаналык"),
    ("Шоқан", "Шокан"),
    ("Мағжан", "Магжан"),
)


def district_katos(districts: list[dict[str, str]]) -> dict[str, str]:
    """A KATO-shaped code for each district: the region's two digits, then 20, 22, ... in the file's order."""
    katos: dict[str, str] = {}
    counts: dict[str, int] = {}
    for row in sorted(districts, key=lambda row: row["code"]):
        number = counts.get(row["region"], 0)
        counts[row["region"]] = number + 1
        katos[row["code"]] = f"{row['region'][3:5]}{20 + 2 * number:02d}00000"
    return katos


def _names(rng: random.Random) -> tuple[str, str]:
    if rng.random() < 0.15:
        return rng.choice(WHOLE)
    (first_kk, first_ru), (second_kk, second_ru) = rng.choice(FIRST), rng.choice(SECOND)
    return first_kk + second_kk, first_ru + second_ru


def _spot(rng: random.Random, district: dict[str, str], boundary: MultiPolygon | None) -> tuple[float, float]:
    """Longitude and latitude of a village: inside the district's boundary when it has one, else near its centre."""
    if boundary is not None:
        west, south, east, north = boundary.extent
        while True:
            lng, lat = rng.uniform(west, east), rng.uniform(south, north)
            if boundary.contains(Point(lng, lat, srid=4326)):
                return lng, lat
    centre_lng, centre_lat = float(district["lng"]), float(district["lat"])
    distance, bearing = SPREAD_KM * math.sqrt(rng.random()), rng.uniform(0, 2 * math.pi)
    dlat = distance * math.sin(bearing) / KM_PER_DEGREE
    dlng = distance * math.cos(bearing) / (KM_PER_DEGREE * math.cos(math.radians(centre_lat)))
    return centre_lng + dlng, centre_lat + dlat


def villages(
    districts: list[dict[str, str]], real: list[dict[str, str]], boundaries: dict[str, MultiPolygon]
) -> list[dict[str, str]]:
    """The made-up villages of the rural demo districts, as rows like the settlements file's, with a `kato`.

    A district keeps its real settlements from the file and gets villages up to a number between 20 and 60; a name is
    used once in a district (and never one of its real settlements' names)."""
    rng = random.Random(SEED * 7 + 11)
    katos = district_katos(districts)
    by_district: dict[str, list[dict[str, str]]] = {}
    for row in real:
        by_district.setdefault(row["district"], []).append(row)
    made: list[dict[str, str]] = []
    for district in sorted(districts, key=lambda row: row["code"]):
        if district["region"] in CITY_REGIONS:
            continue
        code = district["code"]
        taken = {row["name_kk"] for row in by_district.get(code, [])}
        wanted = rng.randint(*VILLAGES_PER_DISTRICT) - len(taken)
        for number in range(1, wanted + 1):
            name_kk, name_ru = _names(rng)
            while name_kk in taken:
                name_kk, name_ru = _names(rng)
            taken.add(name_kk)
            lng, lat = _spot(rng, district, boundaries.get(code))
            okrug, place = divmod(number - 1, 4)
            made.append(
                {
                    "code": f"{code}-V{number:02d}",
                    "district": code,
                    "name_kk": name_kk,
                    "name_ru": name_ru,
                    "name_en": latin(name_kk),
                    "lat": f"{lat:.4f}",
                    "lng": f"{lng:.4f}",
                    "kato": f"{katos[code][:4]}{okrug + 31:02d}{place + 1:03d}",
                }
            )
    return made


def real_settlement_katos(real: list[dict[str, str]], districts: list[dict[str, str]]) -> dict[str, str]:
    """KATO-shaped codes for the file's real settlements: rural okrug 30 of their district, numbered in file order."""
    katos = district_katos(districts)
    numbers: dict[str, int] = {}
    result: dict[str, str] = {}
    for row in real:
        number = numbers.get(row["district"], 0) + 1
        numbers[row["district"]] = number
        result[row["code"]] = f"{katos[row['district']][:4]}30{number:03d}"
    return result
