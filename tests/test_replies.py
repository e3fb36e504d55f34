"""Answers that come back (issue 17): Telegram, WhatsApp and SMS replies act once, through the services the web uses,
and every sender is told what happened in their language. The webhooks prove who is calling (a signature or a
secret) and keep what arrived before anything acts on it, so a replay or a broker that is down changes nothing.

Sending the answers back to the messengers' own servers is in test_messenger_delivery.py; here the answer is read
where it is kept (`InboundMessage.answer`), after the minute sweep has handled what the webhook kept.
"""

from __future__ import annotations

import datetime
import hashlib
import hmac
import json
import time

import pytest
from django.test import TestCase
from django.urls import reverse
from django.utils import timezone

from patrols.choices import AssignmentStatus, DeliveryChannel, DeliveryStatus, InboundOutcome, SosStatus
from patrols.models import (
    Assignment,
    Delivery,
    InboundMessage,
    MessengerAccount,
    Notification,
    NotificationPreference,
    TelegramLinkCode,
)
from patrols.services import inbound, reminders, sos, telegram
from tests.factories import MembershipFactory, ShiftFactory, UserFactory, VolunteerFactory
from tests.support.broker import celery_app_on
from tests.support.duty import shift_under_way, sign_up

pytestmark = pytest.mark.django_db

SECRET = "telegram-webhook-secret-17"
APP_SECRET = "whatsapp-app-secret-17"
SMS_SECRET = "gateway-inbound-secret-17"


@pytest.fixture(autouse=True)
def messengers_on(settings):
    """Every channel configured; their servers are nowhere (port 9), so answers wait: this file reads them kept."""
    settings.TELEGRAM_BOT_TOKEN = "123:telegram-token"
    settings.TELEGRAM_API_URL = "http://127.0.0.1:9"
    settings.TELEGRAM_WEBHOOK_SECRET = SECRET
    settings.TELEGRAM_BOT_USERNAME = "patrol_test_bot"
    settings.WHATSAPP_TOKEN = "whatsapp-token"
    settings.WHATSAPP_PHONE_NUMBER_ID = "1000001"
    settings.WHATSAPP_API_URL = "http://127.0.0.1:9"
    settings.WHATSAPP_APP_SECRET = APP_SECRET
    settings.WHATSAPP_VERIFY_TOKEN = "verify-me"
    settings.SMS_INBOUND_SECRET = SMS_SECRET
    settings.MESSENGER_TIMEOUT_SECONDS = 1


@pytest.fixture
def full_shift(zone, group, inspector):
    """Tomorrow evening, one seat: Aigerim (Russian) holds it, Bolat (Kazakh) waits for it."""
    shift = ShiftFactory(zone=zone, inspector=inspector, groups=[group], min_volunteers=1, max_volunteers=1)
    return shift


def person(group, username: str, *, language: str, phone: str):
    user = UserFactory(username=username, language=language)
    volunteer = VolunteerFactory(district=group.district, user=user, phone=phone)
    MembershipFactory(volunteer=volunteer, group=group)
    return user


@pytest.fixture
def aigerim(group):
    return person(group, "aigerim", language="ru", phone="+77015550101")


@pytest.fixture
def bolat(group):
    return person(group, "bolat", language="kk", phone="+77015550202")


def telegram_update(update_id: int, chat: int, *, text: str = "", data: str = "", language: str = "kk") -> dict:
    sender = {"id": chat, "is_bot": False, "first_name": "Болат", "language_code": language}
    if data:
        return {
            "update_id": update_id,
            "callback_query": {
                "id": f"cb{update_id}",
                "from": sender,
                "message": {"message_id": 7, "chat": {"id": chat, "type": "private"}, "date": int(time.time())},
                "chat_instance": "1",
                "data": data,
            },
        }
    return {
        "update_id": update_id,
        "message": {
            "message_id": update_id,
            "from": sender,
            "chat": {"id": chat, "type": "private"},
            "date": int(time.time()),
            "text": text,
        },
    }


def post_telegram(client, update: dict, *, secret: str = SECRET):
    return client.post(
        "/hooks/telegram/",
        data=json.dumps(update),
        content_type="application/json",
        headers={"X-Telegram-Bot-Api-Secret-Token": secret},
    )


def whatsapp_body(*, sender: str, message_id: str, payload: str = "", text: str = "", context: str = "") -> bytes:
    message: dict = {"from": sender.lstrip("+"), "id": message_id, "timestamp": str(int(time.time()))}
    if payload:
        message.update(type="button", button={"payload": payload, "text": "Келмеймін"})
    else:
        message.update(type="text", text={"body": text})
    if context:
        message["context"] = {"from": "77000000001", "id": context}
    value = {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "77000000001", "phone_number_id": "1000001"},
        "contacts": [{"profile": {"name": "Болат"}, "wa_id": sender.lstrip("+")}],
        "messages": [message],
    }
    body = {
        "object": "whatsapp_business_account",
        "entry": [{"id": "1", "changes": [{"field": "messages", "value": value}]}],
    }
    return json.dumps(body).encode()


def post_whatsapp(client, body: bytes, *, secret: str = APP_SECRET):
    signature = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return client.generic(
        "POST", "/hooks/whatsapp/", body, content_type="application/json", headers={"X-Hub-Signature-256": signature}
    )


def post_sms(client, *, message_id: str, sender: str, text: str, secret: str = SMS_SECRET):
    return client.post(
        "/hooks/sms/",
        data=json.dumps({"id": message_id, "from": sender, "text": text}),
        content_type="application/json",
        headers={"X-Gateway-Secret": secret},
    )


def handled(external_id: str) -> InboundMessage:
    """What the sweep did with one received message (the beat runs it every ten seconds), its answer sent after."""
    with TestCase.captureOnCommitCallbacks(execute=True):
        inbound.inbound_sweep()
    return InboundMessage.objects.get(external_id=external_id)


def reminder_sent(shift, user, *, channel: str) -> Delivery:
    """The 24-hour reminder of `user`'s sign-up, sent on one channel (as the worker would have marked it)."""
    assignment = Assignment.objects.get(shift=shift, volunteer=user.volunteer)
    notification = Notification.objects.create(
        user=user,
        kind="shift_reminder",
        shift=shift,
        key=f"reminder:{assignment.pk}:24h:{channel}",
        details={"assignment": assignment.pk, "lead_hours": 24},
    )
    return Delivery.objects.create(
        key=f"n{notification.pk}:{channel}",
        notification=notification,
        user=user,
        channel=channel,
        address=user.volunteer.phone,
        language=user.language,
        status=DeliveryStatus.SENT,
        sent_at=timezone.now(),
        provider_id=f"wamid.{notification.pk}" if channel == DeliveryChannel.WHATSAPP else "",
    )


# Telegram: linking with a one-time code


def test_a_volunteer_links_telegram_with_a_code_that_works_once(web, client, bolat):
    page = web(bolat).post(reverse("telegram-link"))
    assert page.status_code == 200
    link = page.context["telegram"]["link"]
    assert link.startswith("https://t.me/patrol_test_bot?start=")
    code = link.split("start=")[1]
    assert TelegramLinkCode.objects.filter(user=bolat, used_at__isnull=True).count() == 1
    assert code not in TelegramLinkCode.objects.get(user=bolat).code_hash  # only its hash is kept

    assert post_telegram(client, telegram_update(501, 9001, text=f"/start {code}")).status_code == 200
    row = handled("501")
    assert row.outcome == InboundOutcome.LINKED
    assert MessengerAccount.objects.get(user=bolat, channel="telegram").address == "9001"
    assert "/stop" in row.answer and "Дайын" in row.answer  # in Bolat's Kazakh

    # Someone else who got hold of the code cannot take it over: it was used.
    post_telegram(client, telegram_update(502, 9002, text=f"/start {code}", language="ru"))
    refused = handled("502")
    assert refused.outcome == InboundOutcome.REFUSED
    assert "уже использован" in refused.answer  # in the language Telegram reports for that chat
    assert MessengerAccount.objects.get(user=bolat, channel="telegram").address == "9001"


def test_an_expired_code_is_answered_with_what_to_do(web, client, bolat):
    code, _link = telegram.link_code_create(user=bolat)
    TelegramLinkCode.objects.filter(user=bolat).update(expires_at=timezone.now() - datetime.timedelta(seconds=1))
    post_telegram(client, telegram_update(503, 9003, text=f"/start {code}", language="en"))
    row = handled("503")
    assert row.outcome == InboundOutcome.REFUSED
    assert "expired" in row.answer and "Link Telegram" in row.answer
    assert not MessengerAccount.objects.filter(user=bolat).exists()


def test_stop_unlinks_the_chat(client, bolat):
    MessengerAccount.objects.create(user=bolat, channel="telegram", address="9004", language="kk")
    post_telegram(client, telegram_update(504, 9004, text="/stop"))
    assert handled("504").outcome == InboundOutcome.UNLINKED
    assert not MessengerAccount.objects.filter(user=bolat).exists()


def test_a_forged_telegram_secret_is_refused_and_changes_nothing(client, bolat):
    code, _link = telegram.link_code_create(user=bolat)
    assert post_telegram(client, telegram_update(505, 9005, text=f"/start {code}"), secret="guess").status_code == 403
    assert post_telegram(client, telegram_update(506, 9005, text=f"/start {code}"), secret="").status_code == 403
    assert not InboundMessage.objects.exists()
    inbound.inbound_sweep()
    assert not MessengerAccount.objects.exists()


# Replies that act: "I can't come" frees the seat and promotes the next person, once


def test_a_telegram_tap_on_i_cant_come_frees_the_seat_once(client, full_shift, aigerim, bolat):
    held = sign_up(full_shift, aigerim)
    waiting = sign_up(full_shift, bolat)
    assert (held.status, waiting.status) == (AssignmentStatus.SIGNED_UP, AssignmentStatus.WAITLISTED)
    MessengerAccount.objects.create(user=aigerim, channel="telegram", address="7001", language="ru")

    update = telegram_update(601, 7001, data=f"decline:{held.pk}", language="ru")
    assert post_telegram(client, update).status_code == 200
    assert post_telegram(client, update).status_code == 200  # Telegram delivers an update again after a timeout
    assert InboundMessage.objects.filter(channel="telegram").count() == 1
    row = handled("601")

    held.refresh_from_db()
    waiting.refresh_from_db()
    assert row.outcome == InboundOutcome.ACTED and row.user == aigerim
    assert held.status == AssignmentStatus.CANCELLED
    assert waiting.status == AssignmentStatus.SIGNED_UP
    assert "освобождено" in row.answer
    promoted = Notification.objects.filter(user=bolat, kind="promoted")
    assert promoted.count() == 1


def test_an_sms_reply_2_to_the_reminder_frees_the_seat_and_a_replay_does_nothing_more(
    client, full_shift, aigerim, bolat
):
    held = sign_up(full_shift, aigerim)
    waiting = sign_up(full_shift, bolat)
    reminder_sent(full_shift, aigerim, channel="sms")

    assert post_sms(client, message_id="gw-1", sender="8 701 555 01 01", text="2").status_code == 200
    row = handled("gw-1")
    assert row.outcome == InboundOutcome.ACTED
    held.refresh_from_db()
    waiting.refresh_from_db()
    assert (held.status, waiting.status) == (AssignmentStatus.CANCELLED, AssignmentStatus.SIGNED_UP)
    assert row.answered_at is not None  # the console gateway took the answer

    # The gateway posts the same reply again: kept once, acted once.
    assert post_sms(client, message_id="gw-1", sender="+77015550101", text="2").status_code == 200
    inbound.inbound_sweep()
    assert InboundMessage.objects.filter(channel="sms").count() == 1
    assert Assignment.objects.filter(shift=full_shift, status=AssignmentStatus.SIGNED_UP).count() == 1


@pytest.mark.parametrize("word", ["1", "ИӘ", "да", "Yes!"])
def test_a_typed_yes_confirms_the_volunteer_is_coming(client, shift, aigerim, word):
    assignment = sign_up(shift, aigerim)
    reminder_sent(shift, aigerim, channel="sms")
    post_sms(client, message_id=f"gw-{word}", sender="+77015550101", text=word)
    row = handled(f"gw-{word}")
    assignment.refresh_from_db()
    assert row.outcome == InboundOutcome.ACTED
    assert assignment.coming_at is not None and assignment.status == AssignmentStatus.SIGNED_UP


def test_a_whatsapp_button_acts_and_a_typed_reply_uses_the_message_it_answers(client, shift, aigerim):
    assignment = sign_up(shift, aigerim)
    MessengerAccount.objects.create(user=aigerim, channel="whatsapp", address="+77015550101")
    sent = reminder_sent(shift, aigerim, channel="whatsapp")

    body = whatsapp_body(sender="+77015550101", message_id="wamid.IN1", text="да", context=sent.provider_id)
    assert post_whatsapp(client, body).status_code == 200
    assert handled("m:wamid.IN1").outcome == InboundOutcome.ACTED
    assignment.refresh_from_db()
    assert assignment.coming_at is not None

    button = whatsapp_body(sender="+77015550101", message_id="wamid.IN2", payload=f"decline:{assignment.pk}")
    post_whatsapp(client, button)
    post_whatsapp(client, button)
    assert handled("m:wamid.IN2").outcome == InboundOutcome.ACTED
    assignment.refresh_from_db()
    assert assignment.status == AssignmentStatus.CANCELLED
    assert InboundMessage.objects.filter(channel="whatsapp").count() == 2


def test_a_forged_whatsapp_signature_is_refused_and_changes_nothing(client, shift, aigerim):
    assignment = sign_up(shift, aigerim)
    MessengerAccount.objects.create(user=aigerim, channel="whatsapp", address="+77015550101")
    body = whatsapp_body(sender="+77015550101", message_id="wamid.F1", payload=f"decline:{assignment.pk}")
    assert post_whatsapp(client, body, secret="not-the-app-secret").status_code == 403
    unsigned = client.generic("POST", "/hooks/whatsapp/", body, content_type="application/json")
    assert unsigned.status_code == 403
    tampered = body.replace(b"decline", b"coming")
    signature = "sha256=" + hmac.new(APP_SECRET.encode(), body, hashlib.sha256).hexdigest()
    altered = client.generic(
        "POST",
        "/hooks/whatsapp/",
        tampered,
        content_type="application/json",
        headers={"X-Hub-Signature-256": signature},
    )
    assert altered.status_code == 403
    inbound.inbound_sweep()
    assert not InboundMessage.objects.exists()
    assignment.refresh_from_db()
    assert assignment.status == AssignmentStatus.SIGNED_UP


def test_the_whatsapp_subscription_check_echoes_the_challenge_only_with_the_token(client):
    good = client.get(
        "/hooks/whatsapp/", {"hub.mode": "subscribe", "hub.verify_token": "verify-me", "hub.challenge": "42"}
    )
    assert (good.status_code, good.content) == (200, b"42")
    bad = client.get("/hooks/whatsapp/", {"hub.mode": "subscribe", "hub.verify_token": "guess", "hub.challenge": "42"})
    assert bad.status_code == 403


def test_a_whatsapp_status_marks_the_delivery_and_a_failure_tries_the_next_channel(client, shift, aigerim):
    sign_up(shift, aigerim)
    MessengerAccount.objects.create(user=aigerim, channel="whatsapp", address="+77015550101")
    sent = reminder_sent(shift, aigerim, channel="whatsapp")
    value = {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "77000000001", "phone_number_id": "1000001"},
        "statuses": [
            {"id": sent.provider_id, "status": "delivered", "timestamp": str(int(time.time())), "recipient_id": "1"}
        ],
    }
    body = json.dumps({"object": "whatsapp_business_account", "entry": [{"id": "1", "changes": [{"value": value}]}]})
    post_whatsapp(client, body.encode())
    inbound.inbound_sweep()
    sent.refresh_from_db()
    assert sent.delivered_at is not None

    value["statuses"][0].update(status="failed", errors=[{"code": 131026, "title": "Message undeliverable"}])
    body = json.dumps({"object": "whatsapp_business_account", "entry": [{"id": "1", "changes": [{"value": value}]}]})
    post_whatsapp(client, body.encode())
    inbound.inbound_sweep()
    sent.refresh_from_db()
    assert sent.status == DeliveryStatus.FAILED and "131026" in sent.last_error
    # Aigerim's next channel in the default order that reaches her is SMS: the reminder goes there now.
    assert Delivery.objects.filter(notification=sent.notification, channel="sms").count() == 1


# What no longer applies gets a clear answer, not silence


def test_a_reply_after_the_shift_started_is_answered_and_changes_nothing(client, zone, group, inspector, aigerim):
    shift = ShiftFactory(zone=zone, inspector=inspector, groups=[group])
    assignment = sign_up(shift, aigerim)
    MessengerAccount.objects.create(user=aigerim, channel="telegram", address="7002", language="ru")
    shift.starts_at = timezone.now() - datetime.timedelta(minutes=5)
    shift.save(update_fields=["starts_at"])
    post_telegram(client, telegram_update(602, 7002, data=f"decline:{assignment.pk}", language="ru"))
    row = handled("602")
    assert row.outcome == InboundOutcome.REFUSED
    assert "уже началась" in row.answer
    assignment.refresh_from_db()
    assert assignment.status == AssignmentStatus.SIGNED_UP


def test_a_tap_for_someone_elses_shift_does_nothing(client, shift, aigerim, bolat):
    assignment = sign_up(shift, aigerim)
    MessengerAccount.objects.create(user=bolat, channel="telegram", address="7003", language="kk")
    post_telegram(client, telegram_update(603, 7003, data=f"decline:{assignment.pk}"))
    row = handled("603")
    assert row.outcome == InboundOutcome.REFUSED
    assignment.refresh_from_db()
    assert assignment.status == AssignmentStatus.SIGNED_UP


def test_an_unknown_chat_and_an_unknown_number_are_told_what_to_do(client):
    post_telegram(client, telegram_update(604, 7777, text="сәлем", language="kk"))
    assert "Link Telegram" in handled("604").answer or "Telegram" in handled("604").answer
    post_sms(client, message_id="gw-unknown", sender="+77019999999", text="2")
    assert handled("gw-unknown").outcome == InboundOutcome.UNKNOWN


def test_a_reply_that_is_not_understood_gets_the_help(client, shift, aigerim):
    sign_up(shift, aigerim)
    reminder_sent(shift, aigerim, channel="sms")
    post_sms(client, message_id="gw-what", sender="+77015550101", text="кто это?")
    row = handled("gw-what")
    assert row.outcome == InboundOutcome.REFUSED
    assert "Мы не поняли" in row.answer


# "I'm OK" and the inspector's answers


def test_ok_by_sms_answers_the_ok_prompt(client, zone, group, inspector, aigerim):
    shift = shift_under_way(zone, inspector, [group], aigerim)
    shift.ok_interval_minutes = 30
    shift.save(update_fields=["ok_interval_minutes"])
    assignment = Assignment.objects.get(shift=shift, volunteer=aigerim.volunteer)
    sos.ok_sweep()
    prompt = Delivery.objects.get(user=aigerim, notification__kind="ok_prompt")
    assert prompt.channel == "sms"  # on the phone only: no email asks "are you OK?"
    reminders.delivery_send(delivery_id=prompt.pk)

    post_sms(client, message_id="gw-ok", sender="+77015550101", text="ок")
    row = handled("gw-ok")
    assert row.outcome == InboundOutcome.ACTED
    assignment.refresh_from_db()
    assert assignment.ok_at is not None


def test_the_inspector_takes_an_sos_from_telegram_and_a_second_tap_is_told_it_is_taken(
    client, zone, group, inspector, volunteer
):
    shift = shift_under_way(zone, inspector, [group], volunteer)
    centre = zone.geometry.centroid
    alarm, _new = sos.sos_raise(by=volunteer, lat=centre.y, lng=centre.x, accuracy_m=20, shift=shift)
    MessengerAccount.objects.create(user=inspector, channel="telegram", address="8001", language="ru")
    post_telegram(client, telegram_update(701, 8001, data=f"ack:{alarm.pk}", language="ru"))
    assert handled("701").outcome == InboundOutcome.ACTED
    alarm.refresh_from_db()
    assert alarm.status == SosStatus.ACKNOWLEDGED and alarm.acknowledged_by == inspector

    post_telegram(client, telegram_update(702, 8001, data=f"ack:{alarm.pk}", language="ru"))
    again = handled("702")
    assert again.outcome == InboundOutcome.REFUSED and "қабылдап қойған" in again.answer  # in his own Kazakh


def test_a_volunteer_cannot_take_an_alarm(client, zone, group, inspector, volunteer, aigerim):
    shift = shift_under_way(zone, inspector, [group], volunteer)
    centre = zone.geometry.centroid
    alarm, _new = sos.sos_raise(by=volunteer, lat=centre.y, lng=centre.x, accuracy_m=20, shift=shift)
    MessengerAccount.objects.create(user=aigerim, channel="telegram", address="8002", language="ru")
    post_telegram(client, telegram_update(703, 8002, data=f"ack:{alarm.pk}"))
    assert handled("703").outcome == InboundOutcome.REFUSED
    alarm.refresh_from_db()
    assert alarm.status == SosStatus.OPEN


# The broker down: replies are kept and acted on when it returns


def test_with_the_broker_down_replies_are_kept_and_acted_on_when_it_returns(
    client, full_shift, aigerim, bolat, django_capture_on_commit_callbacks
):
    held = sign_up(full_shift, aigerim)
    sign_up(full_shift, bolat)
    MessengerAccount.objects.create(user=aigerim, channel="telegram", address="7004", language="ru")
    with celery_app_on("redis://127.0.0.1:9/0"):
        started = time.monotonic()
        with django_capture_on_commit_callbacks(execute=True):
            answer = post_telegram(client, telegram_update(801, 7004, data=f"decline:{held.pk}"))
        assert answer.status_code == 200
        assert time.monotonic() - started < 3  # Telegram is answered at once, broker or not
    row = InboundMessage.objects.get(external_id="801")
    assert row.handled_at is None  # kept, not lost, not yet acted on
    held.refresh_from_db()
    assert held.status == AssignmentStatus.SIGNED_UP

    assert handled("801").outcome == InboundOutcome.ACTED  # the beat's sweep, once the broker is back
    held.refresh_from_db()
    assert held.status == AssignmentStatus.CANCELLED


# The settings page: WhatsApp opt-in and the order of channels


def test_a_volunteer_opts_in_to_whatsapp_and_orders_the_channels(web, aigerim):
    client = web(aigerim)
    page = client.get(reverse("notification-settings"))
    assert page.status_code == 200
    assert [row["channel"] for row in page.context["channels"]] == ["whatsapp", "telegram", "push", "sms"]

    client.post(reverse("whatsapp-set"), {"action": "on"})
    account = MessengerAccount.objects.get(user=aigerim, channel="whatsapp")
    assert account.address == "+77015550101" and account.opted_in_at is not None

    client.post(reverse("channel-move"), {"channel": "sms", "move": "up"})
    client.post(reverse("channel-move"), {"channel": "sms", "move": "up"})
    order = NotificationPreference.objects.get(user=aigerim).channel_order
    assert order == ["whatsapp", "sms", "telegram", "push"]
    page = client.get(reverse("notification-settings"))
    assert "data-whatsapp-on" in page.content.decode()

    client.post(reverse("whatsapp-set"), {"action": "off"})
    assert not MessengerAccount.objects.filter(user=aigerim).exists()


def test_the_inspector_sees_which_channels_reach_a_volunteer(web, inspector, shift, aigerim):
    sign_up(shift, aigerim)
    MessengerAccount.objects.create(user=aigerim, channel="whatsapp", address="+77015550101")
    sent = reminder_sent(shift, aigerim, channel="whatsapp")
    Delivery.objects.filter(pk=sent.pk).update(delivered_at=timezone.now())
    failed = reminder_sent(shift, aigerim, channel="sms")
    Delivery.objects.filter(pk=failed.pk).update(status=DeliveryStatus.FAILED, key="failed-sms")
    page = web(inspector).get(reverse("volunteer-detail", args=[aigerim.volunteer.pk]))
    rows = {row["channel"]: row for row in page.context["channels"]}
    assert rows["whatsapp"]["reaches"] and rows["whatsapp"]["last_delivered"] is not None
    assert rows["sms"]["last_failed"] is not None
    assert not rows["telegram"]["reaches"]
    assert 'data-channel="whatsapp"' in page.content.decode()


def test_the_phone_app_reads_and_sets_the_order_of_channels(api, aigerim):
    client = api(aigerim)
    answer = client.put("/api/v1/me/channels/", {"order": ["sms", "telegram"]}, format="json")
    assert answer.status_code == 200
    assert [row["channel"] for row in answer.json()] == ["sms", "telegram", "whatsapp", "push"]
    assert answer.json()[0]["reaches"] is True  # her phone is in her profile
    refused = client.put("/api/v1/me/channels/", {"order": ["sms", "sms"]}, format="json")
    assert refused.status_code == 400
    assert NotificationPreference.objects.get(user=aigerim).channel_order == ["sms", "telegram", "whatsapp", "push"]
    assert client.put("/api/v1/me/channels/", {"order": ["pigeon"]}, format="json").status_code == 400


# The answers reach the sender: in the Telegram chat, on WhatsApp, by SMS


def test_the_answers_reach_the_chat_the_whatsapp_number_and_the_phone(client, settings, full_shift, aigerim, bolat):
    from tests.support import sms_gateway, telegram_bot_api, whatsapp_cloud

    bot = telegram_bot_api.TelegramBotApi().start()
    cloud = whatsapp_cloud.WhatsAppCloud().start()
    gateway = sms_gateway.SmsGateway().start()
    try:
        settings.TELEGRAM_API_URL, settings.TELEGRAM_BOT_TOKEN = bot.url, telegram_bot_api.TOKEN
        settings.WHATSAPP_API_URL, settings.WHATSAPP_TOKEN = cloud.url, whatsapp_cloud.TOKEN
        settings.WHATSAPP_PHONE_NUMBER_ID = whatsapp_cloud.PHONE_NUMBER_ID
        settings.SMS_BACKEND, settings.SMS_GATEWAY_URL = "http", gateway.url
        settings.SMS_GATEWAY_TOKEN = sms_gateway.TOKEN
        held = sign_up(full_shift, aigerim)
        sign_up(full_shift, bolat)
        MessengerAccount.objects.create(user=aigerim, channel="telegram", address="7005", language="ru")
        MessengerAccount.objects.create(user=bolat, channel="whatsapp", address=bolat.volunteer.phone)

        post_telegram(client, telegram_update(901, 7005, data=f"coming:{held.pk}", language="ru"))
        handled("901")
        told = bot.messages("7005")
        assert len(told) == 1 and full_shift.zone.name in told[0].text
        assert bot.callback_answers() == ["cb901"]  # the button stops spinning

        post_whatsapp(client, whatsapp_body(sender=bolat.volunteer.phone, message_id="wamid.X", text="?"))
        handled("m:wamid.X")
        answer = cloud.messages(bolat.volunteer.phone)
        assert len(answer) == 1 and answer[0].text  # the help, as free text inside the 24-hour window

        reminder_sent(full_shift, aigerim, channel="sms")
        post_sms(client, message_id="gw-answer", sender=aigerim.volunteer.phone, text="2")
        handled("gw-answer")
        sms = gateway.messages(aigerim.volunteer.phone)
        assert len(sms) == 1 and full_shift.zone.name in sms[0].text
        held.refresh_from_db()
        assert held.status == AssignmentStatus.CANCELLED
        assert InboundMessage.objects.filter(answered_at__isnull=True).count() == 0
    finally:
        bot.stop()
        cloud.stop()
        gateway.stop()
