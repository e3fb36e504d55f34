"""Personas and the small country they live in.

Our district (`district`, KZ-19 Almaty Region) is kept by `inspector`; `neighbour_district` is in the same region
(so `chief` sees it, `inspector` does not); `other_district` is in Karaganda Region, kept by `other_inspector`.
"""

import pytest
from django.core.cache import cache
from django.test import Client
from django.utils import translation
from rest_framework.test import APIClient

from patrols.choices import Role
from patrols.models import Region
from tests.factories import (
    PASSWORD,
    DistrictFactory,
    GroupFactory,
    MembershipFactory,
    ShiftFactory,
    UserFactory,
    VolunteerFactory,
    ZoneFactory,
)


@pytest.fixture
def district(db):
    return DistrictFactory(
        code="KZ-19-TAL", name_en="Talgar District", name_ru="Талгарский район", name_kk="Талғар ауданы"
    )


@pytest.fixture
def neighbour_district(db):
    return DistrictFactory(code="KZ-19-ILI", name_en="Ili District", name_ru="Илийский район", name_kk="Іле ауданы")


@pytest.fixture
def other_district(db):
    return DistrictFactory(
        code="KZ-35-ABA",
        region=Region.objects.get(code="KZ-35"),
        name_en="Abay District",
        name_ru="Абайский район",
        name_kk="Абай ауданы",
    )


@pytest.fixture
def inspector(district):
    return UserFactory(username="inspector", role=Role.INSPECTOR, districts=[district])


@pytest.fixture
def other_inspector(other_district):
    return UserFactory(username="other_inspector", role=Role.INSPECTOR, districts=[other_district])


@pytest.fixture
def chief(district):
    return UserFactory(username="chief", role=Role.CHIEF, chief_region=district.region)


@pytest.fixture
def analyst(db):
    return UserFactory(username="analyst", role=Role.ANALYST)


@pytest.fixture
def admin_user(db):
    return UserFactory(username="admin", role=Role.ADMIN, is_staff=True)


@pytest.fixture
def group(district, inspector):
    return GroupFactory(name="Талғар қоғамдық көмекшілері", district=district, inspector=inspector)


@pytest.fixture
def volunteer(group):
    """A registered volunteer with an account, member of `group`."""
    person = VolunteerFactory(district=group.district, user=UserFactory(username="volunteer"))
    MembershipFactory(volunteer=person, group=group)
    return person.user


@pytest.fixture
def leader(group):
    """The leader of `group`, a volunteer too."""
    person = VolunteerFactory(
        district=group.district, first_name="Дәурен", user=UserFactory(username="leader", role=Role.LEADER)
    )
    MembershipFactory(volunteer=person, group=group)
    group.leader = person
    group.save()
    return person.user


@pytest.fixture
def other_group(other_district, other_inspector):
    return GroupFactory(name="Абай сақшылары", district=other_district, inspector=other_inspector)


@pytest.fixture
def other_volunteer(other_group):
    """A registered volunteer of the other district, with an account (like `volunteer`; the record is `.volunteer`)."""
    person = VolunteerFactory(district=other_group.district, user=UserFactory(username="other_volunteer"))
    MembershipFactory(volunteer=person, group=other_group)
    return person.user


def reader(user, language: str) -> Client:
    """A browser of its own for `user`, reading in `language`."""
    browser = Client()
    assert browser.login(username=user.username, password=PASSWORD)
    browser.cookies["django_language"] = language
    return browser


def api_reader(user, language: str) -> APIClient:
    """A DRF client signed in as `user`, asking for answers in `language`."""
    client = APIClient(HTTP_ACCEPT_LANGUAGE=language)
    client.force_authenticate(user)
    return client


def api_client_for(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def eager_celery():
    """Celery tasks run in the test's own process as they are queued (a real worker is tested elsewhere)."""
    from coordination import celery_app

    previous = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = previous


@pytest.fixture
def api():
    """`api(user)` gives a DRF client signed in as that persona."""
    return api_client_for


@pytest.fixture
def web(client):
    """`web(user)` gives Django's test client with a session for that persona."""

    def login(user):
        assert client.login(username=user.username, password=PASSWORD)
        return client

    return login


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    """Real hashing is slow by design; the tests need speed, not strength."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def default_language():
    """Every test starts in the site's default language (Kazakh), whatever language an earlier test's requests
    left active on this thread: a test that reads English text says so with `translation.override("en")`."""
    translation.deactivate()
    yield
    translation.deactivate()


@pytest.fixture(autouse=True)
def fresh_rate_limits():
    """The API's rate-limit counts live in the cache (Redis): every test starts with none. Lockout counts are rows
    in the database and go with each test's transaction."""
    cache.clear()


@pytest.fixture(autouse=True)
def fresh_http_connections():
    """Each test's local messenger servers are new: no connection kept alive from an earlier test's server (one
    on a reused port, whose handler thread still answers) may carry this test's messages."""
    yield
    from patrols.services import outbound_http

    current = getattr(outbound_http._local, "session", None)
    if current is not None:
        current.close()
        outbound_http._local.session = None
    from patrols.services import channels

    channels.close_mail_connection()  # the same for the kept SMTP connection: the next test's mail server is new


@pytest.fixture
def zone(district, inspector):
    """A square zone of about 2 km around Talgar's centre."""
    return ZoneFactory(district=district, name="Талғар орталығы")


@pytest.fixture
def shift(zone, group, inspector):
    """Tomorrow 20:00–02:00 Almaty time in `zone`, `group` invited, 2–4 volunteers, kept by `inspector`."""
    return ShiftFactory(zone=zone, inspector=inspector, groups=[group])
