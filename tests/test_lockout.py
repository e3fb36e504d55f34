"""Someone guesses a volunteer's password: after AXES_FAILURE_LIMIT failures (5) that username is locked out from
that address for the cool-off (30 minutes), on the sign-in page and on the API's token endpoint alike, even with the
right password. Other people behind the same address, and the owner from another address, are not affected."""

import datetime

import pytest
from axes.models import AccessAttempt
from django.db.models import F
from django.test import Client

from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db

LOCKED = "Too many failed sign-in attempts. Wait 30 minutes, then try again."
NAT = "10.20.30.40"


def sign_in(client: Client, username: str, password: str, address: str = NAT):
    return client.post(
        "/accounts/login/",
        {"username": username, "password": password},
        REMOTE_ADDR=address,
        HTTP_ACCEPT_LANGUAGE="en",
    )


def token(username: str, password: str, address: str = NAT):
    return Client().post(
        "/api/v1/auth/token/",
        {"username": username, "password": password},
        REMOTE_ADDR=address,
        HTTP_ACCEPT_LANGUAGE="en",
    )


def test_the_sign_in_page_locks_a_username_out_after_five_failures(volunteer, leader):
    guesser = Client()
    for _ in range(4):
        response = sign_in(guesser, "volunteer", "guess")
        assert response.status_code == 200
        assert "The username or password is wrong" in response.content.decode()
    fifth = sign_in(guesser, "volunteer", "guess")
    assert fifth.status_code == 429
    assert LOCKED in fifth.content.decode()

    # The owner, from the same address, with the right password: still locked, and told why.
    owner = Client()
    response = sign_in(owner, "volunteer", PASSWORD)
    assert response.status_code == 429
    page = response.content.decode()
    assert LOCKED in page
    assert 'name="username"' in page and 'value="volunteer"' in page
    assert owner.get("/").status_code == 302

    # The leader behind the same mobile-network address signs in; so does the owner from home.
    assert sign_in(Client(), "leader", PASSWORD).status_code == 302
    assert sign_in(Client(), "volunteer", PASSWORD, address="192.0.2.7").status_code == 302


def test_the_lockout_ends_after_the_cool_off(volunteer):
    for _ in range(5):
        sign_in(Client(), "volunteer", "guess")
    assert sign_in(Client(), "volunteer", PASSWORD).status_code == 429
    AccessAttempt.objects.update(attempt_time=F("attempt_time") - datetime.timedelta(minutes=31))
    client = Client()
    assert sign_in(client, "volunteer", PASSWORD).status_code == 302
    assert client.get("/").status_code == 200


def test_a_successful_sign_in_forgets_earlier_failures(volunteer):
    for _ in range(4):
        sign_in(Client(), "volunteer", "typo")
    assert sign_in(Client(), "volunteer", PASSWORD).status_code == 302
    for _ in range(4):
        assert sign_in(Client(), "volunteer", "typo").status_code == 200
    assert sign_in(Client(), "volunteer", PASSWORD).status_code == 302


def test_the_token_endpoint_locks_out_too_and_says_so_in_json(volunteer, leader):
    for _ in range(4):
        response = token("volunteer", "guess")
        assert response.status_code == 400
        assert response.json() == {"non_field_errors": ["The username or password is wrong."]}
    locked = token("volunteer", "guess")
    assert locked.status_code == 429
    assert locked.json() == {"detail": LOCKED}
    assert locked["Retry-After"] == str(30 * 60)

    right_password = token("volunteer", PASSWORD)
    assert right_password.status_code == 429
    assert right_password.json() == {"detail": LOCKED}
    assert "token" not in right_password.json()

    # Failures on the API count for the sign-in page as well (one lock per username and address).
    assert sign_in(Client(), "volunteer", PASSWORD).status_code == 429
    assert token("leader", PASSWORD).status_code == 200
    assert token("volunteer", PASSWORD, address="192.0.2.7").status_code == 200


def test_behind_a_proxy_the_lockout_uses_the_forwarded_address(settings, volunteer):
    settings.TRUSTED_PROXIES = 1
    proxy = "10.0.0.2"
    for _ in range(5):
        Client().post(
            "/api/v1/auth/token/",
            {"username": "volunteer", "password": "guess"},
            REMOTE_ADDR=proxy,
            HTTP_X_FORWARDED_FOR="198.51.100.9",
        )
    assert AccessAttempt.objects.get().ip_address == "198.51.100.9"
    # Another client through the same proxy is a different address.
    other = Client().post(
        "/api/v1/auth/token/",
        {"username": "volunteer", "password": PASSWORD},
        REMOTE_ADDR=proxy,
        HTTP_X_FORWARDED_FOR="198.51.100.10",
    )
    assert other.status_code == 200


def test_the_failure_limit_is_a_setting(settings, volunteer):
    settings.AXES_FAILURE_LIMIT = 2
    assert sign_in(Client(), "volunteer", "guess").status_code == 200
    assert sign_in(Client(), "volunteer", "guess").status_code == 429
