"""`manage.py seed_demo`: the demo country in one call, in order (places and people, patrols, reports, prevention
work, inboxes, benchmarks), idempotent; `demo_exists` tells whether it was seeded.
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from ..models import User
from ..services.ledger import ledger_rebuild
from ..services.tallies import tallies_rebuild
from .benchmarks import save_demo_benchmarks
from .duty import save_demo_duty_units
from .inbox import save_demo_inbox
from .people import MEMBERS_PER_GROUP, _plan, _save_accounts, _save_geography, _save_groups, _save_people
from .prevention import save_demo_prevention
from .reports import save_demo_reports
from .schedule import _save_patrols


@transaction.atomic
def demo_seed(*, password: str, members_per_group: tuple[int, int] = MEMBERS_PER_GROUP) -> dict[str, int]:
    """Build the demo country, or complete it; returns how many of each thing this run created."""
    # `members_per_group` lets tests seed a smaller country.
    plan = _plan(members_per_group=members_per_group)
    districts, settlements, new_districts, new_settlements = _save_geography(plan)
    users, new_accounts = _save_accounts(plan, password=password, districts=districts)
    groups, new_groups = _save_groups(plan, districts=districts, settlements=settlements, users=users)
    created = {"districts": new_districts, "settlements": new_settlements, "accounts": new_accounts}
    created["groups"] = new_groups
    created.update(_save_people(plan, districts=districts, groups=groups, users=users))
    now = timezone.now()
    created.update(_save_patrols(plan, districts=districts, users=users, now=now))
    created.update(save_demo_reports(rows=plan.districts, districts=districts, users=users, now=now))
    created.update(save_demo_prevention(now=now))
    # The reports and the meetings went in in bulk, past the services: count them into the tallies now, once, and
    # into the volunteers' ledgers (after the tallies, which set each patrol's minutes).
    tallies_rebuild()
    ledger_rebuild()
    created["benchmarks"] = save_demo_benchmarks(districts=districts, now=now)
    created["duty_units"] = save_demo_duty_units()
    created["notifications"] = save_demo_inbox(users=users, now=now)
    return created


def demo_exists() -> bool:
    """Whether the demo has been seeded (its `admin` login exists)."""
    return User.objects.filter(username="admin").exists()
