"""Logins for the load test (`make load`), on a database the demo was seeded into.

The demo has one login per role; a load of 200 people needs many volunteers. This gives `--volunteers N` registered
demo volunteers of the story region (then of other regions, when the region has too few) an account named
`load-v001`, `load-v002`, ... with the demo password, and an API token to each of them, to every inspector of the
story region and to the regional chief. Phones keep their token for months, so the load does not log in again
per visit. Running it again reuses what is there. Writes the logins, tokens and, per district, points inside the
district (for reports) as JSON for `bench/locustfile.py`.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(BASE_DIR))

PREFIX = "load-v"
POINTS_PER_DISTRICT = 40


def _points_inside(district, rng: random.Random, count: int) -> list[tuple[float, float]]:
    """(lat, lng) pairs within a few kilometres of the centre and inside the boundary (when there is one)."""
    from django.contrib.gis.geos import Point

    from patrols.services.reporting import in_kazakhstan

    centre = district.centre
    points: list[tuple[float, float]] = []
    for _attempt in range(count * 50):
        lng = centre.x + rng.uniform(-0.05, 0.05)
        lat = centre.y + rng.uniform(-0.04, 0.04)
        point = Point(lng, lat, srid=4326)
        if in_kazakhstan(point) and (district.boundary is None or district.boundary.contains(point)):
            points.append((round(lat, 6), round(lng, 6)))
            if len(points) == count:
                break
    return points or [(round(centre.y, 6), round(centre.x, 6))]


def prepare(*, volunteers: int, password: str) -> dict:
    """Create what is missing and return the logins (see the module's docstring)."""
    from django.contrib.auth.hashers import make_password
    from django.db import transaction
    from django.db.models import Case, IntegerField, Value, When

    from patrols.choices import Role, VolunteerStatus
    from patrols.demo import STORY_REGION
    from patrols.models import ApiToken, District, User, Volunteer

    with transaction.atomic():
        taken = list(
            Volunteer.objects.filter(user__username__startswith=PREFIX)
            .select_related("user")
            .order_by("user__username")
        )
        missing = max(volunteers - len(taken), 0)
        candidates = list(
            Volunteer.objects.filter(
                user=None,
                status=VolunteerStatus.REGISTERED,
                memberships__left_on=None,
                memberships__group__is_active=True,
            )
            .annotate(
                home=Case(
                    When(district__region__code=STORY_REGION, then=Value(0)), default=1, output_field=IntegerField()
                )
            )
            .distinct()
            .order_by("home", "iin")[:missing]
        )
        encoded = make_password(password)
        start = len(taken)
        users = User.objects.bulk_create(
            [
                User(
                    username=f"{PREFIX}{start + number + 1:03d}",
                    first_name=person.first_name,
                    last_name=person.last_name,
                    role=Role.VOLUNTEER,
                    password=encoded,
                )
                for number, person in enumerate(candidates)
            ]
        )
        for person, user in zip(candidates, users, strict=True):
            person.user = user
        Volunteer.objects.bulk_update(candidates, ["user"])
        chosen = (taken + candidates)[:volunteers]
        User.objects.filter(username__startswith=PREFIX).update(password=encoded)

        inspectors = list(
            User.objects.filter(role=Role.INSPECTOR, inspector_districts__region__code=STORY_REGION)
            .distinct()
            .order_by("username")
        )
        chiefs = list(User.objects.filter(role=Role.CHIEF, chief_region__code=STORY_REGION).order_by("username"))
        people = [person.user for person in chosen] + inspectors + chiefs
        # Only a token's hash is kept: each run issues fresh ones (one per simulated phone) and drops the last run's.
        ApiToken.objects.filter(user__in=people).delete()
        tokens = {user.pk: ApiToken.objects.create(user=user, device="load test")[1] for user in people}

    rng = random.Random(7)
    district_ids = {person.district_id for person in chosen}
    points = {
        district.code: _points_inside(district, rng, POINTS_PER_DISTRICT)
        for district in District.objects.filter(pk__in=district_ids).order_by("code")
    }
    codes = dict(District.objects.filter(pk__in=district_ids).values_list("pk", "code"))
    return {
        "password": password,
        "volunteers": [
            {"username": person.user.username, "token": tokens[person.user_id], "district": codes[person.district_id]}
            for person in chosen
        ],
        "inspectors": [{"username": user.username, "token": tokens[user.pk]} for user in inspectors],
        "chiefs": [{"username": user.username, "token": tokens[user.pk]} for user in chiefs],
        "points": points,
        "created": len(users),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--volunteers", type=int, default=200)
    parser.add_argument("--password", required=True)
    parser.add_argument("--out", type=Path, required=True)
    options = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "coordination.settings")
    import django

    django.setup()
    logins = prepare(volunteers=options.volunteers, password=options.password)
    options.out.parent.mkdir(parents=True, exist_ok=True)
    options.out.write_text(json.dumps(logins, ensure_ascii=False, indent=1), encoding="utf-8")
    options.out.chmod(0o600)
    print(
        f"Load logins: {len(logins['volunteers'])} volunteers ({logins['created']} new), "
        f"{len(logins['inspectors'])} inspectors, {len(logins['chiefs'])} chiefs -> {options.out}"
    )
    return 0 if len(logins["volunteers"]) == options.volunteers else 1


if __name__ == "__main__":
    sys.exit(main())
