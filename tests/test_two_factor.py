"""Two-factor sign-in for police and ministry accounts (STAFF_2FA on): the inspector, chief, analyst and admin set
up an authenticator app on their first sign-in and give its code every time after, on the website, the API and the
admin site. Volunteers and leaders sign in with their password alone. Codes here come from the secret the set-up
page shows, computed as a phone's app would (tests/support/totp.py)."""

import re
from html import unescape

import pytest
from django.test import Client
from django_otp.plugins.otp_totp.models import TOTPDevice

from patrols.models import ApiToken
from patrols.services import signin
from patrols.web.accounts import PENDING, PENDING_SECONDS
from tests.factories import PASSWORD
from tests.support import totp

pytestmark = pytest.mark.django_db

STAFF = ["inspector", "chief", "analyst", "admin_user"]


@pytest.fixture(autouse=True)
def staff_2fa(settings):
    settings.STAFF_2FA = True


def password_step(client: Client, username: str, **extra) -> "Client.response":
    return client.post(
        "/accounts/login/", {"username": username, "password": PASSWORD, **extra}, HTTP_ACCEPT_LANGUAGE="en"
    )


def shown_secret(page) -> bytes:
    """The key behind the secret the set-up page shows for typing."""
    match = re.search(r'<code class="secret" id="totp-secret">([A-Z2-7 ]+)</code>', page.content.decode())
    assert match, "the set-up page shows the secret"
    return totp.key_from_secret(match.group(1))


def set_up(client: Client, user) -> bytes:
    """The first sign-in of a staff account, through the set-up page; returns the app's key."""
    assert password_step(client, user.username)["Location"] == "/accounts/two-factor/setup/"
    page = client.get("/accounts/two-factor/setup/", HTTP_ACCEPT_LANGUAGE="en")
    key = shown_secret(page)
    confirmed = client.post("/accounts/two-factor/setup/", {"otp": totp.code(key)}, HTTP_ACCEPT_LANGUAGE="en")
    assert confirmed.status_code == 302, confirmed.content.decode()
    return key


def signed_in_as(client: Client) -> str | None:
    """The username of the session, as the API sees it (None when nobody is signed in)."""
    response = client.get("/api/v1/me/")
    return response.json()["username"] if response.status_code == 200 else None


@pytest.mark.parametrize("persona", STAFF)
def test_staff_set_up_the_app_on_the_first_sign_in_and_give_its_code_afterwards(request, persona):
    user = request.getfixturevalue(persona)
    client = Client()

    # The password alone signs nobody in: the account has no app yet, so the set-up page comes next.
    assert password_step(client, user.username)["Location"] == "/accounts/two-factor/setup/"
    assert signed_in_as(client) is None
    page = client.get("/accounts/two-factor/setup/", HTTP_ACCEPT_LANGUAGE="en")
    assert page.status_code == 200
    html = page.content.decode()
    assert '<svg viewBox="0 0 ' in html and 'class="segno"' in html
    assert "<script>" not in html
    key = shown_secret(page)
    device = TOTPDevice.objects.get(user=user)
    assert device.confirmed is False
    assert key == device.bin_key
    assert "issuer=Volunteer%20patrols" in device.config_url

    # A wrong first code confirms nothing.
    wrong = client.post("/accounts/two-factor/setup/", {"otp": "000000"}, HTTP_ACCEPT_LANGUAGE="en")
    assert "The code is wrong or has expired" in wrong.content.decode()
    assert signed_in_as(client) is None
    device.refresh_from_db()
    assert device.confirmed is False
    # The device waits a second after a wrong code; the next code is accepted after that.
    device.throttle_reset()

    confirmed = client.post("/accounts/two-factor/setup/", {"otp": totp.code(key)}, HTTP_ACCEPT_LANGUAGE="en")
    assert confirmed.status_code == 302 and confirmed["Location"] == "/"
    assert signed_in_as(client) == user.username
    assert client.get("/").status_code == 200
    device.refresh_from_db()
    assert device.confirmed is True

    # Next time: password, then the code (the set-up page is not offered again).
    client.post("/accounts/logout/")
    again = Client()
    assert password_step(again, user.username)["Location"] == "/accounts/login/code/"
    assert again.get("/accounts/two-factor/setup/")["Location"] == "/accounts/login/code/"
    assert signed_in_as(again) is None
    refused = again.post("/accounts/login/code/", {"otp": "123456"}, HTTP_ACCEPT_LANGUAGE="en")
    assert refused.status_code == 200
    assert "The code is wrong or has expired" in refused.content.decode()
    assert signed_in_as(again) is None
    TOTPDevice.objects.get(user=user).throttle_reset()
    # The code of the set-up was used; the app's next one is accepted (a code counts once).
    accepted = again.post("/accounts/login/code/", {"otp": totp.code(key, steps_ahead=1)})
    assert accepted.status_code == 302
    assert signed_in_as(again) == user.username


def test_a_used_code_is_not_accepted_twice(inspector):
    key = set_up(Client(), inspector)
    used = totp.code(key, period=TOTPDevice.objects.get(user=inspector).last_t)
    replay = Client()
    password_step(replay, "inspector")
    response = replay.post("/accounts/login/code/", {"otp": used}, HTTP_ACCEPT_LANGUAGE="en")
    assert "The code is wrong or has expired" in response.content.decode()
    assert signed_in_as(replay) is None


def test_guessing_codes_is_slowed_down(inspector):
    set_up(Client(), inspector)
    client = Client()
    password_step(client, "inspector")
    client.post("/accounts/login/code/", {"otp": "111111"})
    response = client.post("/accounts/login/code/", {"otp": "222222"}, HTTP_ACCEPT_LANGUAGE="en")
    assert "Too many wrong codes: wait 1 second" in unescape(response.content.decode())
    assert signed_in_as(client) is None


def test_the_code_step_needs_the_password_step_first(inspector):
    client = Client()
    for path in ("/accounts/login/code/", "/accounts/two-factor/setup/"):
        response = client.get(path)
        assert response.status_code == 302 and response["Location"] == "/accounts/login/"
    assert not TOTPDevice.objects.exists()


def test_the_code_step_waits_five_minutes_at_most(inspector):
    key = set_up(Client(), inspector)
    client = Client()
    password_step(client, "inspector")
    session = client.session
    session[PENDING]["at"] -= PENDING_SECONDS + 1
    session.save()
    response = client.post("/accounts/login/code/", {"otp": totp.code(key, steps_ahead=1)}, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 302 and response["Location"] == "/accounts/login/"
    assert signed_in_as(client) is None
    page = client.get("/accounts/login/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Sign in again: enter your username and password." in page


def test_the_code_step_keeps_the_page_asked_for(inspector):
    key = set_up(Client(), inspector)
    client = Client()
    client.post("/accounts/login/", {"username": "inspector", "password": PASSWORD, "next": "/shifts/"})
    response = client.post("/accounts/login/code/", {"otp": totp.code(key, steps_ahead=1)})
    assert response["Location"] == "/shifts/"


@pytest.mark.parametrize("persona", ["volunteer", "leader"])
def test_volunteers_and_leaders_never_need_a_code(request, persona, api):
    user = request.getfixturevalue(persona)
    client = Client()
    response = password_step(client, user.username)
    assert response.status_code == 302 and response["Location"] == "/"
    assert signed_in_as(client) == user.username
    token = Client().post("/api/v1/auth/token/", {"username": user.username, "password": PASSWORD})
    assert token.status_code == 200 and token.json()["token"]
    assert not TOTPDevice.objects.exists()


@pytest.mark.parametrize("persona", STAFF)
def test_the_api_token_needs_the_code_for_staff(request, persona):
    user = request.getfixturevalue(persona)
    credentials = {"username": user.username, "password": PASSWORD}
    client = Client(HTTP_ACCEPT_LANGUAGE="en")

    no_app = client.post("/api/v1/auth/token/", credentials)
    assert no_app.status_code == 400
    assert "sign in on the website once to set it up" in no_app.json()["otp"][0]

    key = set_up(Client(), user)
    missing = client.post("/api/v1/auth/token/", credentials)
    assert missing.status_code == 400
    assert missing.json() == {"otp": ["Enter the 6-digit code from your authenticator app."]}
    wrong = client.post("/api/v1/auth/token/", {**credentials, "otp": "000000"})
    assert wrong.status_code == 400
    assert wrong.json() == {"otp": ["The code is wrong or has expired: enter the code the app shows now."]}
    assert not ApiToken.objects.filter(user=user).exists()
    TOTPDevice.objects.get(user=user).throttle_reset()

    accepted = client.post("/api/v1/auth/token/", {**credentials, "otp": totp.code(key, steps_ahead=1)})
    assert accepted.status_code == 200
    me = Client().get("/api/v1/me/", HTTP_AUTHORIZATION=f"Token {accepted.json()['token']}")
    assert me.json()["username"] == user.username


def test_a_wrong_password_with_a_right_code_is_still_refused(inspector):
    key = set_up(Client(), inspector)
    response = Client(HTTP_ACCEPT_LANGUAGE="en").post(
        "/api/v1/auth/token/", {"username": "inspector", "password": "wrong", "otp": totp.code(key, steps_ahead=1)}
    )
    assert response.status_code == 400
    assert response.json() == {"non_field_errors": ["The username or password is wrong."]}


def test_a_password_only_staff_session_is_ended_when_2fa_is_on(inspector, web):
    # A session from before STAFF_2FA was turned on (the test client signs in with the password alone).
    client = web(inspector)
    response = client.get("/", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
    assert signed_in_as(client) is None
    page = client.get("/accounts/login/", HTTP_ACCEPT_LANGUAGE="en")
    assert "Sign in again with the code from your authenticator app." in page.content.decode()


def test_the_admin_site_needs_the_code_too(admin_user, web):
    # Its own sign-in form is replaced by the site's.
    anonymous = Client()
    response = anonymous.get("/admin/")
    assert response.status_code == 302
    follow = anonymous.get(response["Location"])
    assert follow.status_code == 302 and follow["Location"] == "/accounts/login/?next=%2Fadmin%2F"
    assert anonymous.post("/admin/login/", {"username": "admin", "password": PASSWORD}).status_code == 302
    assert signed_in_as(anonymous) is None

    # A password-only session does not open it.
    password_only = web(admin_user)
    assert password_only.get("/admin/").status_code == 302
    assert signed_in_as(password_only) is None

    # Through the site's sign-in with the code, it opens.
    verified = Client()
    verified.post("/accounts/login/", {"username": "admin", "password": PASSWORD, "next": "/admin/"})
    page = verified.get("/accounts/two-factor/setup/")
    response = verified.post("/accounts/two-factor/setup/", {"otp": totp.code(shown_secret(page))})
    assert response["Location"] == "/admin/"
    assert verified.get("/admin/").status_code == 200
    assert verified.get("/admin/login/")["Location"] == "/admin/"


def test_a_volunteer_signed_in_is_not_sent_round_in_circles_by_the_admin(volunteer, web):
    client = web(volunteer)
    assert client.get("/admin/")["Location"].startswith("/admin/login/")
    assert client.get("/admin/login/?next=/admin/").status_code == 403


def test_with_2fa_off_staff_sign_in_with_the_password(settings, inspector):
    settings.STAFF_2FA = False
    client = Client()
    assert password_step(client, "inspector")["Location"] == "/"
    assert signed_in_as(client) == "inspector"
    assert Client().post("/api/v1/auth/token/", {"username": "inspector", "password": PASSWORD}).status_code == 200
    assert signin.second_factor_required(inspector) is False
