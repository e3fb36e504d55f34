"""The duty units of the demo: a duty unit in every district of the story's region and the region's ЖБО, with
phone numbers and email addresses of the demo's own (+7 700 0XX XX XX, example.kz); no webhook, so nothing leaves."""

from __future__ import annotations

from ..choices import DutyUnitLevel
from ..models import District, DutyUnit, Region
from .country import STORY_REGION


def save_demo_duty_units() -> int:
    """The story region's duty units, made once; how many were made."""
    region = Region.objects.get(code=STORY_REGION)
    made = 0
    centre, new = DutyUnit.objects.get_or_create(
        region=region,
        level=DutyUnitLevel.REGION,
        defaults={
            "name": f"{region.name_kk}: Жедел басқару орталығы",
            "phones": ["+77000001900"],
            "email": "jbo.kz19@example.kz",
        },
    )
    made += new
    for number, district in enumerate(District.objects.filter(region=region).order_by("code"), start=1):
        _unit, new = DutyUnit.objects.get_or_create(
            district=district,
            defaults={
                "region": region,
                "level": DutyUnitLevel.DISTRICT,
                "name": f"{district.name_kk}: полиция бөлімінің кезекші бөлімі",
                "phones": [f"+7700000{1900 + number:04d}"],
                "email": f"duty.{district.code.lower()}@example.kz",
            },
        )
        made += new
    return made
