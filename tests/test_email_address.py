"""People add their own email address, confirm it by the link sent to it, change or remove it (issue 15).

Email is a channel only once the address is confirmed: before that (and for anyone with no address) the settings
page shows it off and no email delivery is made, so nothing can fail and page the inspector.
"""

import logging
import re
import time
from urllib.parse import urlsplit

import pytest
from django.core import mail, signing
from django.utils import translation
from django.utils.translation import gettext

from patrols.models import Delivery, NotificationPreference, User
from patrols.services import email_address, reminders
from patrols.services.notifications import notify

pytestmark = pytest.mark.django_db

SETTINGS = "/settings/notifications/"
ADDRESS = "aigerim.seitova@example.kz"
LINK = re.compile(r"https?://\S+/settings/email/confirm/[^/\s]+/")


@pytest.fixture
def page(web):
    """`page(user)`: that persona's browser, reading English."""

    def signed_in(user):
        client = web(user)
        client.cookies["django_language"] = "en"
        return client

    return signed_in


@pytest.fixture
def ask(eager_celery, django_capture_on_commit_callbacks):
    """`ask(client, address)`: post the address on the settings page; the queued email is sent (eager Celery)."""

    def post(client, address):
        with django_capture_on_commit_callbacks(execute=True):
            return client.post("/settings/email/", {"email": address})

    return post


def checkbox(html: str, name: str) -> str:
    match = re.search(rf'<input type="checkbox" name="{name}"[^>]*>', html)
    assert match, name
    return match.group(0)


def link_in(message) -> str:
    match = LINK.search(message.body)
    assert match, message.body
    return urlsplit(match.group(0)).path


def pending(user) -> str:
    return NotificationPreference.objects.get(user=user).pending_email


def test_a_volunteer_adds_an_email_confirms_it_by_the_link_and_then_gets_email(page, ask, volunteer, caplog):
    caplog.set_level(logging.DEBUG)
    volunteer.language = "ru"
    volunteer.save()
    client = page(volunteer)
    before = client.get(SETTINGS).content.decode()
    assert "disabled" in checkbox(before, "email_enabled") and "checked" not in checkbox(before, "email_enabled")
    assert "Add an email address above to get email." in before

    response = ask(client, "  Aigerim.Seitova@EXAMPLE.KZ ")
    assert response.status_code == 302
    assert len(mail.outbox) == 1
    sent = mail.outbox[0]
    assert sent.to == ["Aigerim.Seitova@example.kz"]
    with translation.override("ru"):
        assert sent.subject == gettext("Confirm your email address")
    assert '<html lang="ru">' in sent.alternatives[0][0]
    volunteer.refresh_from_db()
    assert volunteer.email == ""
    assert pending(volunteer) == "Aigerim.Seitova@example.kz"
    waiting = client.get(SETTINGS).content.decode()
    assert "Waiting for confirmation" in waiting and "disabled" in checkbox(waiting, "email_enabled")
    notify(users=[volunteer], kind="report_verified")
    assert not Delivery.objects.filter(user=volunteer, channel="email").exists()

    confirmed = client.get(link_in(sent), follow=True)
    assert "Your email address is confirmed" in confirmed.content.decode()
    volunteer.refresh_from_db()
    assert volunteer.email == "Aigerim.Seitova@example.kz" and pending(volunteer) == ""
    after = client.get(SETTINGS).content.decode()
    assert "disabled" not in checkbox(after, "email_enabled") and "checked" in checkbox(after, "email_enabled")

    notification = notify(users=[volunteer], kind="report_verified")[0]
    delivery = Delivery.objects.get(notification=notification, channel="email")
    assert delivery.address == "Aigerim.Seitova@example.kz"
    assert reminders.delivery_send(delivery_id=delivery.pk) == "sent"
    assert mail.outbox[-1].to == ["Aigerim.Seitova@example.kz"]

    again = client.get(link_in(sent), follow=True)
    assert "This address is already confirmed." in again.content.decode()
    volunteer.refresh_from_db()
    assert volunteer.email == "Aigerim.Seitova@example.kz"
    assert "seitova" not in caplog.text.lower()


@pytest.mark.parametrize("typed", ["aigerim", "aigerim@", "aigerim@@example.kz", "a" * 250 + "@example.kz"])
def test_a_bad_address_is_refused_clearly_and_changes_nothing(page, ask, volunteer, typed):
    response = ask(page(volunteer), typed)
    assert response.status_code == 200
    html = response.content.decode()
    assert 'class="error" role="alert"' in html
    assert ("This is not an email address" in html) or ("at most 254 characters" in html)
    assert pending(volunteer) == "" and mail.outbox == []
    volunteer.refresh_from_db()
    assert volunteer.email == ""


def test_the_link_of_another_account_is_refused(page, ask, volunteer, leader):
    ask(page(volunteer), ADDRESS)
    link = link_in(mail.outbox[0])
    refused = page(leader).get(link, follow=True).content.decode()
    assert "sent for another account" in refused
    leader.refresh_from_db()
    volunteer.refresh_from_db()
    assert leader.email == "" and volunteer.email == "" and pending(volunteer) == ADDRESS


def test_an_expired_link_is_refused(page, ask, volunteer, settings, monkeypatch):
    client = page(volunteer)
    ask(client, ADDRESS)
    four_days_ago = time.time() - 4 * 24 * 3600
    with monkeypatch.context() as patched:
        patched.setattr(signing.time, "time", lambda: four_days_ago)
        token = email_address.confirmation_token(user=volunteer, address=ADDRESS)
    refused = client.get(f"/settings/email/confirm/{token}/", follow=True).content.decode()
    assert "This confirmation link has expired" in refused
    volunteer.refresh_from_db()
    assert volunteer.email == "" and pending(volunteer) == ADDRESS
    settings.EMAIL_CONFIRM_DAYS = 5
    client.get(f"/settings/email/confirm/{token}/")
    volunteer.refresh_from_db()
    assert volunteer.email == ADDRESS


@pytest.mark.parametrize("spoil", [lambda t: t[:-2] + ("AA" if not t.endswith("AA") else "BB"), lambda t: "x" + t])
def test_a_tampered_link_is_refused(page, ask, volunteer, spoil):
    client = page(volunteer)
    ask(client, ADDRESS)
    token = link_in(mail.outbox[0]).rstrip("/").rsplit("/", 1)[1]
    refused = client.get(f"/settings/email/confirm/{spoil(token)}/", follow=True).content.decode()
    assert "This confirmation link is not valid" in refused
    volunteer.refresh_from_db()
    assert volunteer.email == "" and pending(volunteer) == ADDRESS


def test_a_link_for_an_address_since_replaced_is_refused(page, ask, volunteer, settings):
    settings.EMAIL_CONFIRM_RESEND_MINUTES = 0
    client = page(volunteer)
    ask(client, ADDRESS)
    first = link_in(mail.outbox[0])
    ask(client, "aigerim@mail.kz")
    refused = client.get(first, follow=True).content.decode()
    assert "no longer waiting for confirmation" in refused
    volunteer.refresh_from_db()
    assert volunteer.email == "" and pending(volunteer) == "aigerim@mail.kz"
    client.get(link_in(mail.outbox[1]))
    volunteer.refresh_from_db()
    assert volunteer.email == "aigerim@mail.kz"


def test_confirmation_emails_are_rate_limited(page, ask, volunteer):
    client = page(volunteer)
    ask(client, ADDRESS)
    again = ask(client, ADDRESS)
    other = ask(client, "victim@example.kz")
    assert again.status_code == other.status_code == 200
    assert "You can ask for another in 5 minutes." in other.content.decode()
    assert len(mail.outbox) == 1 and pending(volunteer) == ADDRESS


def test_a_confirmed_address_is_changed_only_once_the_new_one_is_confirmed_and_can_be_removed(
    page, ask, volunteer, settings
):
    settings.EMAIL_CONFIRM_RESEND_MINUTES = 0
    client = page(volunteer)
    ask(client, ADDRESS)
    client.get(link_in(mail.outbox[0]))
    ask(client, "aigerim@mail.kz")
    volunteer.refresh_from_db()
    assert volunteer.email == ADDRESS
    notification = notify(users=[volunteer], kind="report_verified")[0]
    assert Delivery.objects.get(notification=notification).address == ADDRESS

    client.post("/settings/email/cancel/")
    assert pending(volunteer) == ""
    same = ask(client, ADDRESS)
    assert "This address is already confirmed." in same.content.decode()

    assert client.post("/settings/email/remove/").status_code == 302
    volunteer.refresh_from_db()
    assert volunteer.email == ""
    html = client.get(SETTINGS).content.decode()
    assert "disabled" in checkbox(html, "email_enabled") and "checked" not in checkbox(html, "email_enabled")
    notification = notify(users=[volunteer], kind="report_verified")[0]
    assert not Delivery.objects.filter(notification=notification).exists()
    assert client.get(link_in(mail.outbox[0]), follow=True).status_code == 200
    volunteer.refresh_from_db()
    assert volunteer.email == ""


def test_someone_with_no_address_sees_both_channels_off_and_gets_no_delivery(page, inspector, shift):
    client = page(inspector)
    html = client.get(SETTINGS).content.decode()
    for name in ("email_enabled", "sms_enabled"):
        box = checkbox(html, name)
        assert "disabled" in box and "checked" not in box, name
    assert "SMS goes to volunteers, at the phone number in their volunteer profile." in html
    # A box that is off cannot be ticked by posting it: the stored choice stays as it was.
    client.post(SETTINGS, {"email_enabled": "on", "sms_enabled": "on", "quiet_start": "22:00", "quiet_end": "07:00"})
    preference = NotificationPreference.objects.get(user=inspector)
    assert (preference.email_enabled, preference.sms_enabled) == (True, True)
    notify(users=[inspector], kind="understaffed", shift=shift, seats=0)
    assert not Delivery.objects.filter(user=inspector).exists()
    assert list(reminders.failed_deliveries_for(inspector)) == []


def test_a_volunteer_without_email_still_gets_sms_and_no_email_delivery(page, volunteer, shift):
    html = page(volunteer).get(SETTINGS).content.decode()
    assert "disabled" not in checkbox(html, "sms_enabled") and "checked" in checkbox(html, "sms_enabled")
    notify(users=[volunteer], kind="promoted", shift=shift)
    assert list(Delivery.objects.filter(user=volunteer).values_list("channel", flat=True)) == ["sms"]


def test_the_confirmation_is_for_signed_in_people_only(client, volunteer):
    token = email_address.confirmation_token(user=volunteer, address=ADDRESS)
    response = client.get(f"/settings/email/confirm/{token}/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    assert User.objects.get(pk=volunteer.pk).email == ""


def test_a_mail_server_that_fails_breaks_nothing_and_the_address_reaches_no_log(page, ask, volunteer, settings, caplog):
    caplog.set_level(logging.DEBUG)
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", 9, 1
    response = ask(page(volunteer), ADDRESS)
    assert response.status_code == 302
    assert pending(volunteer) == ADDRESS
    assert "ConfirmationNotSent" in caplog.text
    assert "seitova" not in caplog.text.lower()
