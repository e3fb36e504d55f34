"""Rate limits on the API's abusable writes: the token endpoint per client address, report filing and shift sign-up
per volunteer. Past the limit the answer is 429 with a translated `detail` and Retry-After, and nothing changes.
Rates are settings (THROTTLE_* in the environment); here they are set low."""

import datetime
import re

import pytest
from django.test import Client

from patrols.models import Assignment, Report
from tests.factories import PASSWORD, ShiftFactory
from tests.test_reports_api import body

pytestmark = pytest.mark.django_db

TOO_MANY = re.compile(r"^Too many requests: try again in \d+ seconds?\.$")


@pytest.fixture
def rates(settings):
    """`rates(token="3/min", ...)` sets the API's rates for this test (the others stay as configured)."""

    def set_rates(**scoped: str) -> None:
        current = settings.REST_FRAMEWORK
        settings.REST_FRAMEWORK = {
            **current,
            "DEFAULT_THROTTLE_RATES": {**current["DEFAULT_THROTTLE_RATES"], **scoped},
        }

    return set_rates


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def assert_too_many(response) -> None:
    assert response.status_code == 429
    assert TOO_MANY.match(response.json()["detail"]), response.json()
    assert 1 <= int(response["Retry-After"]) <= 60


def test_the_token_endpoint_is_limited_per_address(rates, volunteer):
    rates(token="3/min")
    credentials = {"username": "volunteer", "password": PASSWORD}
    for _ in range(3):
        assert Client().post("/api/v1/auth/token/", credentials, REMOTE_ADDR="10.1.1.1").status_code == 200
    refused = Client().post("/api/v1/auth/token/", credentials, REMOTE_ADDR="10.1.1.1", HTTP_ACCEPT_LANGUAGE="en")
    assert_too_many(refused)
    assert "token" not in refused.json()
    assert Client().post("/api/v1/auth/token/", credentials, REMOTE_ADDR="10.1.1.2").status_code == 200


def test_behind_a_proxy_the_token_limit_counts_the_forwarded_address(settings, rates, volunteer):
    settings.TRUSTED_PROXIES = 1
    rates(token="1/min")
    credentials = {"username": "volunteer", "password": PASSWORD}
    proxy = {"REMOTE_ADDR": "10.0.0.2", "HTTP_ACCEPT_LANGUAGE": "en"}
    first = Client().post("/api/v1/auth/token/", credentials, HTTP_X_FORWARDED_FOR="198.51.100.1", **proxy)
    assert first.status_code == 200
    assert_too_many(Client().post("/api/v1/auth/token/", credentials, HTTP_X_FORWARDED_FOR="198.51.100.1", **proxy))
    other = Client().post("/api/v1/auth/token/", credentials, HTTP_X_FORWARDED_FOR="198.51.100.2", **proxy)
    assert other.status_code == 200


def test_report_filing_is_limited_per_volunteer(api, rates, volunteer, leader):
    rates(reports="2/min")
    phone = api(volunteer)
    for _ in range(2):
        assert phone.post("/api/v1/reports/", body(volunteer.volunteer.district), format="json").status_code == 201
    refused = phone.post(
        "/api/v1/reports/", body(volunteer.volunteer.district), format="json", HTTP_ACCEPT_LANGUAGE="en"
    )
    assert_too_many(refused)
    assert Report.objects.count() == 2
    # Reading is not limited; the leader (another volunteer, maybe on the same network) still files.
    assert phone.get("/api/v1/reports/").status_code == 200
    assert api(leader).post("/api/v1/reports/", body(leader.volunteer.district), format="json").status_code == 201


def test_shift_sign_up_is_limited_per_volunteer(api, rates, volunteer, leader, zone, group, inspector):
    rates(signup="2/min")
    shifts = [
        ShiftFactory(
            zone=zone,
            inspector=inspector,
            groups=[group],
            starts_at=ShiftFactory.starts_at.function() + datetime.timedelta(days=day),
        )
        for day in range(3)
    ]
    phone = api(volunteer)
    for shift in shifts[:2]:
        assert phone.post(f"/api/v1/shifts/{shift.pk}/signup/").status_code == 201
    refused = phone.post(f"/api/v1/shifts/{shifts[2].pk}/signup/", HTTP_ACCEPT_LANGUAGE="en")
    assert_too_many(refused)
    assert not Assignment.objects.filter(shift=shifts[2]).exists()
    assert api(leader).post(f"/api/v1/shifts/{shifts[2].pk}/signup/").status_code == 201
