"""No list grows N+1: every list endpoint and list page costs the same number of queries with three rows of each kind
as with eight. A prefetch that the serializer does not read, or a count per row, makes the second figure larger."""

import datetime
import uuid

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from patrols.api.pagination import PageNumberPagination
from patrols.choices import NotificationKind
from patrols.models import ApiToken, Category, Notification, Outcome
from patrols.selectors import reference
from patrols.services import reporting, scheduling
from tests.factories import GroupFactory, MembershipFactory, ShiftFactory, UserFactory, VolunteerFactory, ZoneFactory

pytestmark = pytest.mark.django_db

API_LISTS = [
    "/api/v1/regions/",
    "/api/v1/districts/",
    "/api/v1/settlements/",
    "/api/v1/groups/",
    "/api/v1/volunteers/",
    "/api/v1/zones/",
    "/api/v1/shifts/",
    "/api/v1/series/",
    "/api/v1/notifications/",
    "/api/v1/categories/",
    "/api/v1/outcomes/",
    "/api/v1/reports/",
    "/api/v1/benchmarks/",
    "/api/v1/auth/tokens/",
]
PAGES = ["/groups/", "/volunteers/", "/shifts/", "/zones/", "/reports/", "/verify/", "/notifications/"]


def grow(by: int, *, district, inspector, volunteer) -> None:
    """`by` more of every kind of row a list shows, in the inspector's district, some of them the volunteer's."""
    category, outcome = Category.objects.get(code="petty_hooliganism"), Outcome.objects.get(code="prevented")
    for n in range(by):
        group = GroupFactory(district=district, inspector=inspector)
        person = VolunteerFactory(district=district, user=UserFactory())
        MembershipFactory(volunteer=person, group=group)
        MembershipFactory(volunteer=volunteer.volunteer, group=group)
        zone = ZoneFactory(district=district)
        start = timezone.now() + datetime.timedelta(days=2 + n, hours=n)
        shift = ShiftFactory(zone=zone, inspector=inspector, groups=[group], starts_at=start)
        scheduling.shift_signup(shift=shift, volunteer=person, by=person.user)
        scheduling.series_create(
            by=inspector,
            zone=zone,
            weekdays=[1 + n % 7],
            start_time=datetime.time(20),
            end_time=datetime.time(23),
            starts_on=timezone.localdate() + datetime.timedelta(days=30),
            ends_on=timezone.localdate() + datetime.timedelta(days=40),
            groups=[group],
        )
        reporting.report_submit(
            by=volunteer,
            client_uuid=uuid.uuid4(),
            occurred_at=timezone.now() - datetime.timedelta(hours=n + 1),
            point=district.centre,
            category=category,
            outcome=outcome,
            description=f"Төбелес №{n}.",
        )
        for user in (volunteer, inspector):
            Notification.objects.create(user=user, kind=NotificationKind.SHIFT_CHANGED, shift=shift)
            ApiToken.objects.create(user=user, device=f"phone {n}")


def queries(client, path: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(path)
    assert response.status_code == 200, (path, response.status_code)
    return len(captured)


def counts(client, paths, **people) -> list[tuple[str, int, int]]:
    # The cached reference lists (categories, outcomes, district codes) are read once per change, not per request
    # or per row: filled before the first figure, so that both figures count a request's own queries.
    reference.categories(), reference.outcomes(), reference.district_codes()
    grow(3, **people)
    few = {path: queries(client, path) for path in paths}
    grow(5, **people)
    return [(path, few[path], queries(client, path)) for path in paths]


@pytest.mark.parametrize("persona", ["inspector", "volunteer"])
def test_every_api_list_costs_the_same_with_more_rows(request, api, persona, district, inspector, volunteer):
    client = api(request.getfixturevalue(persona))
    grown = counts(client, API_LISTS, district=district, inspector=inspector, volunteer=volunteer)
    assert [row for row in grown if row[1] != row[2]] == []


@pytest.mark.parametrize("persona", ["inspector", "volunteer"])
def test_every_list_page_costs_the_same_with_more_rows(request, web, persona, district, inspector, volunteer):
    client = web(request.getfixturevalue(persona))
    pages = PAGES if persona == "inspector" else ["/groups/", "/shifts/", "/reports/", "/notifications/"]
    grown = counts(client, pages, district=district, inspector=inspector, volunteer=volunteer)
    assert [row for row in grown if row[1] != row[2]] == []


def sql_of(client, path: str, **headers) -> list[str]:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(path, **headers)
    assert response.status_code == 200, (path, response.status_code)
    return [query["sql"] for query in captured.captured_queries]


def test_a_list_that_fits_one_page_is_counted_without_a_count_query(api, district, inspector, volunteer):
    grow(3, district=district, inspector=inspector, volunteer=volunteer)
    client = api(volunteer)
    for path in ("/api/v1/shifts/?open=1", "/api/v1/reports/?mine=1", "/api/v1/notifications/?unread=1"):
        listed = client.get(path).json()
        assert listed["count"] == len(listed["results"]) >= 3, path
        assert listed["next"] is None
        assert [sql for sql in sql_of(client, path) if "COUNT(*)" in sql] == [], path


def test_a_full_first_page_still_counts_the_whole_list_and_links_the_next(api, monkeypatch, volunteer):
    # DRF reads PAGE_SIZE into the class once, on import: the page size is set on the class for this test.
    monkeypatch.setattr(PageNumberPagination, "page_size", 2)
    for n in range(5):
        Notification.objects.create(user=volunteer, kind=NotificationKind.SHIFT_CHANGED, key=f"full-page-{n}")
    client = api(volunteer)
    first = client.get("/api/v1/notifications/").json()
    assert (first["count"], len(first["results"])) == (5, 2)
    assert "page=2" in first["next"]
    last = client.get("/api/v1/notifications/?page=3").json()
    assert (last["count"], len(last["results"]), last["next"]) == (5, 1, None)


def test_a_phones_token_is_checked_with_one_query_that_brings_the_user_and_their_volunteer(client, volunteer):
    kept, secret = ApiToken.objects.create(user=volunteer, device="phone")
    # Another device's token of the same person, expired: it goes with the next write of the phone's token.
    stale, _secret = ApiToken.objects.create(user=volunteer, device="old phone")
    ApiToken.objects.filter(pk=stale.pk).update(expiry=timezone.now() - datetime.timedelta(days=1))
    headers = {"HTTP_AUTHORIZATION": f"Token {secret}"}
    client.get("/api/v1/categories/", **headers)  # the first use writes last_used_at and clears the stale token
    assert list(ApiToken.objects.filter(user=volunteer)) == [kept]

    queries = sql_of(client, "/api/v1/reports/?mine=1", **headers)
    assert len([sql for sql in queries if '"patrols_apitoken"' in sql]) == 1
    assert not [sql for sql in queries if sql.startswith('SELECT "patrols_volunteer"')]
    assert client.get("/api/v1/categories/", HTTP_AUTHORIZATION="Token nope" + secret[4:]).status_code == 401
