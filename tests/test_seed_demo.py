"""The demo country: believable, one login per role in one story (Talgar District), and the same after a second run."""

import re

import pytest
from django.contrib.auth import authenticate
from django.core.management import CommandError, call_command
from django.utils import timezone, translation

from patrols.choices import GroupKind, Role, VolunteerStatus
from patrols.models import District, Group, Membership, Region, Settlement, User, Volunteer, VolunteerStatusChange
from patrols.services.demo import DEMO_LOGINS, demo_seed
from patrols.services.roster import _check_group
from patrols.validators import age_on, iin_birth_date, validate_iin

PASSWORD = "demo-pass-42"


def counts() -> dict[str, int]:
    models = (Region, District, Settlement, Group, Volunteer, Membership, User, VolunteerStatusChange)
    return {model.__name__: model.objects.count() for model in models}


@pytest.fixture
def demo(db):
    return demo_seed(password=PASSWORD)


def test_it_seeds_a_believable_country(demo):
    assert Region.objects.count() == 20
    assert District.objects.count() >= 60
    assert set(District.objects.values_list("region__code", flat=True)) == set(
        Region.objects.values_list("code", flat=True)
    )
    assert set(Group.objects.values_list("kind", flat=True)) == set(GroupKind.values)
    assert Volunteer.objects.count() >= 500
    assert set(Volunteer.objects.values_list("status", flat=True)) == set(VolunteerStatus.values)
    today = timezone.localdate()
    for volunteer in Volunteer.objects.all():
        validate_iin(volunteer.iin)
        assert iin_birth_date(volunteer.iin) == volunteer.birth_date
        assert 18 <= age_on(volunteer.birth_date, today) <= 66
        assert re.fullmatch(r"\+7(70|77)\d{8}", volunteer.phone), volunteer.phone
    for group in Group.objects.select_related("inspector", "settlement"):
        _check_group(group)
        assert group.memberships.filter(volunteer=group.leader, left_on=None).exists(), group


def test_the_story_happens_in_talgar_district(demo):
    talgar = District.objects.get(code="KZ-19-TAL")
    assert talgar.boundary is not None and talgar.boundary.contains(talgar.centre)
    assert all(talgar.boundary.contains(s.centre) for s in talgar.settlements.all())
    assert talgar.settlements.count() >= 8

    users = User.objects.in_bulk(DEMO_LOGINS, field_name="username")
    assert {name: user.role for name, user in users.items()} == {
        "volunteer": Role.VOLUNTEER,
        "leader": Role.LEADER,
        "inspector": Role.INSPECTOR,
        "chief": Role.CHIEF,
        "analyst": Role.ANALYST,
        "admin": Role.ADMIN,
    }
    assert list(users["inspector"].inspector_districts.values_list("code", flat=True)) == ["KZ-19-TAL"]
    assert users["chief"].chief_region.code == "KZ-19"
    assert users["admin"].is_staff and users["admin"].is_superuser

    group = Group.objects.get(leader__user=users["leader"])
    assert group.district == talgar and group.inspector == users["inspector"]
    assert users["volunteer"].volunteer.status == VolunteerStatus.REGISTERED
    assert group.memberships.filter(volunteer__user=users["volunteer"], left_on=None).exists()
    assert set(Group.objects.filter(district=talgar).values_list("inspector__username", flat=True)) == {"inspector"}
    assert set(Group.objects.filter(district=talgar).values_list("kind", flat=True)) == set(GroupKind.values)
    assert users["leader"].roles == [Role.LEADER, Role.VOLUNTEER]

    for username in DEMO_LOGINS:
        assert authenticate(username=username, password=PASSWORD) == users[username]


def test_running_it_again_changes_nothing_but_the_password(db, capsys, settings):
    settings.DEBUG = True
    first = demo_seed(password=PASSWORD, members_per_group=(2, 3))
    before = counts()

    second = demo_seed(password="another-pass-7", members_per_group=(2, 3))

    assert first["volunteers"] > 0 and first["groups"] > 0
    assert set(second.values()) == {0}
    assert counts() == before
    assert authenticate(username="admin", password="another-pass-7") is not None
    assert authenticate(username="admin", password=PASSWORD) is None

    with translation.override("en"):
        call_command("seed_demo", "--once")
    assert "already there" in capsys.readouterr().out
    assert counts() == before


def test_the_command_prints_the_logins_and_accepts_reports_for_later(db, capsys, settings):
    settings.DEBUG = True
    with translation.override("en"):
        call_command("seed_demo", "--reports", "5", "--password", PASSWORD)

    out = capsys.readouterr().out
    assert "--reports 5 adds nothing yet" in out
    assert "Demo logins (password: demo-pass-42)" in out
    assert all(f"  {username}" in out for username in DEMO_LOGINS)
    assert authenticate(username="volunteer", password=PASSWORD) is not None


def test_it_refuses_a_system_with_debug_off_unless_told(db, settings):
    settings.DEBUG = False
    with translation.override("en"), pytest.raises(CommandError, match="--allow-production"):
        call_command("seed_demo", "--once")
    assert not User.objects.filter(username="admin").exists()
