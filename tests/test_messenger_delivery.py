"""Messages over WhatsApp, Telegram and SMS, as the one Delivery sends them: once, again with the same key after a
500, failed and shown after a 400 (and then the next channel in the person's order), urgent ones on two channels
at once, and a WhatsApp message nobody reported delivered handed to the next channel by the sweep.

The WhatsApp Cloud API, the Telegram Bot API and the SMS gateway are local HTTP servers speaking their documented
shapes (tests/support/whatsapp_cloud.py, telegram_bot_api.py, sms_gateway.py). Celery runs eagerly here; the last
test sends through a real worker process.

Aigerim is a volunteer reading Kazakh who gets her messages in WhatsApp first, then Telegram, then SMS; she patrols
at night, so she keeps no quiet hours.
"""

from __future__ import annotations

import datetime

import pytest
import requests
from django.db import connection
from django.db.models import F
from django.utils import timezone

from patrols.choices import DeliveryChannel, DeliveryStatus, NotificationKind
from patrols.models import Delivery, InboundMessage, MessengerAccount, NotificationPreference, SosAlarm
from patrols.selectors.channels import channel_health
from patrols.services import callouts, reminders, scheduling
from patrols.services.inbound import inbound_sweep
from patrols.services.messages import render
from tests.factories import MembershipFactory, ShiftFactory, UserFactory, VolunteerFactory
from tests.support import sms_gateway, telegram_bot_api, whatsapp_cloud
from tests.support.broker import celery_app_on
from tests.support.celery_worker import CeleryWorker, app_env, database_url
from tests.support.duty import shift_under_way
from tests.support.redis_server import RedisServer
from tests.support.sms_gateway import SmsGateway
from tests.support.telegram_bot_api import TelegramBotApi
from tests.support.whatsapp_cloud import SIGNATURE_HEADER, WhatsAppCloud, dumps, sign, status_body

pytestmark = pytest.mark.django_db

AIGERIM_PHONE = "+77015550101"
AIGERIM_CHAT = "500100200"
INSPECTOR_PHONE = "+77015550909"
INSPECTOR_CHAT = "500100909"
NO_QUIET_HOURS = {"quiet_start": datetime.time(0), "quiet_end": datetime.time(0)}


@pytest.fixture(autouse=True)
def prompt_requeue(settings):
    """A pending delivery whose task may be lost is queued again by the sweep after 30 s here (600 in production),
    so a retry comes with the sweep after its backoff."""
    settings.DELIVERY_REQUEUE_SECONDS = 30


@pytest.fixture
def cloud(settings):
    """The WhatsApp Cloud API, knowing exactly the templates of our settings (with their numbers of parameters)."""
    templates = {template["name"]: len(template["params"]) for template in settings.WHATSAPP_TEMPLATES.values()}
    server = WhatsAppCloud(templates=templates).start()
    settings.WHATSAPP_API_URL = server.url
    settings.WHATSAPP_TOKEN = whatsapp_cloud.TOKEN
    settings.WHATSAPP_PHONE_NUMBER_ID = whatsapp_cloud.PHONE_NUMBER_ID
    settings.WHATSAPP_APP_SECRET = whatsapp_cloud.APP_SECRET
    yield server
    server.stop()


@pytest.fixture
def bot(settings):
    server = TelegramBotApi().start()
    settings.TELEGRAM_API_URL = server.url
    settings.TELEGRAM_BOT_TOKEN = telegram_bot_api.TOKEN
    settings.TELEGRAM_WEBHOOK_SECRET = telegram_bot_api.WEBHOOK_SECRET
    yield server
    server.stop()


@pytest.fixture
def gateway(settings):
    server = SmsGateway().start()
    settings.SMS_BACKEND, settings.SMS_GATEWAY_URL, settings.SMS_GATEWAY_TOKEN = "http", server.url, sms_gateway.TOKEN
    yield server
    server.stop()


@pytest.fixture
def committed(django_capture_on_commit_callbacks, eager_celery):
    """`with committed():` runs what waits for the commit (queued deliveries, sent at once by eager Celery)."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


def reachable(user, *, phone: str, chat: str, order: list[str]) -> None:
    """`user` opted in to WhatsApp with `phone`, linked Telegram chat `chat`, and ordered the channels so."""
    MessengerAccount.objects.create(user=user, channel=DeliveryChannel.WHATSAPP, address=phone)
    MessengerAccount.objects.create(user=user, channel=DeliveryChannel.TELEGRAM, address=chat)
    NotificationPreference.objects.update_or_create(user=user, defaults={"channel_order": order, **NO_QUIET_HOURS})


def prefers(user, *order: str) -> None:
    NotificationPreference.objects.filter(user=user).update(channel_order=list(order))


@pytest.fixture
def aigerim(group):
    """A volunteer of `group` reading Kazakh: WhatsApp, then Telegram, then SMS; no email address, no quiet hours."""
    user = UserFactory(username="aigerim", language="kk")
    person = VolunteerFactory(district=group.district, user=user, phone=AIGERIM_PHONE)
    MembershipFactory(volunteer=person, group=group)
    reachable(user, phone=AIGERIM_PHONE, chat=AIGERIM_CHAT, order=["whatsapp", "telegram", "sms"])
    return user


@pytest.fixture
def tonight(zone, group, inspector):
    """A shift starting in three hours: its 24-hour reminder is due now, the 2-hour one not yet."""
    starts = timezone.now() + datetime.timedelta(hours=3)
    return ShiftFactory(
        zone=zone, inspector=inspector, groups=[group], starts_at=starts, ends_at=starts + datetime.timedelta(hours=5)
    )


def sign_up(shift, user):
    return scheduling.shift_signup(shift=shift, volunteer=user.volunteer, by=user)


def reminder_deliveries(user, channel: str | None = None):
    deliveries = Delivery.objects.filter(user=user, notification__kind=NotificationKind.SHIFT_REMINDER)
    return deliveries.filter(channel=channel) if channel else deliveries


def answers(assignment) -> list[str]:
    return [f"coming:{assignment.pk}", f"decline:{assignment.pk}"]


def post_to_hook(client, body: dict, *, app_secret: str = whatsapp_cloud.APP_SECRET):
    """What Meta does: the JSON body signed with the app secret."""
    raw = dumps(body)
    return client.post(
        "/hooks/whatsapp/", raw, content_type="application/json", headers={SIGNATURE_HEADER: sign(raw, app_secret)}
    )


def backoff_passes(delivery: Delivery) -> None:
    """Half a minute passes for the delivery (its 30-second backoff and the requeue wait), without waiting for it."""
    delta = datetime.timedelta(seconds=31)
    Delivery.objects.filter(pk=delivery.pk).update(not_before=F("not_before") - delta, queued_at=F("queued_at") - delta)


# The servers themselves


def test_the_local_servers_answer_as_the_documented_apis(cloud, bot):
    session = requests.Session()
    messages_url = f"{cloud.url}/{whatsapp_cloud.PHONE_NUMBER_ID}/messages"
    text = {"messaging_product": "whatsapp", "to": "77015550101", "type": "text", "text": {"body": "Сәлем"}}
    wrong = session.post(messages_url, json=text, headers={"Authorization": "Bearer guessed"})
    assert wrong.status_code == 401
    assert {"message", "type", "code", "fbtrace_id"} <= set(wrong.json()["error"])
    assert (wrong.json()["error"]["type"], wrong.json()["error"]["code"]) == ("OAuthException", 190)
    bearer = {"Authorization": f"Bearer {whatsapp_cloud.TOKEN}"}
    accepted = session.post(messages_url, json=text, headers=bearer)
    (kept,) = cloud.messages("+77015550101")
    assert accepted.json() == {
        "messaging_product": "whatsapp",
        "contacts": [{"input": "77015550101", "wa_id": "77015550101"}],
        "messages": [{"id": kept.id}],
    }
    assert (kept.type, kept.text) == ("text", "Сәлем")
    unknown = {**text, "type": "template", "template": {"name": "nope", "language": {"code": "kk"}}}
    assert session.post(messages_url, json=unknown, headers=bearer).json()["error"]["code"] == 132001
    cloud.fail_next(400)
    refused = session.post(messages_url, json=text, headers=bearer).json()["error"]
    assert (refused["code"], refused["error_subcode"]) == (131026, 2494010) and refused["fbtrace_id"]

    method = f"{bot.url}/bot{telegram_bot_api.TOKEN}"
    assert session.post(f"{bot.url}/bot1:guessed/sendMessage", json={"chat_id": 1, "text": "x"}).json() == {
        "ok": False,
        "error_code": 401,
        "description": "Unauthorized",
    }
    sent = session.post(f"{method}/sendMessage", json={"chat_id": 500100200, "text": "Сәлем"}).json()
    assert sent["ok"] and sent["result"]["chat"] == {"id": 500100200, "first_name": "Айгерім", "type": "private"}
    assert sent["result"]["message_id"] == bot.messages("500100200")[0].message_id
    assert session.post(f"{method}/answerCallbackQuery", json={"callback_query_id": "77"}).json() == {
        "ok": True,
        "result": True,
    }
    assert bot.callback_answers() == ["77"]
    bot.fail_next(429)
    limited = session.post(f"{method}/sendMessage", json={"chat_id": 500100200, "text": "Сәлем"})
    assert limited.status_code == 429 and limited.json()["parameters"] == {"retry_after": 3}
    too_long = {
        "chat_id": 500100200,
        "text": "x",
        "reply_markup": {"inline_keyboard": [[{"text": "a", "callback_data": "d" * 65}]]},
    }
    assert (
        session.post(f"{method}/sendMessage", json=too_long).json()["description"] == "Bad Request: BUTTON_DATA_INVALID"
    )


# Delivered once


def test_a_whatsapp_reminder_arrives_once_in_kazakh_with_both_answers_as_buttons(
    committed, cloud, bot, gateway, tonight, aigerim
):
    assignment = sign_up(tonight, aigerim)

    with committed():
        assert reminders.sweep()["reminders"] == 1
    with committed():
        assert reminders.sweep()["reminders"] == 0

    delivery = reminder_deliveries(aigerim).get()
    (message,) = cloud.messages(AIGERIM_PHONE)
    assert (delivery.channel, delivery.status, delivery.attempts) == ("whatsapp", DeliveryStatus.SENT, 1)
    assert delivery.provider_id == message.id and message.id.startswith("wamid.")
    assert (message.to, message.template, message.language) == ("77015550101", "patrol_shift_reminder", "kk")
    assert message.parameters[0] == tonight.zone.name and len(message.parameters) == 2
    assert message.buttons == answers(assignment)
    assert message.callback_data == delivery.key
    # Sending it again (a second worker given the same id) does nothing.
    assert reminders.delivery_send(delivery_id=delivery.pk) == DeliveryStatus.SENT
    assert len(cloud.attempts()) == 1
    assert not bot.messages() and not gateway.messages()


def test_a_telegram_reminder_arrives_once_with_inline_buttons(committed, cloud, bot, gateway, tonight, aigerim):
    prefers(aigerim, "telegram", "whatsapp", "sms")
    assignment = sign_up(tonight, aigerim)

    with committed():
        reminders.sweep()
    with committed():
        reminders.sweep()

    delivery = reminder_deliveries(aigerim).get()
    (message,) = bot.messages(AIGERIM_CHAT)
    assert (delivery.channel, delivery.status) == ("telegram", DeliveryStatus.SENT)
    assert delivery.provider_id == str(message.message_id)
    assert message.text.startswith("Патруль: ") and tonight.zone.name in message.text
    assert message.buttons == [("Келемін", answers(assignment)[0]), ("Келе алмаймын", answers(assignment)[1])]
    assert len(bot.attempts()) == 1
    assert not cloud.messages() and not gateway.messages()


# A 500 is tried again with the same key, and arrives once


def test_whatsapp_answering_500_is_tried_again_with_the_same_key_and_arrives_once(
    committed, cloud, bot, tonight, aigerim
):
    sign_up(tonight, aigerim)
    cloud.fail_next(500)

    with committed():
        reminders.sweep()

    delivery = reminder_deliveries(aigerim).get()
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.PENDING, 1)
    assert "HTTP 500" in delivery.last_error and delivery.not_before > timezone.now()
    assert not cloud.messages()
    # Not yet: the backoff holds it.
    assert reminders.delivery_send(delivery_id=delivery.pk) == "later"

    backoff_passes(delivery)
    with committed():
        assert reminders.sweep()["requeued"] == 1

    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.last_error) == (DeliveryStatus.SENT, 2, "")
    assert reminder_deliveries(aigerim).count() == 1
    first, second = cloud.attempts()
    assert (first.status, second.status) == (500, 200)
    assert first.data == second.data
    assert second.data["biz_opaque_callback_data"] == delivery.key
    (message,) = cloud.messages(AIGERIM_PHONE)
    assert message.id == delivery.provider_id
    assert not bot.messages()


@pytest.mark.parametrize("status", [500, 429])
def test_telegram_answering_500_or_429_is_tried_again_and_arrives_once(committed, bot, cloud, tonight, aigerim, status):
    prefers(aigerim, "telegram", "whatsapp", "sms")
    assignment = sign_up(tonight, aigerim)
    bot.fail_next(status)

    with committed():
        reminders.sweep()
    delivery = reminder_deliveries(aigerim).get()
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.PENDING, 1)
    assert f"HTTP {status}" in delivery.last_error

    backoff_passes(delivery)
    with committed():
        reminders.sweep()

    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.SENT, 2)
    first, second = bot.attempts()
    assert (first.status, second.status) == (status, 200) and first.data == second.data
    (message,) = bot.messages(AIGERIM_CHAT)
    assert message.callback_data == answers(assignment)
    assert reminder_deliveries(aigerim).count() == 1 and not cloud.messages()


# A 400 is failed, shown, and the next channel gets the message


def test_whatsapp_refusing_the_message_fails_it_for_the_inspector_and_telegram_carries_it(
    committed, cloud, bot, gateway, tonight, aigerim, inspector, other_inspector
):
    assignment = sign_up(tonight, aigerim)
    cloud.fail_next(400, to=AIGERIM_PHONE)

    with committed():
        reminders.sweep()

    whatsapp = reminder_deliveries(aigerim, "whatsapp").get()
    assert (whatsapp.status, whatsapp.attempts) == (DeliveryStatus.FAILED, 1)
    assert "131026" in whatsapp.last_error and whatsapp.fell_back_at is not None
    assert list(reminders.failed_deliveries_for(inspector)) == [whatsapp]
    assert not reminders.failed_deliveries_for(other_inspector).exists()
    telegram = reminder_deliveries(aigerim, "telegram").get()
    assert telegram.status == DeliveryStatus.SENT
    (message,) = bot.messages(AIGERIM_CHAT)
    assert message.callback_data == answers(assignment)
    assert not cloud.messages() and not gateway.messages()
    # The volunteer's page tells the inspector which channel works.
    health = {row["channel"]: row for row in channel_health(aigerim)}
    assert health["whatsapp"]["last_failed"] is not None and health["whatsapp"]["last_delivered"] is None
    assert health["telegram"]["last_delivered"] is not None

    # Nothing is tried twice: another sweep leaves both as they are.
    with committed():
        assert reminders.sweep()["fell_back"] == 0
    assert reminder_deliveries(aigerim).count() == 2 and len(bot.messages()) == 1


def test_telegram_not_finding_the_chat_fails_it_and_the_sms_after_it_carries_the_reply_hint(
    committed, cloud, bot, gateway, tonight, aigerim, inspector
):
    prefers(aigerim, "telegram", "sms", "whatsapp")
    sign_up(tonight, aigerim)
    bot.fail_next(400, to=AIGERIM_CHAT)

    with committed():
        reminders.sweep()

    telegram = reminder_deliveries(aigerim, "telegram").get()
    assert telegram.status == DeliveryStatus.FAILED and "chat not found" in telegram.last_error
    assert list(reminders.failed_deliveries_for(inspector)) == [telegram]
    delivery = reminder_deliveries(aigerim, "sms").get()
    (sms,) = gateway.messages(AIGERIM_PHONE)
    assert tonight.zone.name in sms.text and sms.text.endswith(render(delivery.notification, "kk").reply_hint)
    assert sms.key == delivery.key
    assert not cloud.messages()


def test_when_every_channel_refuses_each_failure_is_shown_and_nothing_more_is_tried(
    committed, cloud, bot, gateway, tonight, aigerim, inspector
):
    sign_up(tonight, aigerim)
    cloud.fail_next(400)
    bot.fail_next(403)
    gateway.fail_next(400)

    with committed():
        reminders.sweep()

    failed = reminder_deliveries(aigerim).order_by("pk")
    assert [(d.channel, d.status) for d in failed] == [
        ("whatsapp", DeliveryStatus.FAILED),
        ("telegram", DeliveryStatus.FAILED),
        ("sms", DeliveryStatus.FAILED),
    ]
    assert set(reminders.failed_deliveries_for(inspector)) == set(failed)
    assert not (cloud.messages() or bot.messages() or gateway.messages())
    assert "Forbidden: bot was blocked by the user" in failed[1].last_error


def test_an_expired_whatsapp_token_fails_the_message_and_telegram_carries_it(
    committed, cloud, bot, tonight, aigerim, settings
):
    settings.WHATSAPP_TOKEN = "EAAG-expired-token"
    assignment = sign_up(tonight, aigerim)

    with committed():
        reminders.sweep()

    whatsapp = reminder_deliveries(aigerim, "whatsapp").get()
    assert whatsapp.status == DeliveryStatus.FAILED and "HTTP 401" in whatsapp.last_error
    assert '"code": 190' in whatsapp.last_error
    (message,) = bot.messages(AIGERIM_CHAT)
    assert message.callback_data == answers(assignment)
    assert not cloud.messages()


# Urgent: the first two channels at once


def test_a_call_out_goes_to_whatsapp_and_telegram_at_once(
    committed, cloud, bot, gateway, aigerim, inspector, zone, group
):
    with committed():
        callout = callouts.callout_create(
            by=inspector,
            place="№3 мектеп алды",
            starts_at=timezone.now() + datetime.timedelta(hours=1),
            hours=2,
            needed=3,
            groups=[group],
            zone=zone,
        )

    deliveries = Delivery.objects.filter(user=aigerim, notification__kind=NotificationKind.CALLOUT)
    assert sorted(d.channel for d in deliveries) == ["telegram", "whatsapp"]
    assert all(d.urgent and d.status == DeliveryStatus.SENT for d in deliveries)
    (whatsapp,) = cloud.messages(AIGERIM_PHONE)
    (telegram,) = bot.messages(AIGERIM_CHAT)
    assert (whatsapp.template, whatsapp.buttons) == ("patrol_callout", [f"callout:{callout.pk}"])
    assert telegram.callback_data == [f"callout:{callout.pk}"]
    assert not gateway.messages()


def test_an_sos_reaches_the_inspector_on_whatsapp_and_telegram_at_once(
    api, committed, cloud, bot, gateway, zone, group, inspector, aigerim
):
    inspector.phone = INSPECTOR_PHONE
    inspector.save()
    reachable(inspector, phone=INSPECTOR_PHONE, chat=INSPECTOR_CHAT, order=[])
    shift = shift_under_way(zone, inspector, [group], aigerim)
    centre = zone.geometry.centroid

    with committed():
        pressed = api(aigerim).post("/api/v1/sos/", {"lat": centre.y, "lng": centre.x, "accuracy": 8}, format="json")

    assert pressed.status_code == 201, pressed.content
    alarm = SosAlarm.objects.get(pk=pressed.data["id"])
    assert alarm.shift == shift
    (whatsapp,) = cloud.messages(INSPECTOR_PHONE)
    (telegram,) = bot.messages(INSPECTOR_CHAT)
    assert (whatsapp.template, whatsapp.buttons) == ("patrol_sos_alarm", [f"ack:{alarm.pk}"])
    assert telegram.callback_data == [f"ack:{alarm.pk}"] and "SOS" in telegram.text
    channels = Delivery.objects.filter(user=inspector, notification__kind=NotificationKind.SOS_ALARM)
    assert sorted(channels.values_list("channel", flat=True)) == ["telegram", "whatsapp"]
    # The SMS stays behind the two: it is the third channel of the inspector's order.
    assert not gateway.messages(INSPECTOR_PHONE)


# WhatsApp: delivered, or not in time


def test_a_whatsapp_message_not_reported_delivered_in_time_goes_to_telegram_on_the_sweep(
    committed, cloud, bot, tonight, aigerim, settings
):
    assignment = sign_up(tonight, aigerim)
    with committed():
        reminders.sweep()
    whatsapp = reminder_deliveries(aigerim, "whatsapp").get()
    window = datetime.timedelta(minutes=settings.WHATSAPP_DELIVERED_WITHIN_MINUTES)

    with committed():
        assert reminders.sweep(now=whatsapp.sent_at + window - datetime.timedelta(seconds=5))["fell_back"] == 0
    assert not bot.messages()

    with committed():
        assert reminders.sweep(now=whatsapp.sent_at + window + datetime.timedelta(seconds=5))["fell_back"] == 1
    with committed():
        assert reminders.sweep(now=whatsapp.sent_at + window + datetime.timedelta(minutes=1))["fell_back"] == 0

    whatsapp.refresh_from_db()
    assert whatsapp.status == DeliveryStatus.SENT and whatsapp.fell_back_at is not None
    (message,) = bot.messages(AIGERIM_CHAT)
    assert message.callback_data == answers(assignment)
    assert reminder_deliveries(aigerim, "telegram").get().status == DeliveryStatus.SENT
    assert len(cloud.messages()) == 1


def test_a_whatsapp_message_reported_delivered_through_the_webhook_stays_on_whatsapp(
    client, committed, cloud, bot, tonight, aigerim, settings
):
    sign_up(tonight, aigerim)
    with committed():
        reminders.sweep()
    whatsapp = reminder_deliveries(aigerim, "whatsapp").get()
    (message,) = cloud.messages(AIGERIM_PHONE)

    for status in ("sent", "delivered"):
        body = status_body(wamid=message.id, status=status, recipient=message.to, callback_data=message.callback_data)
        assert post_to_hook(client, body).status_code == 200
    # The webhook only kept them; the worker (here: the sweep that picks up what no worker took) acts on them.
    assert InboundMessage.objects.filter(channel="whatsapp", handled_at__isnull=True).count() == 2
    assert inbound_sweep()["handled"] == 2

    whatsapp.refresh_from_db()
    assert whatsapp.delivered_at is not None
    later = whatsapp.sent_at + datetime.timedelta(minutes=settings.WHATSAPP_DELIVERED_WITHIN_MINUTES + 1)
    with committed():
        assert reminders.sweep(now=later)["fell_back"] == 0
    assert not bot.messages()
    assert reminder_deliveries(aigerim).count() == 1


def test_a_whatsapp_message_reported_failed_goes_to_telegram_at_once(
    client, committed, cloud, bot, tonight, aigerim, inspector
):
    assignment = sign_up(tonight, aigerim)
    with committed():
        reminders.sweep()
    (message,) = cloud.messages(AIGERIM_PHONE)
    failed = status_body(wamid=message.id, status="failed", recipient=message.to, error_code=131049)

    with committed():
        answer = post_to_hook(client, failed)

    assert answer.status_code == 200
    whatsapp = reminder_deliveries(aigerim, "whatsapp").get()
    assert whatsapp.status == DeliveryStatus.FAILED and "131049" in whatsapp.last_error
    assert list(reminders.failed_deliveries_for(inspector)) == [whatsapp]
    (telegram,) = bot.messages(AIGERIM_CHAT)
    assert telegram.callback_data == answers(assignment)


def test_a_forged_status_changes_nothing(client, committed, cloud, bot, tonight, aigerim):
    sign_up(tonight, aigerim)
    with committed():
        reminders.sweep()
    (message,) = cloud.messages(AIGERIM_PHONE)
    failed = status_body(wamid=message.id, status="failed", recipient=message.to)

    with committed():
        answer = post_to_hook(client, failed, app_secret="guessed-secret")

    assert answer.status_code == 403
    assert not InboundMessage.objects.exists()
    assert reminder_deliveries(aigerim, "whatsapp").get().status == DeliveryStatus.SENT
    assert not bot.messages()


# The SMS gateway: the same key on a retry, a refusal failed


@pytest.fixture
def dana(group):
    """A volunteer with only a phone: SMS is her one instant channel."""
    user = UserFactory(username="dana", language="ru")
    person = VolunteerFactory(district=group.district, user=user, phone="+77015550202")
    MembershipFactory(volunteer=person, group=group)
    NotificationPreference.objects.create(user=user, **NO_QUIET_HOURS)
    return user


def test_an_sms_answered_500_is_sent_again_with_the_same_idempotency_key(committed, gateway, tonight, dana):
    sign_up(tonight, dana)
    gateway.fail_next(500)

    with committed():
        reminders.sweep()
    sms = reminder_deliveries(dana, "sms").get()
    assert (sms.status, sms.attempts) == (DeliveryStatus.PENDING, 1) and "HTTP 500" in sms.last_error
    backoff_passes(sms)
    with committed():
        reminders.sweep()

    sms.refresh_from_db()
    assert (sms.status, sms.attempts) == (DeliveryStatus.SENT, 2)
    first, second = gateway.attempts()
    assert (first.status, second.status) == (500, 202)
    assert first.headers["Idempotency-Key"] == second.headers["Idempotency-Key"] == sms.key
    (received,) = gateway.messages("+77015550202")
    assert received.key == sms.key and sms.provider_id == received.id


def test_an_sms_the_gateway_refuses_is_failed_and_shown(committed, gateway, tonight, dana, inspector):
    sign_up(tonight, dana)
    gateway.fail_next(400)

    with committed():
        reminders.sweep()

    sms = reminder_deliveries(dana, "sms").get()
    assert (sms.status, sms.attempts) == (DeliveryStatus.FAILED, 1) and "HTTP 400" in sms.last_error
    assert list(reminders.failed_deliveries_for(inspector)) == [sms]
    assert not gateway.messages()
    assert len(gateway.attempts(status=400)) == 1


# A real worker


@pytest.fixture
def redis_server(tmp_path):
    server = RedisServer(log_path=tmp_path / "redis.log")
    try:
        server.start()
        yield server
    finally:
        server.stop()


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_worker_process_delivers_whatsapp_and_telegram_reminders_to_the_servers(
    redis_server, cloud, bot, tonight, aigerim, group, tmp_path
):
    timur = UserFactory(username="timur", language="ru")
    MembershipFactory(
        volunteer=VolunteerFactory(district=group.district, user=timur, phone="+77015550303"), group=group
    )
    reachable(timur, phone="+77015550303", chat="500100303", order=["telegram", "whatsapp"])
    mine, his = sign_up(tonight, aigerim), sign_up(tonight, timur)
    env = app_env(
        database_url=database_url(connection.settings_dict),
        redis_url=redis_server.url,
        email_url="smtp://127.0.0.1:9",
        WHATSAPP_API_URL=cloud.url,
        WHATSAPP_TOKEN=whatsapp_cloud.TOKEN,
        WHATSAPP_PHONE_NUMBER_ID=whatsapp_cloud.PHONE_NUMBER_ID,
        TELEGRAM_API_URL=bot.url,
        TELEGRAM_BOT_TOKEN=telegram_bot_api.TOKEN,
    )
    worker = CeleryWorker(env=env, log_path=tmp_path / "worker.log", concurrency=2)
    try:
        worker.start()
        with celery_app_on(redis_server.url):
            assert reminders.sweep()["reminders"] == 2
            (whatsapp,) = cloud.wait_for(AIGERIM_PHONE, timeout=20)
            (telegram,) = bot.wait_for("500100303", timeout=20)
            # Queued together, the two go to the worker in one batch.
            worker.wait_for_log(r"deliver_many\[.*succeeded in .*'sent': 2", timeout=10, what="the batch to finish")
            reminders.sweep()
    finally:
        worker.kill()

    assert whatsapp.buttons == answers(mine) and whatsapp.language == "kk"
    assert telegram.callback_data == answers(his) and telegram.buttons[0][0] == "Я приду"
    sent = {d.channel: d for d in Delivery.objects.filter(status=DeliveryStatus.SENT)}
    assert sent.keys() == {"whatsapp", "telegram"} and Delivery.objects.count() == 2
    assert sent["whatsapp"].provider_id == whatsapp.id and sent["telegram"].provider_id == str(telegram.message_id)
    assert len(cloud.attempts()) == len(bot.attempts()) == 1
