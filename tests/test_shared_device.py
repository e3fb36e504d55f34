"""A group shares one phone at the post: whoever signs in ticks "This is a shared device". Their session then ends
when the browser closes (the cookie has no expiry) and after SHARED_DEVICE_SESSION_SECONDS (15 minutes) without
activity; each request moves that moment on. A personal phone keeps the usual session."""

import time

import pytest
from django.test import Client

from patrols.auth import SHARED_DEVICE_SEEN
from tests.factories import PASSWORD
from tests.support import totp

pytestmark = pytest.mark.django_db


def sign_in(client: Client, username: str, *, shared: bool):
    data = {"username": username, "password": PASSWORD}
    if shared:
        data["shared_device"] = "on"
    return client.post("/accounts/login/", data)


def idle_for(client: Client, seconds: int) -> None:
    """As if the last request of the session was `seconds` ago."""
    session = client.session
    session[SHARED_DEVICE_SEEN] = int(time.time()) - seconds
    session.save()


def test_a_shared_device_session_cookie_ends_with_the_browser(volunteer):
    client = Client()
    response = sign_in(client, "volunteer", shared=True)
    assert response.status_code == 302
    cookie = response.cookies["sessionid"]
    assert cookie["expires"] == "" and cookie["max-age"] == ""
    assert client.session.get_expire_at_browser_close() is True
    assert client.get("/").status_code == 200


def test_a_personal_device_keeps_the_usual_session(settings, volunteer):
    client = Client()
    response = sign_in(client, "volunteer", shared=False)
    assert response.cookies["sessionid"]["max-age"] == settings.SESSION_COOKIE_AGE
    assert client.session.get_expire_at_browser_close() is False
    assert SHARED_DEVICE_SEEN not in client.session
    assert client.get("/").status_code == 200


def test_a_shared_device_session_ends_after_fifteen_idle_minutes(volunteer):
    client = Client()
    sign_in(client, "volunteer", shared=True)
    idle_for(client, 15 * 60 + 5)
    response = client.get("/", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
    page = client.get(response["Location"], HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "You were signed out after 15 minutes without activity on a shared device." in page
    assert client.get("/api/v1/me/").status_code == 401


def test_activity_keeps_a_shared_device_session_open(volunteer):
    client = Client()
    sign_in(client, "volunteer", shared=True)
    idle_for(client, 14 * 60)
    assert client.get("/").status_code == 200
    assert int(time.time()) - client.session[SHARED_DEVICE_SEEN] < 5
    idle_for(client, 14 * 60)
    assert client.get("/").status_code == 200


def test_the_idle_time_is_a_setting(settings, volunteer):
    settings.SHARED_DEVICE_SESSION_SECONDS = 120
    client = Client()
    sign_in(client, "volunteer", shared=True)
    idle_for(client, 100)
    assert client.get("/").status_code == 200
    idle_for(client, 130)
    assert client.get("/").status_code == 302


def test_the_shared_device_choice_survives_the_code_step(settings, inspector):
    settings.STAFF_2FA = True
    client = Client()
    sign_in(client, "inspector", shared=True)
    page = client.get("/accounts/two-factor/setup/").content.decode()
    secret = page.split('<code class="secret" id="totp-secret">')[1].split("</code>")[0]
    response = client.post("/accounts/two-factor/setup/", {"otp": totp.code(totp.key_from_secret(secret))})
    assert response.status_code == 302
    assert client.session.get_expire_at_browser_close() is True
    idle_for(client, 16 * 60)
    assert client.get("/").status_code == 302
