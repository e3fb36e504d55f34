"""The messengers and phones a person is reached on beside email: WhatsApp opt-ins, linked Telegram chats, web push
subscriptions, and every message that comes back from them (replies, button taps, delivery statuses)."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from ..choices import DeliveryChannel, InboundOutcome


class MessengerAccount(models.Model):
    """A person's WhatsApp number (opted in) or Telegram chat (linked with a one-time code): one per channel."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="messenger_accounts",
        verbose_name=_("person"),
    )
    channel = models.CharField(_("channel"), max_length=10, choices=DeliveryChannel.choices)
    # WhatsApp: the number as +77XXXXXXXXX, the one the person opted in with; Telegram: the chat's id.
    address = models.CharField(_("address"), max_length=64)
    language = models.CharField(_("language the messenger reports"), max_length=10, blank=True)
    opted_in_at = models.DateTimeField(_("opted in at"), auto_now_add=True)

    class Meta:
        verbose_name = _("messenger account")
        verbose_name_plural = _("messenger accounts")
        constraints = [
            models.UniqueConstraint(fields=["user", "channel"], name="one_account_per_channel"),
            models.UniqueConstraint(fields=["channel", "address"], name="one_person_per_messenger_address"),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} {self.channel}"


class TelegramLinkCode(models.Model):
    """A one-time code for `/start CODE` in the bot's chat; only its hash is kept, and it expires."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="telegram_link_codes",
        verbose_name=_("person"),
    )
    code_hash = models.CharField(_("code hash"), max_length=64, unique=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    expires_at = models.DateTimeField(_("expires at"))
    used_at = models.DateTimeField(_("used at"), null=True, blank=True)

    class Meta:
        verbose_name = _("Telegram link code")
        verbose_name_plural = _("Telegram link codes")

    def __str__(self) -> str:
        return f"{self.user_id} {self.expires_at:%Y-%m-%d %H:%M}"


class PushSubscription(models.Model):
    """One browser on one phone that agreed to show the app's notifications (Web Push, RFC 8030 and 8291)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="push_subscriptions",
        verbose_name=_("person"),
    )
    endpoint = models.URLField(_("push service address"), max_length=1000, unique=True)
    p256dh = models.CharField(_("browser's public key"), max_length=200)
    auth = models.CharField(_("browser's authentication secret"), max_length=64)
    user_agent = models.CharField(_("browser"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    last_success_at = models.DateTimeField(_("last delivered at"), null=True, blank=True)

    class Meta:
        verbose_name = _("push subscription")
        verbose_name_plural = _("push subscriptions")

    def __str__(self) -> str:
        return f"{self.user_id} {self.endpoint[:40]}"


class InboundMessage(models.Model):
    """Something a messenger or the SMS gateway sent us, kept before it is acted on so that none is lost and the same
    update delivered twice acts once (its id is unique per channel)."""

    channel = models.CharField(_("channel"), max_length=10, choices=DeliveryChannel.choices)
    external_id = models.CharField(_("id given by the sender"), max_length=200)
    payload = models.JSONField(_("what was received"))
    received_at = models.DateTimeField(_("received at"), auto_now_add=True)
    handled_at = models.DateTimeField(_("handled at"), null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    outcome = models.CharField(_("outcome"), max_length=10, choices=InboundOutcome.choices, blank=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="inbound_messages",
        verbose_name=_("person"),
    )
    # The answer told back in the same chat or by SMS, sent after the action is saved (and again if that fails).
    answer = models.TextField(_("answer"), blank=True)
    answered_at = models.DateTimeField(_("answered at"), null=True, blank=True)

    class Meta:
        ordering = ["received_at", "id"]
        verbose_name = _("message received")
        verbose_name_plural = _("messages received")
        constraints = [
            models.UniqueConstraint(fields=["channel", "external_id"], name="inbound_once_per_channel"),
        ]
        indexes = [models.Index(fields=["handled_at", "received_at"])]

    def __str__(self) -> str:
        return f"{self.channel} {self.external_id}"
