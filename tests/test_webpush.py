"""Notifications on the phone (web push): Ainur turns them on through the API as the settings page does, her shift
reminder reaches the push service once and her phone reads it in Kazakh, a push service that fails is tried again
with the same delivery, one that refuses the message fails it (the inspector sees it, the SMS goes instead), and a
phone that unsubscribed is forgotten.

The push service is a local HTTPS server (tests/support/push_service.py) that checks the VAPID signature and keeps
what it takes; each message is decrypted with the browser's own keys, as the phone would. The SMS gateway is the one
of tests/support/sms_gateway.py. The service worker's handlers run in Node with the browser's parts stubbed.
"""

from __future__ import annotations

import contextlib
import datetime
import io
import json
import shutil
import subprocess

import pytest
from django.core.management import call_command
from django.test import Client
from django.utils import timezone, translation
from django.utils.translation import gettext

from coordination import celery_app
from patrols.choices import DeliveryStatus, NotificationKind
from patrols.models import Assignment, Delivery, NotificationPreference, PushSubscription
from patrols.services import reminders, scheduling, webpush
from patrols.services.messages import Message, render
from patrols.services.notifications import channel_addresses, notify
from tests.conftest import api_reader
from tests.factories import PASSWORD, MembershipFactory, ShiftFactory, UserFactory, VolunteerFactory
from tests.support.push_service import PushService, Subscription, unb64url
from tests.support.sms_gateway import TOKEN, SmsGateway
from tests.test_csp import assert_strict
from tests.test_settings import manage

pytestmark = pytest.mark.django_db

API = "/api/v1/push-subscriptions/"
SUBJECT = "mailto:duty@talgar.police.kz"
AINUR_PHONE = "+77015550123"
PHONE_BROWSER = "Mozilla/5.0 (Linux; Android 14; SM-A155F) AppleWebKit/537.36 Chrome/131.0 Mobile Safari/537.36"


@pytest.fixture
def vapid(settings) -> str:
    """Push is on: a key pair made for this test; the public key browsers subscribe with."""
    private_key, public_key = webpush.vapid_keys_generate()
    settings.VAPID_PRIVATE_KEY = private_key
    settings.VAPID_SUBJECT = SUBJECT
    return public_key


@pytest.fixture
def push_service(monkeypatch):
    service = PushService().start()
    # The sender trusts the service's own certificate, as it trusts the real push services' ones.
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", service.ca_file)
    yield service
    service.stop()


@pytest.fixture
def gateway(settings):
    server = SmsGateway().start()
    settings.SMS_BACKEND = "http"
    settings.SMS_GATEWAY_URL = server.url
    settings.SMS_GATEWAY_TOKEN = TOKEN
    yield server
    server.stop()


@pytest.fixture
def committed(django_capture_on_commit_callbacks):
    """`with committed():` runs what waits for the commit, and the tasks it queues run at once (eager Celery) there
    only: outside it, what the sweep queues waits, and the test sends it as a worker would."""

    @contextlib.contextmanager
    def run():
        previous = celery_app.conf.task_always_eager
        celery_app.conf.task_always_eager = True
        try:
            with django_capture_on_commit_callbacks(execute=True):
                yield
        finally:
            celery_app.conf.task_always_eager = previous

    return run


@pytest.fixture
def ainur(group):
    """A registered volunteer who reads Kazakh and wants notifications on her phone first, then SMS."""
    user = UserFactory(username="ainur", first_name="Айнұр", language="kk")
    person = VolunteerFactory(district=group.district, user=user, phone=AINUR_PHONE)
    MembershipFactory(volunteer=person, group=group)
    # No quiet hours: what the test sends does not depend on the hour it runs at.
    NotificationPreference.objects.create(
        user=user, channel_order=["push", "sms"], quiet_start=datetime.time(0), quiet_end=datetime.time(0)
    )
    return user


@pytest.fixture
def night_shift(zone, group, inspector):
    """A shift starting in 30 hours: the 24 h reminder is the next one due."""
    starts = timezone.now() + datetime.timedelta(hours=30)
    return ShiftFactory(
        zone=zone, inspector=inspector, groups=[group], starts_at=starts, ends_at=starts + datetime.timedelta(hours=5)
    )


def subscribe(api, user, subscription: Subscription, *, browser: str = PHONE_BROWSER):
    """What the settings page posts: the browser's PushSubscription.toJSON()."""
    return api(user).post(API, subscription.to_json(), format="json", HTTP_USER_AGENT=browser)


@pytest.fixture
def phone(api, ainur, push_service, vapid) -> Subscription:
    """Ainur's phone, subscribed with the site's key and saved through the API."""
    subscription = push_service.subscribe(application_server_key=vapid)
    assert subscribe(api, ainur, subscription).status_code == 201
    return subscription


def reminder_for(shift, user) -> Delivery:
    """Sign up and let the sweep reach the 24 h reminder: its one phone delivery."""
    scheduling.shift_signup(shift=shift, volunteer=user.volunteer, by=user)
    reminders.sweep(now=shift.starts_at - datetime.timedelta(hours=23))
    return Delivery.objects.get(user=user, notification__kind=NotificationKind.SHIFT_REMINDER, channel="push")


def test_the_keys_command_makes_a_pair_the_app_signs_with(settings, api, ainur):
    out = io.StringIO()
    call_command("vapid_keys", stdout=out)
    first, second = out.getvalue().splitlines()
    assert first.startswith("VAPID_PRIVATE_KEY=")
    private_key, public_key = first.split("=", 1)[1], second.rsplit(" ", 1)[1]
    assert len(unb64url(private_key)) == 32
    point = unb64url(public_key)
    assert len(point) == 65 and point[0] == 4
    assert webpush.public_key(private_key) == public_key
    again = io.StringIO()
    call_command("vapid_keys", stdout=again)
    assert again.getvalue().splitlines()[0] != first
    settings.VAPID_PRIVATE_KEY = private_key
    assert api(ainur).get(API).json()["public_key"] == public_key


def test_a_private_key_that_is_not_one_stops_the_start_without_showing_it():
    result = manage("check", DEBUG="1", VAPID_PRIVATE_KEY="not-a-key-at-all")
    assert result.returncode != 0
    assert "VAPID_PRIVATE_KEY is not a raw P-256 private key" in result.stderr
    assert "not-a-key-at-all" not in result.stderr


def test_ainur_turns_notifications_on_for_her_phone_and_off_again(api, ainur, push_service, vapid):
    assert api(ainur).get(API).json() == {"public_key": vapid, "subscriptions": []}
    phone = push_service.subscribe(application_server_key=vapid)
    created = subscribe(api, ainur, phone)
    assert created.status_code == 201
    assert set(created.json()) == {"id", "created_at", "last_success_at", "user_agent"}
    assert created.json()["user_agent"] == PHONE_BROWSER
    assert subscribe(api, ainur, phone).status_code == 200
    assert PushSubscription.objects.filter(user=ainur).count() == 1
    tablet = push_service.subscribe(application_server_key=vapid)
    assert subscribe(api, ainur, tablet, browser="Tablet").status_code == 201
    listed = api(ainur).get(API)
    assert [s["user_agent"] for s in listed.json()["subscriptions"]] == ["Tablet", PHONE_BROWSER]
    # The keys and the push addresses stay on the server.
    for secret in (phone.p256dh, phone.auth, phone.endpoint, tablet.auth):
        assert secret not in listed.content.decode()
    assert channel_addresses(ainur)["push"]
    assert api(ainur).delete(API, {"endpoint": phone.endpoint}, format="json").status_code == 204
    assert list(PushSubscription.objects.filter(user=ainur).values_list("endpoint", flat=True)) == [tablet.endpoint]
    assert api(ainur).delete(API, {"endpoint": phone.endpoint}, format="json").status_code == 204


def test_a_phone_belongs_to_whoever_subscribed_it_last_and_nobody_else_removes_it(
    api, ainur, volunteer, push_service, vapid
):
    phone = push_service.subscribe(application_server_key=vapid)
    subscribe(api, ainur, phone)
    assert api(volunteer).get(API).json()["subscriptions"] == []
    assert api(volunteer).delete(API, {"endpoint": phone.endpoint}, format="json").status_code == 204
    assert PushSubscription.objects.get(endpoint=phone.endpoint).user == ainur
    # Ainur's colleague signs in on her phone and turns notifications on: the phone is his now, not hers.
    assert subscribe(api, volunteer, phone).status_code == 200
    assert PushSubscription.objects.get(endpoint=phone.endpoint).user == volunteer
    assert api(ainur).get(API).json()["subscriptions"] == []
    assert not channel_addresses(ainur)["push"]


def test_a_person_keeps_the_phones_that_still_listen(api, ainur, push_service, vapid):
    browsers = [push_service.subscribe(application_server_key=vapid) for _ in range(12)]
    for browser in browsers:
        assert subscribe(api, ainur, browser).status_code == 201
    kept = set(PushSubscription.objects.filter(user=ainur).values_list("endpoint", flat=True))
    assert len(kept) == webpush.MAX_SUBSCRIPTIONS_PER_PERSON
    assert browsers[-1].endpoint in kept and browsers[0].endpoint not in kept


def test_turning_them_on_and_off_is_rate_limited_per_person(api, ainur, volunteer, push_service, vapid, settings):
    rates = settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {**rates, "push": "2/min"}}
    phone = push_service.subscribe(application_server_key=vapid)
    assert subscribe(api, ainur, phone).status_code == 201
    assert api(ainur).delete(API, {"endpoint": phone.endpoint}, format="json").status_code == 204
    refused = subscribe(api, ainur, phone)
    assert refused.status_code == 429 and int(refused["Retry-After"]) >= 1
    assert not PushSubscription.objects.exists()
    assert api(ainur).get(API).status_code == 200
    assert subscribe(api, volunteer, push_service.subscribe(application_server_key=vapid)).status_code == 201


def test_what_is_not_a_subscription_is_refused_in_the_readers_language(client, ainur, push_service, vapid, settings):
    russian = api_reader(ainur, "ru")
    good = push_service.subscribe(application_server_key=vapid).to_json()

    def refused(body) -> dict:
        response = russian.post(API, body, format="json")
        assert response.status_code == 400, response.content
        return response.json()

    def russian_for(text: str) -> str:
        with translation.override("ru"):
            return gettext(text)

    plain = {**good, "endpoint": good["endpoint"].replace("https://", "http://")}
    assert refused(plain) == {"endpoint": [russian_for("The push service address must start with https://.")]}
    assert refused({**good, "endpoint": "https://push service/"}) == {
        "endpoint": [russian_for("This is not the address of a push service.")]
    }
    assert set(refused({"endpoint": good["endpoint"]})) == {"keys"}
    no_keys = [russian_for("This browser gave no usable push keys.")]
    assert refused({**good, "keys": {"p256dh": "bm90IGEga2V5", "auth": good["keys"]["auth"]}}) == {
        "non_field_errors": no_keys
    }
    assert refused({**good, "keys": {"p256dh": good["keys"]["p256dh"], "auth": "c2hvcnQ"}}) == {
        "non_field_errors": no_keys
    }
    assert refused({**good, "keys": {"p256dh": "Ә" * 87, "auth": good["keys"]["auth"]}}) == {
        "non_field_errors": no_keys
    }
    assert set(russian.delete(API, {}, format="json").json()) == {"endpoint"}
    assert not PushSubscription.objects.exists()
    assert client.get(API).status_code in {401, 403}
    settings.VAPID_PRIVATE_KEY = ""
    assert refused(good) == {
        "non_field_errors": [russian_for("Notifications on the phone are not turned on for this site.")]
    }
    assert russian.get(API).json()["public_key"] == ""


def test_a_shift_reminder_reaches_her_phone_once_in_kazakh(ainur, phone, push_service, gateway, night_shift):
    delivery = reminder_for(night_shift, ainur)
    assert (delivery.channel, delivery.language) == ("push", "kk")
    assert reminders.delivery_send(delivery_id=delivery.pk) == "sent"
    assert reminders.delivery_send(delivery_id=delivery.pk) == "sent"
    [push] = push_service.messages(phone)
    assert push_service.refusals() == []
    assert push.claims["sub"] == SUBJECT and push.key == webpush.public_key()
    assert (push.ttl, push.urgency) == (3600 * 12, "normal")
    shown = push_service.read(push)
    words = render(delivery.notification, "kk")
    assert "Патруль" in shown["title"]
    assert (shown["title"], shown["body"], shown["url"]) == (words.subject, words.body, words.link)
    assert shown["url"].endswith(f"/shifts/{night_shift.pk}/")
    assert [action["title"] for action in shown["actions"]] == [label for label, _url in words.actions]
    assert all("/reply/" in action["url"] for action in shown["actions"])
    assert (shown["tag"], shown["urgent"], shown["lang"]) == (f"n{delivery.notification_id}", False, "kk")
    assert gateway.messages() == []
    assert Delivery.objects.filter(notification=delivery.notification).count() == 1
    assert PushSubscription.objects.get(endpoint=phone.endpoint).last_success_at is not None


def test_a_push_service_error_is_tried_again_with_the_same_delivery(ainur, phone, push_service, gateway, night_shift):
    push_service.answer(phone, 500)
    delivery = reminder_for(night_shift, ainur)
    assert reminders.delivery_send(delivery_id=delivery.pk) == "retry"
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.PENDING, 1)
    assert "500" in delivery.last_error and delivery.not_before > timezone.now()
    assert reminders.delivery_send(delivery_id=delivery.pk) == "later"
    assert push_service.messages(phone) == []
    # The backoff has passed.
    Delivery.objects.filter(pk=delivery.pk).update(not_before=timezone.now() - datetime.timedelta(seconds=1))
    assert reminders.delivery_send(delivery_id=delivery.pk) == "sent"
    assert [a.status for a in push_service.attempts(phone)] == [500, 201]
    [push] = push_service.messages(phone)
    assert push_service.read(push)["title"] == render(delivery.notification, "kk").subject
    assert Delivery.objects.filter(notification=delivery.notification).count() == 1
    assert Delivery.objects.get(pk=delivery.pk).attempts == 2
    assert gateway.messages() == []


def test_a_refused_push_is_failed_shown_to_the_inspector_and_sent_by_sms(
    ainur, phone, push_service, gateway, night_shift, inspector, committed, web
):
    push_service.answer(phone, 400)
    delivery = reminder_for(night_shift, ainur)
    with committed():
        assert reminders.delivery_send(delivery_id=delivery.pk) == "failed"
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.FAILED, 1)
    assert "400" in delivery.last_error
    assert list(reminders.failed_deliveries_for(inspector)) == [delivery]
    assert delivery in web(inspector).get("/").context["failed_deliveries"]
    sms = Delivery.objects.get(notification=delivery.notification, channel="sms")
    assert (sms.status, sms.address) == (DeliveryStatus.SENT, AINUR_PHONE)
    [text] = gateway.messages(AINUR_PHONE)
    assert render(delivery.notification, "kk").short in text.text
    assert push_service.messages(phone) == []
    # Only that message failed: the phone stays subscribed for the next one.
    assert PushSubscription.objects.filter(endpoint=phone.endpoint).exists()


def test_a_phone_that_unsubscribed_is_forgotten(
    api, ainur, phone, push_service, gateway, night_shift, vapid, committed
):
    new_phone = push_service.subscribe(application_server_key=vapid)
    subscribe(api, ainur, new_phone)
    push_service.gone(phone)
    delivery = reminder_for(night_shift, ainur)
    assert reminders.delivery_send(delivery_id=delivery.pk) == "sent"
    assert [p.token for p in push_service.messages()] == [new_phone.token]
    assert list(PushSubscription.objects.filter(user=ainur).values_list("endpoint", flat=True)) == [new_phone.endpoint]
    # Then the new phone is reset as well: nothing is left to push to, and the SMS goes instead.
    push_service.answer(new_phone, 410)
    assignment = Assignment.objects.get(shift=night_shift, volunteer=ainur.volunteer)
    with committed():
        [urgent] = notify(
            users=[ainur], kind=NotificationKind.CHECKIN_MISSING, shift=night_shift, assignment=assignment.pk
        )
    pushed = Delivery.objects.get(notification=urgent, channel="push")
    assert pushed.status == DeliveryStatus.FAILED
    assert pushed.last_error == "no phone is subscribed any more (the push service answered 410)"
    assert not PushSubscription.objects.filter(user=ainur).exists()
    assert channel_addresses(ainur)["push"] == ""
    assert len(gateway.messages(AINUR_PHONE)) == 1


def test_an_urgent_message_rings_the_phone_and_goes_by_sms_at_once(
    ainur, phone, push_service, gateway, night_shift, committed
):
    assignment = scheduling.shift_signup(shift=night_shift, volunteer=ainur.volunteer, by=ainur)
    with committed():
        [urgent] = notify(
            users=[ainur], kind=NotificationKind.CHECKIN_MISSING, shift=night_shift, assignment=assignment.pk
        )
    assert set(Delivery.objects.filter(notification=urgent).values_list("channel", "status")) == {
        ("push", DeliveryStatus.SENT),
        ("sms", DeliveryStatus.SENT),
    }
    [push] = push_service.messages(phone)
    assert push.urgency == "high"
    assert push_service.read(push)["urgent"] is True
    assert len(gateway.messages(AINUR_PHONE)) == 1


def test_a_long_message_is_cut_to_fit_one_push(ainur, phone, push_service, night_shift):
    delivery = reminder_for(night_shift, ainur)
    long = Message(subject="Патруль", body="Ұзақ хабар. " * 400, link="https://patrol.example/shifts/1/", short="")
    data = webpush.payload(delivery, long)
    assert len(json.dumps(data, ensure_ascii=False).encode()) <= webpush.MAX_PAYLOAD_BYTES
    assert data["body"].startswith("Ұзақ хабар.") and data["body"].endswith("…")
    webpush.push_one(PushSubscription.objects.get(endpoint=phone.endpoint), data, urgent=False)
    [push] = push_service.messages(phone)
    assert push_service.read(push)["body"] == data["body"]


def test_the_settings_page_shows_the_phone_section(web, ainur, phone, settings):
    page = web(ainur).get("/settings/notifications/")
    assert_strict(page)
    html = page.content.decode()
    assert page.context["push_key"] == webpush.public_key() and page.context["push_count"] == 1
    assert f'data-key="{webpush.public_key()}"' in html and f'data-api="{API}"' in html
    assert "/static/js/push.js" in html and "/jsi18n/" in html
    assert 'id="push"' in html and "data-push-unavailable" not in html
    assert html.index('id="email"') < html.index('id="push"')
    settings.VAPID_PRIVATE_KEY = ""
    off = web(ainur).get("/settings/notifications/").content.decode()
    assert "data-push-unavailable" in off and "push.js" not in off and "data-key" not in off


def test_the_page_saves_a_subscription_with_the_session_and_its_csrf_token(ainur, push_service, vapid):
    browser = Client(enforce_csrf_checks=True)
    assert browser.login(username=ainur.username, password=PASSWORD)
    browser.get("/settings/notifications/")
    body = json.dumps(push_service.subscribe(application_server_key=vapid).to_json())
    assert browser.post(API, body, content_type="application/json").status_code == 403
    token = browser.cookies["csrftoken"].value
    assert browser.post(API, body, content_type="application/json", HTTP_X_CSRFTOKEN=token).status_code == 201


# The service worker in Node: `self` with the parts of a browser the push handlers use, recording what they do.
SERVICE_WORKER_HARNESS = r"""
const fs = require("fs");
const vm = require("vm");
const scenario = JSON.parse(fs.readFileSync(0, "utf8"));
const listeners = {};
const seen = { shown: [], focused: [], opened: [], closed: 0 };
const self = {
  location: { origin: scenario.origin },
  addEventListener: (type, handler) => { listeners[type] = handler; },
  registration: {
    showNotification: (title, options) => { seen.shown.push({ title, options }); return Promise.resolve(); },
  },
  clients: {
    matchAll: () => Promise.resolve(scenario.windows.map((url) => ({
      url, focus() { seen.focused.push(url); return Promise.resolve(this); },
    }))),
    openWindow: (url) => { seen.opened.push(url); return Promise.resolve(null); },
  },
  Notification: { maxActions: 2 },
  URL, Promise, JSON, setTimeout,
  importScripts: () => { self.Outbox = { configure() {} }; },
};
self.self = self;
vm.createContext(self);
vm.runInContext(scenario.source, self);
function dispatch(type, event) {
  const waits = [];
  listeners[type]({ ...event, waitUntil: (promise) => waits.push(promise) });
  return Promise.all(waits);
}
(async () => {
  await dispatch("push", { data: { json: () => scenario.payload, text: () => JSON.stringify(scenario.payload) } });
  const shown = seen.shown[0];
  for (const action of scenario.clicks) {
    const notification = { data: shown.options.data, close: () => { seen.closed += 1; } };
    await dispatch("notificationclick", { action, notification });
  }
  process.stdout.write(JSON.stringify(seen));
})();
"""


def service_worker(client, payload: dict, *, clicks: list[str], windows: list[str], origin: str) -> dict:
    """The service worker as /sw.js serves it, given a push and then taps (an action's id, "" for the body)."""
    source = client.get("/sw.js").content.decode()
    scenario = {"source": source, "payload": payload, "clicks": clicks, "windows": windows, "origin": origin}
    node = shutil.which("node")
    if node is None:
        pytest.skip("Node.js is not installed")
    done = subprocess.run(
        [node, "-e", SERVICE_WORKER_HARNESS], input=json.dumps(scenario), capture_output=True, text=True, timeout=30
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_her_phone_shows_the_reminder_and_a_tap_opens_the_page_or_the_answer(
    client, ainur, phone, push_service, night_shift, settings
):
    delivery = reminder_for(night_shift, ainur)
    reminders.delivery_send(delivery_id=delivery.pk)
    payload = push_service.read(push_service.messages(phone)[0])
    shift_page = payload["url"]
    seen = service_worker(client, payload, clicks=["", "1", ""], windows=[shift_page], origin=settings.SITE_URL)
    [shown] = seen["shown"]
    assert shown["title"] == payload["title"]
    options = shown["options"]
    assert (options["body"], options["tag"], options["lang"], options["requireInteraction"]) == (
        payload["body"],
        payload["tag"],
        "kk",
        False,
    )
    assert [a["title"] for a in options["actions"]] == [a["title"] for a in payload["actions"]]
    # The body: the shift page already open is brought forward; "I can't come": its link opens; each tap closes it.
    assert seen["focused"] == [shift_page, shift_page]
    assert seen["opened"] == [payload["actions"][1]["url"]]
    assert seen["closed"] == 3


def test_an_urgent_push_stays_on_screen_until_seen(client, settings):
    payload = {"title": "SOS", "body": "…", "url": "/sos/7/", "tag": "n7", "urgent": True, "lang": "ru", "actions": []}
    seen = service_worker(client, payload, clicks=[""], windows=[], origin=settings.SITE_URL)
    assert seen["shown"][0]["options"]["requireInteraction"] is True
    assert seen["opened"] == [settings.SITE_URL + "/sos/7/"]
