"""The Telegram Bot API played by a local HTTP server, and the updates Telegram posts to our webhook.

The server speaks the documented shapes of `POST /bot<token>/<method>` (JSON or form body):

- `sendMessage` {chat_id, text, reply_markup: {inline_keyboard: [[{text, callback_data}]]}} answers
  {"ok": true, "result": {"message_id", "from", "chat": {"id", "type": "private"}, "date", "text", "reply_markup"}}
  and is kept as a `TgMessage`;
- `answerCallbackQuery` {callback_query_id} answers {"ok": true, "result": true} (kept in `callback_answers()`);
- a wrong token answers 401 {"ok": false, "error_code": 401, "description": "Unauthorized"}, an unknown method 404,
  an empty chat or text, a too long text or callback data over 64 bytes 400 "Bad Request: …".

    bot = TelegramBotApi().start()   # TELEGRAM_API_URL = bot.url, TELEGRAM_BOT_TOKEN = TOKEN,
                                     # TELEGRAM_WEBHOOK_SECRET = WEBHOOK_SECRET
    bot.fail_next(500)                          # {"ok": false, "error_code": 500, "description": "Internal …"}
    bot.fail_next(400, to="500100200")          # "Bad Request: chat not found" for that chat
    bot.fail_next(429)                          # "Too Many Requests: retry after 3", parameters.retry_after = 3
    bot.messages("500100200")                   # accepted: .text, .buttons [(label, data)], .callback_data, .message_id
    bot.attempts()                              # every request, refused ones too

What Telegram posts back, one update per request, with the secret in `SECRET_HEADER`:

    update = message_update(chat_id="500100200", text="/start CODE", language_code="kk")
    update = callback_update(chat_id="500100200", data="decline:41", message_id=message.message_id)
    client.post("/hooks/telegram/", update, content_type="application/json",
                headers={SECRET_HEADER: WEBHOOK_SECRET})
"""

from __future__ import annotations

import itertools
import json
import re
import secrets
import time
from dataclasses import dataclass, field
from typing import Any

from .json_service import JsonService
from .ports import wait_until

TOKEN = "7012345678:AAF-test-telegram-bot-token"
BOT_ID = 7012345678
BOT_USERNAME = "patrol_kz_bot"
WEBHOOK_SECRET = "telegram-webhook-secret"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"

_PATH = re.compile(r"^/bot(?P<token>[^/]+)/(?P<method>[A-Za-z]+)/?(?:\?.*)?$")
_updates = itertools.count(800_000_001)
_incoming = itertools.count(1)


@dataclass(frozen=True)
class TgMessage:
    """One message `sendMessage` accepted."""

    message_id: int
    chat_id: str
    text: str
    buttons: list[tuple[str, str]]
    body: dict
    at: float = field(compare=False)

    @property
    def callback_data(self) -> list[str]:
        return [data for _label, data in self.buttons]


def bot_error(status: int, description: str, **parameters) -> dict:
    """The Bot API's error body."""
    body: dict[str, Any] = {"ok": False, "error_code": status, "description": description}
    if parameters:
        body["parameters"] = parameters
    return body


def _keyboard(markup: Any) -> list[tuple[str, str]] | str:
    """The inline keyboard's (label, callback data), or what is wrong with it."""
    if isinstance(markup, str):
        try:
            markup = json.loads(markup)
        except ValueError:
            return "Bad Request: can't parse reply keyboard markup JSON object"
    if markup in (None, {}):
        return []
    rows = markup.get("inline_keyboard") if isinstance(markup, dict) else None
    if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
        return 'Bad Request: field "inline_keyboard" of the InlineKeyboardMarkup must be an Array of Arrays'
    buttons = []
    for row in rows:
        for button in row:
            if not isinstance(button, dict) or not button.get("text"):
                return "Bad Request: text buttons are unallowed in the inline keyboard"
            data = button.get("callback_data")
            if data is not None and not 1 <= len(str(data).encode()) <= 64:
                return "Bad Request: BUTTON_DATA_INVALID"
            buttons.append((str(button["text"]), str(data or "")))
    return buttons


class TelegramBotApi(JsonService):
    """`TelegramBotApi().start()`. `chats`, when given, are the only chats that exist (another answers 400 "chat not
    found", as for a person who never started the bot)."""

    def __init__(self, *, token: str = TOKEN, chats: set[str] | None = None) -> None:
        super().__init__()
        self.token = token
        self.chats = set(chats) if chats is not None else None
        self._messages: list[TgMessage] = []
        self._callback_answers: list[str] = []
        self._message_ids = itertools.count(101)

    def authorised(self, method: str, path: str, headers: dict[str, str]) -> tuple[int, dict] | None:
        match = _PATH.match(path)
        if match is None:
            return 404, bot_error(404, "Not Found")
        if match["token"] != self.token:
            return 401, bot_error(401, "Unauthorized")
        return None

    def recipient(self, data: Any) -> str | None:
        return str(data.get("chat_id")) if isinstance(data, dict) and data.get("chat_id") is not None else None

    def failure_body(self, status: int) -> dict:
        if status == 429:
            return bot_error(429, "Too Many Requests: retry after 3", retry_after=3)
        if status == 403:
            return bot_error(403, "Forbidden: bot was blocked by the user")
        if status >= 500:
            return bot_error(status, "Internal Server Error")
        return bot_error(status, "Bad Request: chat not found")

    def answer(self, method: str, path: str, headers: dict[str, str], data: Any) -> tuple[int, dict]:
        name = _PATH.match(path)["method"]
        if not isinstance(data, dict):
            return 400, bot_error(400, "Bad Request: can't parse JSON object")
        if name == "sendMessage":
            return self._send_message(data)
        if name == "answerCallbackQuery":
            if not data.get("callback_query_id"):
                return 400, bot_error(400, "Bad Request: query_id_invalid")
            with self.lock:
                self._callback_answers.append(str(data["callback_query_id"]))
            return 200, {"ok": True, "result": True}
        if name == "getMe":
            return 200, {"ok": True, "result": self._bot()}
        return 404, bot_error(404, "Not Found: method not found")

    def _bot(self) -> dict:
        return {"id": BOT_ID, "is_bot": True, "first_name": "Patrol", "username": BOT_USERNAME}

    def _send_message(self, data: dict) -> tuple[int, dict]:
        chat = str(data.get("chat_id") or "")
        text = data.get("text")
        if not chat:
            return 400, bot_error(400, "Bad Request: chat_id is empty")
        if self.chats is not None and chat not in self.chats:
            return 400, bot_error(400, "Bad Request: chat not found")
        if not isinstance(text, str) or not text.strip():
            return 400, bot_error(400, "Bad Request: message text is empty")
        if len(text) > 4096:
            return 400, bot_error(400, "Bad Request: message is too long")
        buttons = _keyboard(data.get("reply_markup"))
        if isinstance(buttons, str):
            return 400, bot_error(400, buttons)
        with self.lock:
            message = TgMessage(
                message_id=next(self._message_ids),
                chat_id=chat,
                text=text,
                buttons=buttons,
                body=data,
                at=time.monotonic(),
            )
            self._messages.append(message)
        result: dict[str, Any] = {
            "message_id": message.message_id,
            "from": self._bot(),
            "chat": {
                "id": int(chat) if chat.lstrip("-").isdigit() else chat,
                "first_name": "Айгерім",
                "type": "private",
            },
            "date": int(time.time()),
            "text": text,
        }
        if buttons:
            result["reply_markup"] = {
                "inline_keyboard": [[{"text": label, "callback_data": value} for label, value in buttons]]
            }
        return 200, {"ok": True, "result": result}

    def messages(self, chat_id: str | int | None = None) -> list[TgMessage]:
        """Accepted messages (to one chat), oldest first."""
        with self.lock:
            return [m for m in self._messages if chat_id is None or m.chat_id == str(chat_id)]

    def count(self) -> int:
        with self.lock:
            return len(self._messages)

    def callback_answers(self) -> list[str]:
        """The callback query ids answered with `answerCallbackQuery`."""
        with self.lock:
            return list(self._callback_answers)

    def wait_for(self, chat_id: str | int, *, timeout: float, count: int = 1) -> list[TgMessage]:
        """The messages to a chat once at least `count` have arrived; TimeoutError after `timeout` seconds."""
        wait_until(
            lambda: len(self.messages(chat_id)) >= count, timeout=timeout, what=f"a Telegram message to {chat_id}"
        )
        return self.messages(chat_id)


# What Telegram posts to the webhook


def _user(chat_id: str | int, language_code: str, first_name: str) -> dict:
    user: dict[str, Any] = {"id": int(chat_id), "is_bot": False, "first_name": first_name}
    if language_code:
        user["language_code"] = language_code
    return user


def _chat(chat_id: str | int, first_name: str) -> dict:
    return {"id": int(chat_id), "first_name": first_name, "type": "private"}


def message_update(
    *,
    chat_id: str | int,
    text: str,
    language_code: str = "kk",
    first_name: str = "Айгерім",
    update_id: int | None = None,
    message_id: int | None = None,
) -> dict:
    """An update with a private message (a command such as "/start CODE" carries its bot_command entity)."""
    message: dict[str, Any] = {
        "message_id": message_id or next(_incoming),
        "from": _user(chat_id, language_code, first_name),
        "chat": _chat(chat_id, first_name),
        "date": int(time.time()),
        "text": text,
    }
    if text.startswith("/"):
        message["entities"] = [{"offset": 0, "length": len(text.split()[0]), "type": "bot_command"}]
    return {"update_id": update_id or next(_updates), "message": message}


def callback_update(
    *,
    chat_id: str | int,
    data: str,
    message_id: int = 101,
    message_text: str = "",
    language_code: str = "kk",
    first_name: str = "Айгерім",
    update_id: int | None = None,
    callback_id: str | None = None,
) -> dict:
    """An update with a tap on an inline button of our message `message_id`: callback_query.data is its data."""
    return {
        "update_id": update_id or next(_updates),
        "callback_query": {
            "id": callback_id or str(secrets.randbits(62)),
            "from": _user(chat_id, language_code, first_name),
            "message": {
                "message_id": message_id,
                "from": {"id": BOT_ID, "is_bot": True, "first_name": "Patrol", "username": BOT_USERNAME},
                "chat": _chat(chat_id, first_name),
                "date": int(time.time()),
                "text": message_text or "…",
            },
            "chat_instance": str(secrets.randbits(62)),
            "data": data,
        },
    }
