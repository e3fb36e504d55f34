"""The certificates panel of a volunteer's "My service" page (`templates/includes/certificates.html`): their
certificates the reader may see, and what the reader may do with them."""

from __future__ import annotations

from django import template
from django.urls import reverse

from ..models import Certificate, Volunteer
from ..scope import may_certify
from ..services import certificates
from ..services.ledger import quarter_bounds
from ..services.nominations import current_quarter

register = template.Library()

# The names a page may give the volunteer whose service it shows, the most explicit first.
VOLUNTEER_NAMES = ("certificate_volunteer", "volunteer", "v", "person")


def _volunteer(context, request) -> Volunteer | None:
    """The volunteer of the page: from its context, else its address (`/volunteers/<pk>/…`), else the reader's own."""
    for name in VOLUNTEER_NAMES:
        value = context.get(name)
        if isinstance(value, Volunteer):
            return value
    user = request.user
    match = getattr(request, "resolver_match", None)
    pk = match.kwargs.get("pk") if match else None
    if pk is not None:
        return Volunteer.objects.visible_to(user).filter(pk=pk).first()
    return getattr(user, "volunteer", None)


def _last_quarter() -> tuple:
    year, quarter = current_quarter()
    year, quarter = (year, quarter - 1) if quarter > 1 else (year - 1, 4)
    return quarter_bounds(year, quarter)


@register.simple_tag(takes_context=True)
def certificate_panel(context) -> dict:
    request = context.get("request")
    if request is None or not request.user.is_authenticated:
        return {}
    volunteer = _volunteer(context, request)
    if volunteer is None:
        return {}
    user = request.user
    own = volunteer.user_id is not None and volunteer.user_id == user.pk
    start, end = _last_quarter()
    reading = getattr(request, "LANGUAGE_CODE", "")
    language = reading if reading in certificates.LANGUAGES else certificates.LANGUAGES[0]
    typed = context.get("typed") or {}
    if typed.get("form") == "certificate" and typed.get("pk") == volunteer.pk:
        start, end = typed.get("period_start") or start, typed.get("period_end") or end
        language = typed.get("language") or language
    return {
        "volunteer": volunteer,
        "certificates": list(Certificate.objects.visible_to(user).filter(volunteer=volunteer)),
        "may_issue": may_certify(user, volunteer),
        "may_revoke": Volunteer.objects.manageable_by(user).filter(pk=volunteer.pk).exists(),
        "issue_url": reverse("certificate-issue")
        if own
        else reverse("certificate-issue-for", kwargs={"pk": volunteer.pk}),
        "next": request.get_full_path(),
        "start": start if isinstance(start, str) else start.isoformat(),
        "end": end if isinstance(end, str) else end.isoformat(),
        "language": language,
        "languages": certificates.LANGUAGE_NAMES,
    }
