"""Telegram through the Bot API: messages with inline buttons out, updates in through the webhook, and the link
between a person and their chat made with a one-time code (`/start CODE` from a t.me deep link); `/stop` unlinks."""

from __future__ import annotations

import datetime
import hashlib
import hmac
import secrets

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from ..choices import DeliveryChannel
from ..models import MessengerAccount, TelegramLinkCode, User
from .messages import Message
from .outbound_http import post_json

LANGUAGES = {"kk", "ru", "en"}


def _method(name: str) -> str:
    return f"{settings.TELEGRAM_API_URL.rstrip('/')}/bot{settings.TELEGRAM_BOT_TOKEN}/{name}"


def _call(name: str, payload: dict) -> dict:
    answer = post_json(_method(name), payload=payload)
    return answer.get("result") if isinstance(answer.get("result"), dict) else {}


def message_text(message: Message) -> str:
    return f"{message.subject}\n\n{message.body}\n{message.link}"[:4096]


def send_message(*, chat_id: str, message: Message) -> str:
    """`sendMessage` with the message's answers as inline buttons (callback data = the answer's payload)."""
    payload: dict = {"chat_id": chat_id, "text": message_text(message), "disable_web_page_preview": True}
    if message.replies:
        payload["reply_markup"] = {
            "inline_keyboard": [[{"text": label, "callback_data": data[:64]} for label, data in message.replies]]
        }
    return str(_call("sendMessage", payload).get("message_id") or "")


def send_text(*, chat_id: str, text: str) -> str:
    return str(_call("sendMessage", {"chat_id": chat_id, "text": text[:4096]}).get("message_id") or "")


def answer_callback(callback_query_id: str) -> None:
    """Stops the button's spinner; the answer itself comes as a message in the chat."""
    _call("answerCallbackQuery", {"callback_query_id": callback_query_id})


def secret_valid(header: str) -> bool:
    secret = settings.TELEGRAM_WEBHOOK_SECRET
    return bool(secret) and hmac.compare_digest(header or "", secret)


def update_of(update: dict) -> dict:
    """What an update says, as {chat, language, text, payload, callback}: "" where it says nothing."""
    if not isinstance(update, dict):
        return {}
    query = update.get("callback_query")
    if isinstance(query, dict):
        chat = ((query.get("message") or {}).get("chat") or {}).get("id") or (query.get("from") or {}).get("id")
        return {
            "chat": str(chat or ""),
            "language": str((query.get("from") or {}).get("language_code") or ""),
            "text": "",
            "payload": str(query.get("data") or ""),
            "callback": str(query.get("id") or ""),
        }
    message = update.get("message") or update.get("edited_message")
    if isinstance(message, dict):
        return {
            "chat": str((message.get("chat") or {}).get("id") or ""),
            "language": str((message.get("from") or {}).get("language_code") or ""),
            "text": str(message.get("text") or ""),
            "payload": "",
            "callback": "",
        }
    return {}


def language_of(code: str) -> str:
    """The app's language for what Telegram reports (kk, ru, else English)."""
    short = (code or "").split("-")[0].lower()
    return short if short in LANGUAGES else "en"


# Linking a chat to a person


def _hash(code: str) -> str:
    return hashlib.sha256(code.encode()).hexdigest()


def link_code_create(*, user: User) -> tuple[str, str]:
    """A new one-time code for the person (earlier unused ones stop working); (code, t.me deep link)."""
    code = secrets.token_urlsafe(18)
    now = timezone.now()
    with transaction.atomic():
        TelegramLinkCode.objects.filter(user=user, used_at__isnull=True).update(expires_at=now)
        TelegramLinkCode.objects.create(
            user=user,
            code_hash=_hash(code),
            expires_at=now + datetime.timedelta(minutes=settings.TELEGRAM_LINK_MINUTES),
        )
    bot = settings.TELEGRAM_BOT_USERNAME or "bot"
    return code, f"https://t.me/{bot}?start={code}"


def link_with_code(*, code: str, chat: str, language: str) -> tuple[User | None, str]:
    """`/start CODE`: the chat becomes the person's (once; the code then stops working). (person or None, answer)."""
    lang = language_of(language)
    with translation.override(lang):
        now = timezone.now()
        with transaction.atomic():
            link = (
                TelegramLinkCode.objects.select_for_update()
                .select_related("user")
                .filter(code_hash=_hash(code.strip()))
                .first()
            )
            if link is None or link.used_at is not None:
                return None, _(
                    "This link code is not valid or was already used. Open your profile on the website and press "
                    '"Link Telegram" again to get a new one.'
                )
            if link.expires_at <= now:
                return None, _(
                    'This link code has expired. Open your profile on the website and press "Link Telegram" again: '
                    "a new code works for %(minutes)d minutes."
                ) % {"minutes": settings.TELEGRAM_LINK_MINUTES}
            link.used_at = now
            link.save(update_fields=["used_at"])
            MessengerAccount.objects.filter(channel=DeliveryChannel.TELEGRAM, address=chat).exclude(
                user=link.user
            ).delete()
            try:
                with transaction.atomic():
                    MessengerAccount.objects.update_or_create(
                        user=link.user,
                        channel=DeliveryChannel.TELEGRAM,
                        defaults={"address": chat, "language": language[:10]},
                    )
            except IntegrityError:
                return None, _("This chat is already linked. Send /stop first to unlink it.")
    with translation.override(link.user.language or lang):
        return link.user, _("Done: messages about your shifts now come here. Send /stop to stop them at any time.")


def unlink(*, chat: str, language: str) -> tuple[User | None, str]:
    """`/stop`: the chat gets no more messages."""
    account = (
        MessengerAccount.objects.select_related("user").filter(channel=DeliveryChannel.TELEGRAM, address=chat).first()
    )
    with translation.override(language_of(language)):
        if account is None:
            return None, _("This chat is not linked to anyone: nothing is sent here.")
        account.delete()
        return account.user, _("This chat is unlinked: no more messages come here. Link it again from your profile.")
