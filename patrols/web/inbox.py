"""The in-app inbox (the bell) and each person's notification settings."""

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from ..choices import DeliveryChannel
from ..models import Notification, NotificationPreference
from ..services import email_address, messengers, telegram, webpush
from ..services.channels import channel_configured
from ..services.inbox import notification_read, notifications_read_all
from ..services.messages import render as render_message
from ..services.notifications import channel_addresses
from .forms import saved


@login_required
def inbox(request):
    notifications = Notification.objects.visible_to(request.user).select_related("shift__zone", "report")
    page = Paginator(notifications, 30).get_page(request.GET.get("page"))
    items = [(n, render_message(n, request.LANGUAGE_CODE)) for n in page]
    return render(request, "patrols/inbox.html", {"page": page, "items": items})


@login_required
@require_POST
def inbox_read(request, pk: int | None = None):
    """Mark one message (or all) as read, then go where the message points."""
    if pk is None:
        notifications_read_all(by=request.user)
        return redirect("inbox")
    notification = get_object_or_404(Notification.objects.visible_to(request.user), pk=pk)
    notification_read(notification=notification, by=request.user)
    return redirect(render_message(notification, request.LANGUAGE_CODE).link)


class PreferenceForm(forms.ModelForm):
    """The person's channels, quiet hours and lead times; a channel with no address to reach them is shown off."""

    reminder_leads = forms.CharField(
        label=gettext_lazy("Remind me this many hours before a shift"),
        required=False,
        help_text=gettext_lazy("Numbers separated by commas, for example 24, 2. Empty: the usual 24 and 2."),
    )

    class Meta:
        model = NotificationPreference
        fields = ["email_enabled", "sms_enabled", "quiet_start", "quiet_end"]
        widgets = {
            "quiet_start": forms.TimeInput(attrs={"type": "time"}),
            "quiet_end": forms.TimeInput(attrs={"type": "time"}),
        }

    def __init__(self, *args, user, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        addresses = channel_addresses(user)
        missing = {
            "email_enabled": (
                DeliveryChannel.EMAIL,
                _("Add an email address above to get email."),
            ),
            "sms_enabled": (
                DeliveryChannel.SMS,
                _("Ask your inspector to add your phone number to your volunteer profile to get SMS.")
                if hasattr(user, "volunteer")
                else _("SMS goes to volunteers, at the phone number in their volunteer profile."),
            ),
        }
        # Kept as stored: a choice made while an address was known comes back when it is known again.
        self._kept = {}
        for name, (channel, why) in missing.items():
            if addresses[channel]:
                continue
            self._kept[name] = getattr(self.instance, name)
            self.fields[name].disabled = True
            self.fields[name].help_text = why
            self.initial[name] = False

    def save(self, commit: bool = True) -> NotificationPreference:
        preference = super().save(commit=False)
        for name, value in self._kept.items():
            setattr(preference, name, value)
        if commit:
            preference.save()
        return preference

    def clean_reminder_leads(self) -> list[int] | None:
        raw = (self.cleaned_data.get("reminder_leads") or "").replace(";", ",")
        if not raw.strip():
            return None
        try:
            hours = sorted({int(part) for part in raw.split(",") if part.strip()}, reverse=True)
        except ValueError as error:
            raise forms.ValidationError(_("Write whole hours separated by commas, for example 24, 2.")) from error
        if not hours or hours[-1] < 1 or hours[0] > 168:
            raise forms.ValidationError(_("Each lead time is between 1 and 168 hours."))
        return hours


class EmailAddressForm(forms.Form):
    # Checked by the service, which gives the one clear message for every kind of bad address.
    email = forms.CharField(
        label=gettext_lazy("Email address"),
        widget=forms.EmailInput(attrs={"autocomplete": "email", "maxlength": email_address.EMAIL_MAX_LENGTH}),
    )


def _settings_page(
    request,
    *,
    form: PreferenceForm | None = None,
    email_form: EmailAddressForm | None = None,
    telegram_link: str = "",
):
    preference, _created = NotificationPreference.objects.get_or_create(user=request.user)
    if form is None:
        initial = {"reminder_leads": ", ".join(str(h) for h in preference.reminder_leads or [])}
        form = PreferenceForm(instance=preference, initial=initial, user=request.user)
    accounts = {a.channel: a for a in request.user.messenger_accounts.all()}
    context = {
        "form": form,
        "email_form": email_form or EmailAddressForm(),
        "email": request.user.email,
        "pending_email": preference.pending_email,
        "confirm_days": settings.EMAIL_CONFIRM_DAYS,
        "channels": messengers.my_channels(request.user),
        "whatsapp": {
            "configured": channel_configured(DeliveryChannel.WHATSAPP),
            "account": accounts.get(DeliveryChannel.WHATSAPP),
            "phone": channel_addresses(request.user)[DeliveryChannel.SMS],
        },
        "telegram": {
            "configured": channel_configured(DeliveryChannel.TELEGRAM),
            "account": accounts.get(DeliveryChannel.TELEGRAM),
            "link": telegram_link,
            "minutes": settings.TELEGRAM_LINK_MINUTES,
        },
        "push_key": webpush.public_key(),
        "push_count": request.user.push_subscriptions.count(),
    }
    return render(request, "patrols/notification_settings.html", context)


@login_required
@require_POST
def channel_move(request):
    """Move a phone channel up or down in the person's order."""
    try:
        messengers.channel_order_move(
            user=request.user, channel=request.POST.get("channel", ""), up=request.POST.get("move") != "down"
        )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    return redirect(f"{reverse('notification-settings')}#channels")


@login_required
@require_POST
def whatsapp_set(request):
    """Agree to WhatsApp messages at one's phone number, or stop them."""
    if request.POST.get("action") == "off":
        messengers.whatsapp_opt_out(user=request.user)
        messages.success(request, _("WhatsApp messages are stopped."))
        return redirect(f"{reverse('notification-settings')}#whatsapp")
    try:
        messengers.whatsapp_opt_in(user=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, _("Messages now come to your WhatsApp as well."))
    return redirect(f"{reverse('notification-settings')}#whatsapp")


@login_required
@require_POST
def telegram_link(request):
    """A one-time link to the bot: opening it in Telegram and pressing Start links the chat."""
    if not channel_configured(DeliveryChannel.TELEGRAM):
        messages.error(request, _("Telegram is not set up on this installation."))
        return redirect("notification-settings")
    _code, link = telegram.link_code_create(user=request.user)
    return _settings_page(request, telegram_link=link)


@login_required
@require_POST
def telegram_unlink(request):
    messengers.telegram_unlink(user=request.user)
    messages.success(request, _("Telegram is unlinked: no more messages go to that chat."))
    return redirect(f"{reverse('notification-settings')}#telegram")


@login_required
def preferences(request):
    if request.method != "POST":
        return _settings_page(request)
    preference, _created = NotificationPreference.objects.get_or_create(user=request.user)
    initial = {"reminder_leads": ", ".join(str(h) for h in preference.reminder_leads or [])}
    form = PreferenceForm(request.POST, instance=preference, initial=initial, user=request.user)
    if form.is_valid():
        chosen = form.save(commit=False)
        chosen.reminder_leads = form.cleaned_data["reminder_leads"]
        chosen.save()
        messages.success(request, _("Your notification settings were saved."))
        return redirect("notification-settings")
    return _settings_page(request, form=form)


@login_required
@require_POST
def email_address_set(request):
    """Add or change one's own email address (or send its link again): it waits until the link sent to it is opened."""
    email_form = EmailAddressForm(request.POST)
    if saved(email_form, lambda data: email_address.email_address_request(user=request.user, address=data["email"])):
        messages.success(
            request,
            _("We sent a link to the new address. Open it within %(days)d days to confirm the address.")
            % {"days": settings.EMAIL_CONFIRM_DAYS},
        )
        return redirect("notification-settings")
    return _settings_page(request, email_form=email_form)


@login_required
@require_POST
def email_address_cancel(request):
    email_address.email_address_cancel(user=request.user)
    messages.success(request, _("The new address was dropped; nothing else changed."))
    return redirect("notification-settings")


@login_required
@require_POST
def email_address_remove(request):
    email_address.email_address_remove(user=request.user)
    messages.success(request, _("Your email address was removed: no more email will be sent to you."))
    return redirect("notification-settings")


@login_required
def email_address_confirm(request, token: str):
    """The link from the confirmation email: the address becomes the account's email, or a clear refusal."""
    try:
        confirmed = email_address.email_address_confirm(user=request.user, token=token)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect("notification-settings")
    if confirmed.already:
        messages.info(request, _("This address is already confirmed."))
    else:
        messages.success(request, _("Your email address is confirmed: messages can now reach you by email."))
    return redirect("notification-settings")
