"""In Chromium at a phone's size, on the notification settings page: Ainur turns on notifications for this phone,
the page saves the browser's subscription through the API (with the session and its CSRF token), a reminder then
reaches the push service encrypted for that subscription, and turning them off removes it again. A browser without
web push is told so. All under the app's strict Content Security Policy.

Chromium here has no push service of its own (the network is closed), so the page's `pushManager` is given the
subscription a browser would get from tests/support/push_service.py; everything else (the permission prompt, the
service worker's registration, the page's script and its translations) is the browser's own.
"""

import datetime
import json

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from patrols.models import Delivery, NotificationPreference, PushSubscription
from patrols.services import reminders, scheduling, webpush
from tests.factories import MembershipFactory, ShiftFactory, UserFactory, VolunteerFactory
from tests.support.push_service import PushService, unb64url
from tests.test_browser_shifts import PHONE, chromium, sign_in, strict  # noqa: F401 (the fixture is used by name)

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

# The page's pushManager, answering as Chrome does with the subscription its push service gave (the test's own).
PUSH_MANAGER = """
(() => {
  const given = %s;
  let current = null;
  window.subscribedWith = null;
  PushManager.prototype.getSubscription = function () { return Promise.resolve(current); };
  PushManager.prototype.subscribe = function (options) {
    window.subscribedWith = {
      userVisibleOnly: options.userVisibleOnly,
      key: Array.from(new Uint8Array(options.applicationServerKey)),
    };
    current = {
      endpoint: given.endpoint,
      options: { applicationServerKey: options.applicationServerKey },
      toJSON: () => given,
      unsubscribe: () => { current = null; return Promise.resolve(true); },
    };
    return Promise.resolve(current);
  };
})();
"""


@pytest.fixture
def push_service(monkeypatch):
    service = PushService().start()
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", service.ca_file)
    yield service
    service.stop()


def test_ainur_turns_on_notifications_on_her_phone_and_a_reminder_is_pushed_to_it(
    live_server,
    chromium,  # noqa: F811
    settings,
    push_service,
    zone,
    group,
    inspector,
):
    private_key, public_key = webpush.vapid_keys_generate()
    settings.VAPID_PRIVATE_KEY = private_key
    user = UserFactory(username="ainur", language="en")
    person = VolunteerFactory(district=group.district, user=user)
    MembershipFactory(volunteer=person, group=group)
    NotificationPreference.objects.create(
        user=user, channel_order=["push", "sms"], quiet_start=datetime.time(0), quiet_end=datetime.time(0)
    )
    subscription = push_service.subscribe(application_server_key=public_key)
    origin = live_server.url
    # A browser without web push is told so, and offered no button.
    old_browser = chromium.new_context(viewport=PHONE, is_mobile=True, locale="en-US")
    old_browser.add_init_script("delete window.PushManager;")
    page = old_browser.new_page()
    sign_in(page, origin, "ainur")
    page.goto(f"{origin}/settings/notifications/")
    expect(page.locator("#push [data-push-status]")).to_contain_text("This browser cannot show notifications")
    expect(page.locator("#push").get_by_role("button")).to_have_count(0)
    old_browser.close()

    phone = chromium.new_context(viewport=PHONE, is_mobile=True, has_touch=True, locale="en-US")
    violations = strict(phone, origin)
    phone.add_init_script(PUSH_MANAGER % json.dumps(subscription.to_json()))
    page = phone.new_page()
    sign_in(page, origin, "ainur")
    page.goto(f"{origin}/settings/notifications/")
    section = page.locator("#push")
    expect(section.get_by_role("heading")).to_have_text("Notifications on this phone")
    expect(section.locator("[data-push-status]")).to_have_text("Notifications are off for this phone.")
    expect(section.get_by_role("button", name="Turn off notifications on this phone")).to_be_hidden()

    phone.grant_permissions(["notifications"], origin=origin)
    section.get_by_role("button", name="Turn on notifications on this phone").tap()
    expect(section.locator("[data-push-status]")).to_have_text("Notifications are on for this phone.")
    expect(section.locator("[data-push-count]")).to_have_text("You get them on 1 phone or browser.")
    asked = page.evaluate("window.subscribedWith")
    assert asked == {"userVisibleOnly": True, "key": list(unb64url(public_key))}
    saved = PushSubscription.objects.get(user=user)
    assert (saved.endpoint, saved.p256dh, saved.auth) == (subscription.endpoint, subscription.p256dh, subscription.auth)
    assert "Chrome" in saved.user_agent
    assert page.evaluate("navigator.serviceWorker.getRegistration('/').then((r) => Boolean(r && r.active))")

    starts = timezone.now() + datetime.timedelta(hours=30)
    shift = ShiftFactory(zone=zone, inspector=inspector, groups=[group], starts_at=starts)
    scheduling.shift_signup(shift=shift, volunteer=person, by=user)
    reminders.sweep(now=starts - datetime.timedelta(hours=23))
    delivery = Delivery.objects.get(user=user, channel="push")
    assert reminders.delivery_send(delivery_id=delivery.pk) == "sent"
    [push] = push_service.messages(subscription)
    assert push_service.read(push)["url"].endswith(f"/shifts/{shift.pk}/")

    section.get_by_role("button", name="Turn off notifications on this phone").tap()
    expect(section.locator("[data-push-status]")).to_have_text("Notifications are off for this phone.")
    expect(section.locator("[data-push-count]")).to_have_text("You get them on 0 phones or browsers.")
    assert not PushSubscription.objects.filter(user=user).exists()
    assert violations == []
