"""The benchmarks' country: the demo's districts padded to a number per region with numbered extra ones, groups of the
four kinds (village groups in rural districts) and their people, drawn by the demo's own planner; and the demo's
report texts, for writing a million reports by COPY (`loader.copy_report_lines`). `bench/dashboard.py` uses this
module and `loader`, nothing private of the others.
"""

from __future__ import annotations

import datetime
import random
import secrets

from ..choices import GroupKind, Role
from .country import DATA_DIR, DISTRICTS_FILE, SEED, SETTLEMENTS_FILE, STORY_REGION, _read, _short_name
from .people import (
    CITY_INSTITUTIONS,
    COLLEGE_KINDS,
    MEMBERS_PER_GROUP,
    SQUAD_NAMES,
    _Account,
    _GroupPlan,
    _inspector_account,
    _number,
    _Plan,
    _Planner,
    _save_accounts,
    _save_geography,
    _save_groups,
    _save_people,
)
from .reports import OUTCOME_WEIGHTS, _words
from .villages import CITY_REGIONS

# Every region but the three cities gets this many districts at least; the cities have no village groups.
DISTRICTS_PER_REGION = 11
CHIEF_REGION = STORY_REGION


def copy_text(value: str) -> str:
    """A text field escaped for COPY's text format."""
    return value.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


def large_country_plan(*, districts_per_region: int = DISTRICTS_PER_REGION) -> _Plan:
    """The demo's districts plus numbered extra ones (at least DISTRICTS_PER_REGION a region), with groups of the four
    kinds (village groups in rural districts) and their people, drawn by the demo's planner."""
    planner = _Planner()
    regions = {row["iso"]: row for row in _read(DATA_DIR / "kz-regions.tsv")}
    districts = sorted(_read(DISTRICTS_FILE), key=lambda row: row["code"])
    settlements = _read(SETTLEMENTS_FILE)
    rng = random.Random(f"{SEED}:bench")
    for code, region in regions.items():
        if code in CITY_REGIONS:
            continue
        have = sum(row["region"] == code for row in districts)
        for number in range(1, districts_per_region - have + 1):
            districts.append(
                {
                    "code": f"{code}-X{number:02d}",
                    "region": code,
                    "name_kk": f"Қосымша №{number} ауданы",
                    "name_ru": f"Дополнительный район № {number}",
                    "name_en": f"Extra District {number}",
                    "lat": f"{float(region['centre_lat']) + rng.uniform(-1.2, 1.2):.4f}",
                    "lng": f"{float(region['centre_lng']) + rng.uniform(-1.8, 1.8):.4f}",
                }
            )
    villages: dict[str, list[dict[str, str]]] = {}
    for row in settlements:
        villages.setdefault(row["district"], []).append(row)
    accounts = [
        _Account("chief", "Серік", "Әбдірахманов", Role.CHIEF, chief_region=CHIEF_REGION),
        _Account("analyst", "Динара", "Ахметова", Role.ANALYST, language="ru"),
    ]
    inspectors, groups = {}, []
    for district in districts:
        account = _inspector_account(planner, district)
        accounts.append(account)
        inspectors[district["code"]] = account.username
        rural = district["region"] not in CITY_REGIONS
        if rural and district["code"] not in villages:
            village = _village_of(district)
            settlements.append(village)
            villages[district["code"]] = [village]
        for plan in _groups_for(planner, district, villages.get(district["code"], []) if rural else []):
            planner.fill(plan, district, planner.rng.randint(*MEMBERS_PER_GROUP))
            groups.append(plan)
    _number(groups)
    return _Plan(districts, settlements, accounts, inspectors, groups)


def _village_of(district: dict[str, str]) -> dict[str, str]:
    """A settlement named after its district (as many auyls are), for the district's village groups."""
    short = _short_name(district["name_kk"])
    return {
        "code": f"{district['code']}-A1",
        "district": district["code"],
        "name_kk": short,
        "name_ru": district["name_ru"].removesuffix(" район").removeprefix("район "),
        "name_en": district["name_en"].removesuffix(" District"),
        "lat": district["lat"],
        "lng": district["lng"],
    }


def _groups_for(planner, district: dict[str, str], villages: list[dict[str, str]]):
    """Public assistants everywhere, most districts a student squad, rural ones Sakshy and Sarbaz village groups."""
    rng = planner.rng
    code, short = district["code"], _short_name(district["name_kk"])
    kind = GroupKind
    plans = [_GroupPlan(district=code, name=f"{short} қоғамдық көмекшілері", kind=kind.PUBLIC_ASSISTANTS)]
    if not villages:
        plans.append(_GroupPlan(district=code, name=f"{short} қоғамдық көмекшілері №2", kind=kind.PUBLIC_ASSISTANTS))
    if rng.random() < 0.8:
        institutions = CITY_INSTITUTIONS.get(district["region"])
        institution = rng.choice(institutions) if institutions else f"{short} {rng.choice(COLLEGE_KINDS)}"
        name = f"«{rng.choice(SQUAD_NAMES)}» студенттік жасағы"
        plans.append(_GroupPlan(district=code, name=name, kind=kind.STUDENT_SQUAD, institution=institution))
    for village_kind, suffix, share in ((kind.SAKSHY, "«Сақшы» тобы", 0.75), (kind.SARBAZ, "«Сарбаз» жасағы", 0.6)):
        if villages and rng.random() < share:
            village = rng.choice(villages)
            name = f"{village['name_kk']} {suffix}"
            plans.append(_GroupPlan(district=code, name=name, kind=village_kind, settlement=village["code"]))
    return plans


def save_large_country(*, districts_per_region: int = DISTRICTS_PER_REGION) -> dict[str, int]:
    """Districts, settlements, accounts, groups and volunteers in the database; returns how many of each."""
    plan = large_country_plan(districts_per_region=districts_per_region)
    districts, settlements, new_districts, new_settlements = _save_geography(plan)
    users, new_accounts = _save_accounts(plan, password=secrets.token_urlsafe(16), districts=districts)
    groups, new_groups = _save_groups(plan, districts=districts, settlements=settlements, users=users)
    people = _save_people(plan, districts=districts, groups=groups, users=users)
    return {
        "districts": new_districts,
        "settlements": new_settlements,
        "accounts": new_accounts,
        "groups": new_groups,
        **people,
    }


def report_texts(rng: random.Random, *, per_pool: int = 6) -> dict[tuple[str, str, int], list[tuple[str, str]]]:
    """(description, other people's details) per category, outcome and language, written by the demo's writer."""
    moment = datetime.datetime(2025, 6, 1, 20, 30, tzinfo=datetime.UTC)
    pools = {}
    for category, outcomes in OUTCOME_WEIGHTS.items():
        for outcome in outcomes:
            for language in (0, 1):
                pools[(category, outcome, language)] = [
                    (copy_text(words.description), copy_text(words.third_party))
                    for words in (
                        _words(
                            rng,
                            category=category,
                            outcome=outcome,
                            language=language,
                            moment=moment,
                            kind="",
                            district="KZ-19-TAL",
                        )
                        for _ in range(per_pool)
                    )
                ]
    return pools
