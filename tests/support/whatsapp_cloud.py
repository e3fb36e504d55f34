"""The WhatsApp Business Cloud API played by a local HTTP server, and the bodies Meta posts to our webhook.

The server speaks the documented shapes of `POST /{version}/{phone-number-id}/messages` (the version part is
optional) with `Authorization: Bearer <token>`:

- a template message {messaging_product: "whatsapp", to, type: "template", template: {name, language: {code},
  components: [body parameters, quick-reply buttons with payloads]}, biz_opaque_callback_data} or a text message
  {…, type: "text", text: {body}} answers 200 {"messaging_product": "whatsapp", "contacts": [{"input", "wa_id"}],
  "messages": [{"id": "wamid.…"}]} and is kept as a `WaMessage`;
- a wrong token answers 401 with the Graph API error {"error": {"message", "type": "OAuthException", "code": 190,
  "fbtrace_id"}}; a malformed body 400 with code 100 (or 132000 / 132018 for template parameters), another phone
  number id 400 with code 100 / subcode 33.

    cloud = WhatsAppCloud().start()  # WHATSAPP_API_URL = cloud.url, WHATSAPP_TOKEN = TOKEN,
                                     # WHATSAPP_PHONE_NUMBER_ID = PHONE_NUMBER_ID, WHATSAPP_APP_SECRET = APP_SECRET
    cloud.fail_next(500, times=2)               # the next two sends answer 500 (nothing kept), then it accepts
    cloud.fail_next(400, to="+77015550101")     # 131026 "Message Undeliverable" for that number
    cloud.messages("77015550101")               # accepted messages: .template, .language, .parameters,
                                                # .buttons (payloads), .callback_data, .text, .id (the wamid)
    cloud.attempts()                            # every request, refused ones too (.data is the JSON body)

`WaMessage.to` is the number as WhatsApp writes it, without "+". What Meta posts back:

    body = status_body(wamid=message.id, status="delivered", recipient=message.to)
    body = button_reply_body(sender="77015550101", payload="decline:41", context_id=message.id)
    body = text_message_body(sender="77015550101", text="2")
    raw = dumps(body)
    client.post("/hooks/whatsapp/", raw, content_type="application/json",
                headers={SIGNATURE_HEADER: sign(raw, APP_SECRET)})
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import re
import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .json_service import JsonService
from .ports import wait_until

TOKEN = "EAAG-test-whatsapp-token"
PHONE_NUMBER_ID = "106540352242922"
BUSINESS_ACCOUNT_ID = "102290129340398"
DISPLAY_PHONE_NUMBER = "77272000100"
APP_SECRET = "whatsapp-app-secret-32"
VERIFY_TOKEN = "whatsapp-verify-token"
SIGNATURE_HEADER = "X-Hub-Signature-256"

_PATH = re.compile(r"^/(?:v\d+\.\d+/)?(?P<number>[^/?]+)/messages/?(?:\?.*)?$")
# What a template parameter may not hold (Meta answers 132018): new lines, tabs, more than four spaces in a row.
_BAD_PARAMETER = re.compile(r"[\n\t]| {5,}")
_wamids = itertools.count(1)
_incoming = itertools.count(1)


@dataclass(frozen=True)
class WaMessage:
    """One message the API accepted."""

    id: str
    to: str
    type: str
    template: str
    language: str
    parameters: list[str]
    buttons: list[str]
    callback_data: str
    text: str
    body: dict
    at: float = field(compare=False)


def graph_error(message: str, *, code: int, type: str = "OAuthException", subcode: int | None = None, **data) -> dict:
    """The Graph API's error body."""
    error: dict[str, Any] = {"message": message, "type": type, "code": code}
    if subcode is not None:
        error["error_subcode"] = subcode
    if data:
        error["error_data"] = {"messaging_product": "whatsapp", **data}
    error["fbtrace_id"] = "A" + secrets.token_urlsafe(16)
    return {"error": error}


def new_wamid() -> str:
    """A message id unique in this test run, shaped like Meta's."""
    return f"wamid.HBgL{next(_wamids):08d}{secrets.token_hex(8).upper()}"


def _parameters(components: list) -> tuple[list[str], list[str]] | str:
    """(body parameter texts, quick-reply payloads in button order), or what is wrong with the components."""
    parameters: list[str] = []
    buttons: dict[int, str] = {}
    for component in components:
        if not isinstance(component, dict):
            return "a component must be an object"
        kind = component.get("type")
        if kind in {"header", "body"}:
            for parameter in component.get("parameters") or []:
                if not isinstance(parameter, dict) or parameter.get("type") != "text":
                    return "only text parameters are played here"
                parameters.append(str(parameter.get("text", "")))
        elif kind == "button":
            if component.get("sub_type") != "quick_reply":
                return "only quick_reply buttons are played here"
            index = str(component.get("index", ""))
            if not index.isdigit():
                return "a button needs its index"
            values = component.get("parameters") or []
            if len(values) != 1 or values[0].get("type") != "payload" or not values[0].get("payload"):
                return "a quick_reply button takes one payload parameter"
            buttons[int(index)] = str(values[0]["payload"])
        else:
            return f"unknown component type {kind!r}"
    return parameters, [buttons[index] for index in sorted(buttons)]


class WhatsAppCloud(JsonService):
    """`WhatsAppCloud().start()`. `templates` (name → number of body parameters), when given, are the only
    templates that exist: another name answers 132001, another count of parameters 132000."""

    def __init__(
        self,
        *,
        token: str = TOKEN,
        phone_number_id: str = PHONE_NUMBER_ID,
        templates: Mapping[str, int] | None = None,
    ) -> None:
        super().__init__()
        self.token = token
        self.phone_number_id = phone_number_id
        self.templates = dict(templates) if templates is not None else None
        self._messages: list[WaMessage] = []

    @property
    def url(self) -> str:
        """WHATSAPP_API_URL: the root with the Graph API version."""
        return f"{super().url}/v21.0"

    def authorised(self, method: str, path: str, headers: dict[str, str]) -> tuple[int, dict] | None:
        if headers.get("Authorization") != f"Bearer {self.token}":
            return 401, graph_error("Invalid OAuth access token - Cannot parse access token", code=190)
        return None

    def recipient(self, data: Any) -> str | None:
        return str(data.get("to")).lstrip("+") if isinstance(data, dict) and data.get("to") else None

    def fail_next(self, status: int, *, times: int = 1, body: dict | None = None, to: str | None = None) -> None:
        """As `JsonService.fail_next`; `to` is a number with or without "+"."""
        super().fail_next(status, times=times, body=body, to=to.lstrip("+") if to else None)

    def failure_body(self, status: int) -> dict:
        if status == 429:
            return graph_error("(#130429) Rate limit hit", code=130429, details="Cloud API message throughput reached")
        if status >= 500:
            return graph_error("An unknown error has occurred.", code=1, subcode=99, is_transient=True)
        return graph_error(
            "(#131026) Message Undeliverable.",
            code=131026,
            subcode=2494010,
            details="The recipient's phone number is not a WhatsApp phone number.",
        )

    def answer(self, method: str, path: str, headers: dict[str, str], data: Any) -> tuple[int, dict]:
        match = _PATH.match(path)
        if method != "POST" or match is None:
            return 400, graph_error("Unknown path components", code=2500)
        if match["number"] != self.phone_number_id:
            return 400, graph_error(
                f"Unsupported post request. Object with ID '{match['number']}' does not exist.", code=100, subcode=33
            )
        if not isinstance(data, dict):
            return 400, graph_error("(#100) Invalid parameter", code=100, details="the body is not JSON")
        if data.get("messaging_product") != "whatsapp":
            return 400, graph_error("(#100) The parameter messaging_product is required.", code=100)
        to = data.get("to")
        if not isinstance(to, str) or not to.lstrip("+").isdigit():
            return 400, graph_error("(#100) The parameter to is required.", code=100)
        kind = data.get("type", "text")
        if kind == "template":
            return self._template(data, to.lstrip("+"))
        if kind == "text":
            body = (data.get("text") or {}).get("body") if isinstance(data.get("text"), dict) else None
            if not isinstance(body, str) or not body:
                return 400, graph_error("(#100) The parameter text['body'] is required.", code=100)
            return self._accept(data, to=to.lstrip("+"), kind="text", text=body)
        return 400, graph_error(f"(#100) Param type must be one of {{TEXT, TEMPLATE}}, got {kind!r}.", code=100)

    def _template(self, data: dict, to: str) -> tuple[int, dict]:
        template = data.get("template")
        if not isinstance(template, dict) or not template.get("name"):
            return 400, graph_error("(#100) The parameter template['name'] is required.", code=100)
        language = template.get("language")
        if not isinstance(language, dict) or not language.get("code"):
            return 400, graph_error("(#100) The parameter template['language']['code'] is required.", code=100)
        components = template.get("components") or []
        if not isinstance(components, list):
            return 400, graph_error("(#100) Invalid parameter", code=100, details="components must be a list")
        parsed = _parameters(components)
        if isinstance(parsed, str):
            return 400, graph_error("(#100) Invalid parameter", code=100, details=parsed)
        parameters, buttons = parsed
        name = template["name"]
        if self.templates is not None:
            if name not in self.templates:
                return 404, graph_error(
                    "(#132001) Template name does not exist in the translation",
                    code=132001,
                    details=f"template name ({name}) does not exist in {language['code']}",
                )
            if len(parameters) != self.templates[name]:
                return 400, graph_error(
                    "(#132000) Number of parameters does not match the expected number of params",
                    code=132000,
                    details=f"body: number of localizable_params ({len(parameters)}) does not match the expected "
                    f"number of params ({self.templates[name]})",
                )
        if any(_BAD_PARAMETER.search(text) or not text.strip() for text in parameters):
            return 400, graph_error(
                "(#132018) There was an issue with the parameters in your template.",
                code=132018,
                details="Param text cannot have new-line/tab characters or more than 4 consecutive spaces",
            )
        return self._accept(
            data,
            to=to,
            kind="template",
            template=name,
            language=language["code"],
            parameters=parameters,
            buttons=buttons,
        )

    def _accept(self, data: dict, *, to: str, kind: str, **fields) -> tuple[int, dict]:
        message = WaMessage(
            id=new_wamid(),
            to=to,
            type=kind,
            template=fields.get("template", ""),
            language=fields.get("language", ""),
            parameters=fields.get("parameters", []),
            buttons=fields.get("buttons", []),
            callback_data=str(data.get("biz_opaque_callback_data") or ""),
            text=fields.get("text", ""),
            body=data,
            at=time.monotonic(),
        )
        with self.lock:
            self._messages.append(message)
        answer: dict[str, Any] = {
            "messaging_product": "whatsapp",
            "contacts": [{"input": data["to"], "wa_id": to}],
            "messages": [{"id": message.id}],
        }
        if kind == "template":
            answer["messages"][0]["message_status"] = "accepted"
        return 200, answer

    def messages(self, to: str | None = None) -> list[WaMessage]:
        """Accepted messages (to one number, with or without "+"), oldest first."""
        number = to.lstrip("+") if to else None
        with self.lock:
            return [m for m in self._messages if number is None or m.to == number]

    def count(self) -> int:
        with self.lock:
            return len(self._messages)

    def wait_for(self, to: str, *, timeout: float, count: int = 1) -> list[WaMessage]:
        """The messages to `to` once at least `count` have arrived; TimeoutError after `timeout` seconds."""
        wait_until(lambda: len(self.messages(to)) >= count, timeout=timeout, what=f"a WhatsApp message to …{to[-2:]}")
        return self.messages(to)


# What Meta posts to the webhook


def _envelope(value: dict, *, phone_number_id: str = PHONE_NUMBER_ID) -> dict:
    return {
        "object": "whatsapp_business_account",
        "entry": [
            {
                "id": BUSINESS_ACCOUNT_ID,
                "changes": [
                    {
                        "value": {
                            "messaging_product": "whatsapp",
                            "metadata": {
                                "display_phone_number": DISPLAY_PHONE_NUMBER,
                                "phone_number_id": phone_number_id,
                            },
                            **value,
                        },
                        "field": "messages",
                    }
                ],
            }
        ],
    }


def status_body(
    *,
    wamid: str,
    status: str,
    recipient: str,
    timestamp: int | None = None,
    callback_data: str = "",
    error_code: int = 131026,
    error_title: str = "Message undeliverable",
) -> dict:
    """A status callback: `status` is "sent", "delivered", "read" or "failed" (with one error) for message `wamid`."""
    item: dict[str, Any] = {
        "id": wamid,
        "status": status,
        "timestamp": str(timestamp if timestamp is not None else int(time.time())),
        "recipient_id": recipient.lstrip("+"),
    }
    if callback_data:
        item["biz_opaque_callback_data"] = callback_data
    if status in {"sent", "delivered"}:
        item["conversation"] = {"id": secrets.token_hex(16), "origin": {"type": "utility"}}
        item["pricing"] = {"billable": True, "pricing_model": "PMP", "category": "utility", "type": "regular"}
    if status == "failed":
        item["errors"] = [
            {
                "code": error_code,
                "title": error_title,
                "message": error_title,
                "error_data": {"details": "Message failed to send because of an unknown error."},
                "href": "https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes/",
            }
        ]
    return _envelope({"statuses": [item]})


def _incoming_message(sender: str, kind: str, *, message_id: str | None, timestamp: int | None, **fields) -> dict:
    number = sender.lstrip("+")
    message = {
        "from": number,
        "id": message_id or f"wamid.IN{next(_incoming):08d}{secrets.token_hex(6).upper()}",
        "timestamp": str(timestamp if timestamp is not None else int(time.time())),
        "type": kind,
        **fields,
    }
    return _envelope({"contacts": [{"profile": {"name": "Айгерім"}, "wa_id": number}], "messages": [message]})


def button_reply_body(
    *,
    sender: str,
    payload: str,
    context_id: str,
    text: str = "",
    message_id: str | None = None,
    timestamp: int | None = None,
) -> dict:
    """A tap on a template's quick-reply button: type "button" with button.payload, in reply to `context_id`."""
    return _incoming_message(
        sender,
        "button",
        message_id=message_id,
        timestamp=timestamp,
        context={"from": DISPLAY_PHONE_NUMBER, "id": context_id},
        button={"payload": payload, "text": text or payload},
    )


def text_message_body(
    *,
    sender: str,
    text: str,
    context_id: str | None = None,
    message_id: str | None = None,
    timestamp: int | None = None,
) -> dict:
    """A typed message (a reply to `context_id` when given)."""
    fields: dict[str, Any] = {"text": {"body": text}}
    if context_id:
        fields["context"] = {"from": DISPLAY_PHONE_NUMBER, "id": context_id}
    return _incoming_message(sender, "text", message_id=message_id, timestamp=timestamp, **fields)


def dumps(body: dict) -> bytes:
    """The bytes to post (and to sign): the signature covers exactly these."""
    return json.dumps(body, ensure_ascii=False).encode()


def sign(body: bytes, app_secret: str = APP_SECRET) -> str:
    """The `X-Hub-Signature-256` value of a body: "sha256=" and the hex HMAC-SHA256 with the app secret."""
    return "sha256=" + hmac.new(app_secret.encode(), body, hashlib.sha256).hexdigest()
