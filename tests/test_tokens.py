"""API tokens that expire, die with the password and cannot get around two-factor sign-in (issue 12, finding 1).

Phones sign in with `POST /api/v1/auth/token/` as before and get `{"token": ..., "expiry": ...}`; a token is one
device's, kept hashed, expires when idle and at a maximum age, and is revoked by its owner, by an administrator
and by every change of the account's credentials.
"""

import datetime

import pytest
from django.contrib.auth.models import update_last_login
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from patrols.choices import Role
from patrols.models import ApiToken
from tests.factories import PASSWORD
from tests.support import totp

pytestmark = pytest.mark.django_db


def token_for(user, password: str = PASSWORD, **extra) -> dict:
    response = Client().post("/api/v1/auth/token/", {"username": user.username, "password": password, **extra})
    assert response.status_code == 200, response.content
    return response.json()


def me(token: str) -> int:
    return Client().get("/api/v1/me/", HTTP_AUTHORIZATION=f"Token {token}").status_code


def test_a_token_is_one_devices_kept_hashed_and_expiring(volunteer):
    answer = token_for(volunteer, device="Samsung A14")
    assert set(answer) == {"token", "expiry"}
    kept = ApiToken.objects.get(user=volunteer)
    assert answer["token"] not in {kept.digest, kept.token_key} and len(kept.digest) == 128
    assert kept.device == "Samsung A14"
    assert datetime.timedelta(days=29) < kept.expiry - timezone.now() <= datetime.timedelta(days=30)
    assert me(answer["token"]) == 200
    # Each sign-in is a device of its own: the second token does not replace the first.
    second = token_for(volunteer)
    assert second["token"] != answer["token"]
    assert me(answer["token"]) == me(second["token"]) == 200


def test_an_idle_token_expires_and_use_moves_the_expiry_up_to_the_maximum_age(volunteer, settings):
    answer = token_for(volunteer)
    token = ApiToken.objects.get(user=volunteer)
    ApiToken.objects.filter(pk=token.pk).update(expiry=timezone.now() + datetime.timedelta(hours=1))
    assert me(answer["token"]) == 200
    token.refresh_from_db()
    assert token.expiry - timezone.now() > datetime.timedelta(days=29), "used: the idle expiry moved on"
    assert token.last_used_at is not None
    # Issued 179 days ago: a use moves the expiry no further than the 180-day maximum age.
    ApiToken.objects.filter(pk=token.pk).update(
        created=timezone.now() - datetime.timedelta(days=179), last_used_at=None
    )
    assert me(answer["token"]) == 200
    token.refresh_from_db()
    assert token.expiry - token.created <= datetime.timedelta(days=180)
    ApiToken.objects.filter(pk=token.pk).update(expiry=timezone.now() - datetime.timedelta(seconds=1))
    assert me(answer["token"]) == 401
    assert not ApiToken.objects.filter(pk=token.pk).exists()


def test_a_new_password_revokes_every_token_and_other_sessions(volunteer, admin_user, client):
    answer = token_for(volunteer)
    browser = Client()
    assert browser.login(username=volunteer.username, password=PASSWORD)
    assert browser.get(reverse("home")).status_code == 200
    volunteer.set_password("a-new-long-passphrase-7")
    volunteer.save()
    assert me(answer["token"]) == 401
    assert browser.get(reverse("home")).status_code == 302, "the old session ended"
    fresh = token_for(volunteer, password="a-new-long-passphrase-7")
    assert fresh["token"] != answer["token"] and me(fresh["token"]) == 200


def test_deactivation_and_a_role_change_revoke_tokens(volunteer, inspector):
    volunteer_token, inspector_token = token_for(volunteer)["token"], token_for(inspector)["token"]
    volunteer.is_active = False
    volunteer.save()
    inspector.role = Role.CHIEF
    inspector.save()
    assert me(volunteer_token) == me(inspector_token) == 401
    assert not ApiToken.objects.exists()


def test_signing_in_again_and_logging_in_change_nothing(volunteer):
    answer = token_for(volunteer)
    update_last_login(None, volunteer)
    volunteer.first_name = "Асқар"
    volunteer.save()
    assert me(answer["token"]) == 200


def test_a_staff_token_without_the_code_is_refused_once_two_factor_is_on(inspector, settings):
    settings.STAFF_2FA = False
    before = token_for(inspector)
    assert me(before["token"]) == 200
    settings.STAFF_2FA = True
    response = Client(HTTP_ACCEPT_LANGUAGE="en").get("/api/v1/me/", HTTP_AUTHORIZATION=f"Token {before['token']}")
    assert response.status_code == 401
    assert "authenticator app" in response.json()["detail"]


def test_setting_up_two_factor_revokes_the_old_token_and_the_code_gives_a_new_one(inspector, settings):
    settings.STAFF_2FA = False
    old = token_for(inspector)["token"]
    settings.STAFF_2FA = True
    web = Client()
    web.post(reverse("login"), {"username": inspector.username, "password": PASSWORD})
    web.get(reverse("two-factor-setup"))
    device = TOTPDevice.objects.get(user=inspector)
    response = web.post(reverse("two-factor-setup"), {"otp": totp.code(device.bin_key)})
    assert response.status_code == 302
    assert web.get(reverse("home")).status_code == 200, "the session that set it up goes on"
    assert not ApiToken.objects.filter(user=inspector).exists()
    new = token_for(inspector, otp=totp.code(device.bin_key, steps_ahead=1))["token"]
    assert new != old and me(new) == 200 and me(old) == 401


def test_a_new_or_a_removed_authenticator_revokes_tokens(inspector, settings):
    settings.STAFF_2FA = False
    token = token_for(inspector)["token"]
    device = TOTPDevice.objects.create(user=inspector, name="authenticator", confirmed=True)
    assert me(token) == 401
    token = token_for(inspector)["token"]
    device.verify_token("000000")
    assert me(token) == 200, "checking a code is not a change"
    device.delete()
    assert me(token) == 401


def test_the_owner_revokes_the_token_in_use_one_device_or_all(volunteer, leader, api):
    phone, tablet = token_for(volunteer, device="phone")["token"], token_for(volunteer, device="tablet")["token"]
    theirs = token_for(leader)["token"]
    as_phone = Client(HTTP_AUTHORIZATION=f"Token {phone}")
    listed = as_phone.get("/api/v1/auth/tokens/").json()
    assert sorted(row["device"] for row in listed["results"]) == ["phone", "tablet"]
    assert all("digest" not in row and "token" not in row for row in listed["results"])
    leader_key = ApiToken.objects.get(user=leader).token_key
    assert as_phone.delete(f"/api/v1/auth/tokens/{leader_key}/").status_code == 404
    tablet_key = ApiToken.objects.get(user=volunteer, device="tablet").token_key
    assert as_phone.delete(f"/api/v1/auth/tokens/{tablet_key}/").status_code == 204
    assert me(tablet) == 401 and me(phone) == 200
    assert as_phone.delete("/api/v1/auth/token/").status_code == 204
    assert me(phone) == 401
    assert Client().delete("/api/v1/auth/token/").status_code == 401
    assert me(theirs) == 200


def test_an_admin_sees_and_revokes_any_accounts_tokens(volunteer, admin_user, api):
    token = token_for(volunteer)["token"]
    rows = api(admin_user).get("/api/v1/auth/tokens/", {"user__username": volunteer.username}).json()["results"]
    assert [row["user"] for row in rows] == [volunteer.username]
    assert api(admin_user).delete(f"/api/v1/auth/tokens/{rows[0]['token_key']}/").status_code == 204
    assert me(token) == 401


def test_sign_out_everywhere_ends_tokens_and_other_sessions_but_not_this_one(volunteer):
    token = token_for(volunteer)["token"]
    laptop, phone = Client(), Client()
    for browser in (laptop, phone):
        assert browser.login(username=volunteer.username, password=PASSWORD)
    laptop.cookies["django_language"] = "en"
    page = laptop.post(reverse("devices"), {"everywhere": "1"}, follow=True)
    assert "You are signed out everywhere else: 1 device must sign in again." in page.content.decode()
    assert laptop.get(reverse("home")).status_code == 200
    assert phone.get(reverse("home")).status_code == 302
    assert me(token) == 401


def test_the_devices_page_lists_and_signs_out_one_device(volunteer, leader, web):
    token_for(volunteer, device="Redmi Note 12")
    theirs = token_for(leader, device="iPhone")["token"]
    client = web(volunteer)
    page = client.get(reverse("devices")).content.decode()
    assert "Redmi Note 12" in page and "iPhone" not in page
    leader_key = ApiToken.objects.get(user=leader).token_key
    assert client.post(reverse("devices"), {"token": leader_key}).status_code == 404
    assert me(theirs) == 200
    mine = ApiToken.objects.get(user=volunteer).token_key
    client.post(reverse("devices"), {"token": mine})
    assert not ApiToken.objects.filter(user=volunteer).exists()
