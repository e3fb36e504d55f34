"""The whole API, fuzzed from its own OpenAPI schema as each role: no server errors, every answer as documented.

Schemathesis reads `/api/schema/` from the app and sends generated requests (valid and invalid) to every operation,
in-process through Django's WSGI handler, so the requests see the test database. A small country is set up first,
and generated ids and codes are often swapped for the ones in it, so detail pages and actions are reached, not
only their 404s. Each persona has a fixed seed: the same requests every run. Besides the answers' codes, content
types, headers and bodies, the checks send each successful request again without the token and with a wrong one,
which must be refused.
"""

import collections
import datetime
import io
import json
import re
import uuid
import zlib

import pytest
import schemathesis
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from django.test import Client
from django.utils import timezone
from hypothesis import strategies as st
from PIL import Image
from schemathesis.checks import not_a_server_error
from schemathesis.config import HealthCheck
from schemathesis.specs.openapi.checks import (
    allow_header_conformance,
    content_type_conformance,
    ignored_auth,
    missing_required_header,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from patrols.choices import DutyUnitLevel, NotificationKind, VolunteerStatus
from patrols.models import ApiToken, Benchmark, Category, DutyUnit, Group, Notification, Outcome, Region
from patrols.services import callouts, reporting, scheduling
from tests.factories import PASSWORD, MembershipFactory, SettlementFactory, ShiftFactory, VolunteerFactory

# Generated requests per operation for each persona, 20 in all: the district's inspector, the volunteers and the
# admin may write, so they reach the most code; the regional chief and the analyst only read.
EXAMPLES = {"inspector": 6, "volunteer": 4, "leader": 3, "admin_user": 3, "chief": 2, "analyst": 2}
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    ignored_auth,
    missing_required_header,
    allow_header_conformance,
]


@pytest.fixture
def no_connection_recycling():
    """Django closes unusable connections around each request; inside the test's transaction that would end it.

    Django's own test client switches this off the same way for the requests it makes.
    """
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def country(
    settings, tmp_path, district, other_district, inspector, other_inspector, group, other_group, volunteer, leader
):
    """Something for the fuzzer to find: a settlement, an applicant, shifts, a series, reports, notifications."""
    settings.MEDIA_ROOT = tmp_path / "media"
    settlement = SettlementFactory(district=district)
    applicant = VolunteerFactory(
        district=district, status=VolunteerStatus.APPLICANT, vetted_on=None, registration_number="", registered_on=None
    )
    MembershipFactory(volunteer=applicant, group=group)
    zone = scheduling.zone_create(
        by=inspector,
        district=district,
        name="Орталық",
        kind="area",
        geometry=district.boundary[0].buffer(-0.1),
        description="",
    )
    tomorrow = ShiftFactory(zone=zone, inspector=inspector, groups=[group])
    soon = timezone.now() + datetime.timedelta(minutes=20)
    starting = ShiftFactory(
        zone=zone, inspector=inspector, groups=[group], starts_at=soon, ends_at=soon + datetime.timedelta(hours=3)
    )
    for shift in (tomorrow, starting):
        scheduling.shift_signup(shift=shift, volunteer=volunteer.volunteer, by=volunteer)
    scheduling.shift_signup(shift=tomorrow, volunteer=leader.volunteer, by=leader)
    series = scheduling.series_create(
        by=inspector,
        zone=zone,
        weekdays=[6, 7],
        start_time=datetime.time(20),
        end_time=datetime.time(23),
        starts_on=timezone.localdate() + datetime.timedelta(days=3),
        ends_on=timezone.localdate() + datetime.timedelta(days=20),
    )
    other_shift = ShiftFactory(zone__district=other_district, inspector=other_inspector, groups=[other_group])
    reports = []
    for person, outcome in ((volunteer, "prevented"), (volunteer, "assistance"), (leader, "info")):
        report, _created = reporting.report_submit(
            by=person,
            client_uuid=uuid.uuid4(),
            occurred_at=timezone.now() - datetime.timedelta(hours=2),
            point=district.centre,
            category=Category.objects.filter(is_active=True).first(),
            outcome=Outcome.objects.get(code=outcome),
            description="Екі жасөспірім төбелескен, ажыратып жібердік.",
        )
        reports.append(report)
    photo, _created = reporting.report_photo_add(report=reports[1], by=volunteer, upload=_street_photo())
    reporting.report_verify(report=reports[0], by=inspector)
    reporting.report_request_info(report=reports[2], by=inspector, question="Қай көшеде?")
    notifications = [
        Notification.objects.create(user=user, kind=NotificationKind.choices[0][0], shift=tomorrow)
        for user in (volunteer, leader, inspector)
    ]
    callout = callouts.callout_create(
        by=inspector,
        zone=zone,
        place="Мектеп алды",
        starts_at=timezone.now() + datetime.timedelta(hours=3),
        hours=2,
        needed=2,
        groups=[group],
    )
    DutyUnit.objects.create(
        level=DutyUnitLevel.DISTRICT, district=district, region=district.region, name="АПБ", phones=["+77010000001"]
    )
    return {
        "callouts": [callout.pk],
        "regions": list(Region.objects.values_list("code", flat=True)[:3]),
        "districts": [district.code, other_district.code],
        "settlements": [settlement.code],
        "categories": list(Category.objects.values_list("code", flat=True)[:2]),
        "outcomes": ["prevented", "solved"],
        "groups": [group.pk, other_group.pk],
        "volunteers": [volunteer.volunteer.pk, leader.volunteer.pk, applicant.pk],
        "zones": [zone.pk],
        "shifts": [tomorrow.pk, starting.pk, other_shift.pk],
        "series": [series.pk],
        "reports": [report.pk for report in reports],
        "photos": [photo.pk],
        "notifications": [notification.pk for notification in notifications],
        "benchmarks": list(Benchmark.objects.values_list("pk", flat=True)[:2]),
        "usernames": ["volunteer", "leader", "inspector", "other_inspector"],
        "passwords": [PASSWORD],
    }


def _street_photo() -> SimpleUploadedFile:
    out = io.BytesIO()
    Image.new("RGB", (320, 240), (90, 110, 130)).save(out, format="JPEG")
    return SimpleUploadedFile("street.jpg", out.getvalue(), content_type="image/jpeg")


def _known_path_parameters(country: dict):
    """Swap generated path parameters (`id` or `code`, a photo's id) for the country's, more often than not."""

    def hook(context, strategy):
        path = context.operation.path
        known = {}
        collection = country.get(path.split("/")[3])
        if collection:
            known["code" if "{code}" in path else "id"] = st.sampled_from(collection)
        if "{photo_id}" in path:
            known["photo_id"] = st.sampled_from(country["photos"])
        if not known or set(re.findall(r"{(\w+)}", path)) - known.keys():
            return strategy
        return st.one_of(st.fixed_dictionaries(known), strategy)

    return hook


# Body fields that name something, and the part of the country they name.
BODY_REFERENCES = {
    "district": "districts",
    "region": "regions",
    "settlement": "settlements",
    "category": "categories",
    "outcome": "outcomes",
    "zone": "zones",
    "volunteer": "volunteers",
    "leader": "volunteers",
    "original": "reports",
    "groups": "groups",
    "ids": "reports",
    "inspector": "usernames",
    "username": "usernames",
    "password": "passwords",
}


def _known_body_values(country: dict):
    """In a generated JSON or form body, often swap what names a district, zone, volunteer, ... for a real one."""

    def hook(context, body):
        if not isinstance(body, dict):
            return st.just(body)
        fields = {}
        for name, value in body.items():
            known = country.get(BODY_REFERENCES.get(name, ""))
            real = st.sampled_from(known) if known else None
            if real is not None and isinstance(value, list):
                real = st.lists(real, min_size=1, max_size=3, unique=True)
            fields[name] = st.one_of(real, st.just(value)) if real is not None else st.just(value)
        return st.fixed_dictionaries(fields)

    return hook


@pytest.fixture(scope="session")
def schema_text() -> str:
    """The schema as the app serves it, generated once for all personas."""
    response = Client().get("/api/schema/", HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    return response.content.decode()


@pytest.fixture(params=list(EXAMPLES))
def persona(request) -> str:
    return request.param


@pytest.fixture
def api_schema(request, persona, country, schema_text, no_connection_recycling, settings):
    """The app's schema, set to send its requests to the app as `persona`, with that persona's token."""
    settings.ALLOWED_HOSTS = ["localhost"]
    # The rate limits have their own tests; here they would only cut the fuzzing short (429 is documented anyway).
    rates = dict.fromkeys(settings.REST_FRAMEWORK.get("DEFAULT_THROTTLE_RATES", {}), "100000/minute")
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": rates}
    _token, secret = ApiToken.objects.create(user=request.getfixturevalue(persona), device="fuzz test")
    schema = schemathesis.openapi.from_dict(json.loads(schema_text))
    # Requests go through a WSGI handler of the app, in this thread: they see the test's transaction.
    schema.app = get_wsgi_application()
    schema.hook("before_generate_path_parameters")(_known_path_parameters(country))
    schema.hook("flatmap_body")(_known_body_values(country))
    schema.config.update(headers={"Authorization": f"Token {secret}"}, suppress_health_check=[HealthCheck.all])
    # The coverage phase sends hundreds of boundary cases per operation: too slow for every run of the suite.
    schema.config.phases.update(phases=["examples", "fuzzing"])
    schema.config.generation.update(max_examples=EXAMPLES[persona], database="none")
    # A fixed seed per persona: the same requests on every run, and other requests for each persona.
    schema.config.seed = zlib.crc32(persona.encode())
    # Schemathesis 4.32 renames the test node per operation through `_nodeid`, which pytest 9.2 no longer has.
    request.node._nodeid = request.node.nodeid
    return schema


# Signing out revokes the token the fuzzer signs in with: those two operations have their own tests (test_tokens).
fuzzed = (
    schemathesis.pytest.from_fixture("api_schema")
    .exclude(method="DELETE", path="/api/v1/auth/token/")
    .exclude(method="POST", path="/api/v1/auth/tokens/revoke-all/")
)


@pytest.fixture
def answers(persona):
    """The status codes each operation gave; afterwards, a check that the fuzzing got past refusals and 404s.

    Without it a broken sign-in (every answer a documented 401) would pass unnoticed.
    """
    codes = collections.defaultdict(collections.Counter)
    yield codes
    succeeded = sorted(label for label, seen in codes.items() if any(200 <= code < 300 for code in seen))
    assert len(succeeded) >= len(codes) / 4, f"{persona}: only {succeeded} succeeded"


@fuzzed.parametrize()
@pytest.mark.django_db
def test_every_operation_as_every_role(case, answers):
    response = case.call_and_validate(checks=CHECKS)
    answers[case.operation.label][response.status_code] += 1


# What the fuzzing found, kept as plain stories so they stay fixed whatever the generator draws next time.


def test_an_address_no_route_matches_answers_like_the_api(api, volunteer, client):
    response = api(volunteer).get("/api/v1/shifts/0.5/")
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert set(response.json()) == {"detail"}
    page = client.get("/no-such-page/")
    assert page.status_code == 404
    assert page["Content-Type"].startswith("text/html")


def test_a_nul_character_is_refused_clearly_and_changes_nothing(api, inspector, chief, district, group):
    """PostgreSQL cannot compare text with NUL: these were 500s."""
    assert api(inspector).get("/api/v1/districts/KZ-19-TAL%00/").status_code == 404
    assert api(chief).get("/api/v1/dashboard/totals/", {"region": "KZ-19\x00"}).status_code == 404
    groups = Group.objects.count()
    response = api(inspector).post(
        "/api/v1/groups/", {"name": "Жаңа топ", "kind": "sakshy", "district": "KZ-19-TAL\x00"}, format="json"
    )
    assert response.status_code == 400
    assert list(response.json()) == ["district"]
    assert Group.objects.count() == groups


def test_the_schema_documents_the_errors_and_the_shapes_the_api_gives(api, volunteer):
    schema = api(volunteer).get("/api/schema/", HTTP_ACCEPT="application/json").json()
    signup = schema["paths"]["/api/v1/shifts/{id}/signup/"]["post"]["responses"]
    assert {"201", "400", "401", "403", "404", "415", "429"} <= set(signup)
    token = schema["paths"]["/api/v1/auth/token/"]["post"]["responses"]
    assert {"200", "400", "429"} <= set(token) and not {"401", "403"} & set(token)
    assert "400" not in schema["paths"]["/api/v1/me/"]["get"]["responses"]
    components = schema["components"]["schemas"]
    # A wall-clock time without an offset, as DRF writes it (`format: time` would demand one).
    assert "format" not in components["ShiftSeries"]["properties"]["start_time"]
    assert components["Me"]["properties"]["volunteer"]["nullable"] is True
    assert components["Group"]["properties"]["settlement"]["nullable"] is True
    # Lists that are not paged are documented as plain arrays.
    history = schema["paths"]["/api/v1/volunteers/{id}/history/"]["get"]["responses"]["200"]
    assert history["content"]["application/json"]["schema"]["type"] == "array"


# The edges the outside probe found (issue 12): every operation of the schema, as every role, gets a body nested
# 2,000 levels deep, and every date-like query parameter the ends of the calendar. None may answer with a 5xx.

NESTED = "[" * 2000 + "]" * 2000
FAR_DATES = ["9999-12-31", "0001-01-01", "9999-12-31T23:59:59+14:00", "99999"]
DATE_PARAMETERS = {"from", "to", "year", "week", "month", "starts_on", "ends_on", "day"}


def _operations(schema_text: str):
    for path, methods in json.loads(schema_text)["paths"].items():
        for method, operation in methods.items():
            if method in {"get", "post", "put", "patch", "delete"}:
                yield path, method, operation


def _filled(path: str, country: dict) -> str:
    collection = country.get(path.split("/")[3]) or [1]
    path = re.sub(r"{(id|code)}", str(collection[0]), path)
    return path.replace("{photo_id}", str(country["photos"][0]))


@pytest.mark.django_db
@pytest.mark.parametrize("persona", list(EXAMPLES), indirect=True)
def test_nested_bodies_and_far_dates_never_break_an_operation(persona, request, country, schema_text):
    user = request.getfixturevalue(persona)
    _token, secret = ApiToken.objects.create(user=user, device="edge test")
    client = Client(HTTP_AUTHORIZATION=f"Token {secret}", HTTP_ACCEPT_LANGUAGE="en")
    broken = []
    for path, method, operation in _operations(schema_text):
        if path.startswith("/api/v1/auth/token"):
            continue
        url = _filled(path, country)
        if "requestBody" in operation:
            response = client.generic(method.upper(), url, NESTED, content_type="application/json")
            if response.status_code >= 500:
                broken.append((method, url, "nested", response.status_code))
        names = {p["name"] for p in operation.get("parameters", []) if p.get("in") == "query"}
        for name in sorted(names & DATE_PARAMETERS):
            for value in FAR_DATES:
                response = client.generic(method.upper(), f"{url}?{name}={value}") if method == "get" else None
                if response is not None and response.status_code >= 500:
                    broken.append((method, url, f"{name}={value}", response.status_code))
    assert broken == []
