"""The in-app inbox (the bell) and each person's notification settings."""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from ..models import Notification, NotificationPreference
from ..services.inbox import notification_read, notifications_read_all
from ..services.messages import render as render_message


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


@login_required
def preferences(request):
    preference, _created = NotificationPreference.objects.get_or_create(user=request.user)
    initial = {"reminder_leads": ", ".join(str(h) for h in preference.reminder_leads or [])}
    form = PreferenceForm(request.POST or None, instance=preference, initial=initial)
    if request.method == "POST" and form.is_valid():
        saved = form.save(commit=False)
        saved.reminder_leads = form.cleaned_data["reminder_leads"]
        saved.save()
        messages.success(request, _("Your notification settings were saved."))
        return redirect("notification-settings")
    return render(request, "patrols/notification_settings.html", {"form": form})
