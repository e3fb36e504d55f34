"""What the product tells people: the in-app inbox, each person's channel choices, and deliveries by email and SMS."""

import datetime

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from ..choices import DeliveryChannel, DeliveryStatus, NotificationKind
from ..scope import NotificationQuerySet
from .schedule import Shift


class Notification(models.Model):
    """One message in a person's inbox, about a shift, a report or a meeting; `key` makes a reminder exist once."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications", verbose_name=_("recipient")
    )
    kind = models.CharField(_("kind"), max_length=30, choices=NotificationKind.choices)
    key = models.CharField(_("unique key"), max_length=120, unique=True, null=True, blank=True)
    shift = models.ForeignKey(
        Shift, on_delete=models.CASCADE, null=True, blank=True, related_name="notifications", verbose_name=_("shift")
    )
    report = models.ForeignKey(
        "patrols.Report",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="notifications",
        verbose_name=_("report"),
    )
    meeting = models.ForeignKey(
        "patrols.Meeting",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="notifications",
        verbose_name=_("meeting with residents"),
    )
    details = models.JSONField(_("details"), default=dict, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    read_at = models.DateTimeField(_("read at"), null=True, blank=True)

    objects = NotificationQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        indexes = [models.Index(fields=["user", "read_at"])]

    def __str__(self) -> str:
        return f"{self.user_id} {self.kind}"

    @property
    def read(self) -> bool:
        return self.read_at is not None


class NotificationPreference(models.Model):
    """How a person wants to be told: channels, quiet hours for SMS, and their own reminder lead times."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="notification_preference",
        verbose_name=_("user"),
    )
    email_enabled = models.BooleanField(_("email"), default=True)
    sms_enabled = models.BooleanField(_("SMS"), default=True)
    # The person's order of the channels that reach a phone (WhatsApp, Telegram, push, SMS); empty means the default
    # order. A message goes to the first that can reach them (urgent ones to the first two), the next if it fails.
    channel_order = models.JSONField(_("order of channels"), default=list, blank=True)
    # The person's own new address waits here until they open the link sent to it; then it becomes `User.email`.
    pending_email = models.EmailField(_("email address waiting for confirmation"), blank=True)
    email_confirmation_sent_at = models.DateTimeField(_("confirmation email asked for at"), null=True, blank=True)
    reminder_leads = models.JSONField(
        _("reminder lead times (hours)"),
        null=True,
        blank=True,
        help_text=_("Hours before a shift; empty means the series' or the default (24 and 2)."),
    )
    quiet_start = models.TimeField(_("quiet hours from"), default=datetime.time(22, 0))
    quiet_end = models.TimeField(_("quiet hours until"), default=datetime.time(7, 0))

    class Meta:
        verbose_name = _("notification preference")
        verbose_name_plural = _("notification preferences")

    def __str__(self) -> str:
        return str(self.user)


class Delivery(models.Model):
    """One notification to one person over one channel; the unique key makes it go out once."""

    key = models.CharField(_("unique key"), max_length=150, unique=True)
    notification = models.ForeignKey(
        Notification, on_delete=models.CASCADE, related_name="deliveries", verbose_name=_("notification")
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="deliveries", verbose_name=_("recipient")
    )
    channel = models.CharField(_("channel"), max_length=10, choices=DeliveryChannel.choices)
    address = models.CharField(_("address"), max_length=254)
    language = models.CharField(_("language"), max_length=5)
    urgent = models.BooleanField(_("urgent"), default=False)
    status = models.CharField(
        _("status"), max_length=10, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    not_before = models.DateTimeField(_("not before"), null=True, blank=True)
    expires_at = models.DateTimeField(_("stale after"), null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    last_error = models.TextField(_("last error"), blank=True)
    queued_at = models.DateTimeField(_("queued at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    # What the messenger or gateway calls the message (a WhatsApp wamid, a Telegram message id), for its statuses.
    provider_id = models.CharField(_("id at the provider"), max_length=200, blank=True, db_index=True)
    delivered_at = models.DateTimeField(_("delivered at"), null=True, blank=True)
    read_at = models.DateTimeField(_("read at"), null=True, blank=True)
    # Set once the next channel was tried after this one failed or was not delivered in time.
    fell_back_at = models.DateTimeField(_("next channel tried at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("delivery")
        verbose_name_plural = _("deliveries")
        indexes = [models.Index(fields=["status", "queued_at"])]

    def __str__(self) -> str:
        return self.key
