"""Certificates of service on the web: the public check page (`/c/<code>/`, and `/c/` to type a code), issuing one
from the "My service" page (`/service/certificates/`, or `/volunteers/<id>/service/certificates/` for the police),
downloading its PDF (`/certificates/<id>.pdf`) and revoking it.

The check page needs no sign-in and shows only what the paper shows; it is rate-limited per client address with the
API's check (one count for both), so codes cannot be tried in bulk. The rest is scoped: a certificate that is not the
reader's own, nor of a volunteer the police reader keeps, is not found (404). Writes go to `services.certificates`,
whose refusals are shown on the page the form came from.
"""

from __future__ import annotations

import math

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import content_disposition_header, url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from ..api.throttles import CertificateCheckThrottle
from ..models import Certificate, Volunteer
from ..services import certificate_print, certificates
from .forms import DateInput, keep_typed

# What an issue form that failed keeps for the page it goes back to.
ISSUE_FIELDS = ("period_start", "period_end", "language")


class IssueForm(forms.Form):
    period_start = forms.DateField(label=gettext_lazy("From"), widget=DateInput)
    period_end = forms.DateField(label=gettext_lazy("To"), widget=DateInput)
    language = forms.ChoiceField(label=gettext_lazy("Language of the certificate"), choices=certificates.LANGUAGE_NAMES)


class RevokeForm(forms.Form):
    # An empty reason is the service's to refuse, in its own words.
    reason = forms.CharField(label=gettext_lazy("Reason"), required=False, max_length=certificates.REASON_LIMIT)


def _errors(form: forms.Form) -> str:
    """A small form's errors in one line for the page it came from, each named by its field."""
    return " ".join(
        _("%(field)s: %(message)s") % {"field": form.fields[name].label, "message": text}
        if name in form.fields
        else text
        for name, texts in form.errors.items()
        for text in texts
    )


def _back(request: HttpRequest, default: str) -> str:
    """Where the form came from (the page that includes it), or `default`."""
    target = request.POST.get("next") or ""
    if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return target
    return default


def _public(response: HttpResponse) -> HttpResponse:
    """The check page is not for search engines, and its address (the code) goes nowhere in a Referer."""
    response["X-Robots-Tag"] = "noindex, nofollow"
    response["Referrer-Policy"] = "no-referrer"
    return response


# The public check


@never_cache
@require_GET
def check_form(request: HttpRequest) -> HttpResponse:
    """Type a code: a well-formed one opens its check page, anything else is said to be no code at all."""
    typed = request.GET.get("code", "")
    error = ""
    if typed.strip():
        code = certificates.normalise_code(typed)
        if code is not None:
            return redirect("certificate-check", code=code)
        error = _("This is not a certificate code: it has 14 letters and digits, like K7Q2-M9XP-4TZD-8W.")
    context = {"typed": typed[: certificates.MAX_TYPED], "error": error, "example": "K7Q2-M9XP-4TZD-8W"}
    return _public(render(request, "patrols/certificates/check.html", context, status=400 if error else 200))


@never_cache
@require_GET
def check(request: HttpRequest, code: str) -> HttpResponse:
    throttle = CertificateCheckThrottle()
    if not throttle.allow_request(request, None):
        seconds = max(1, math.ceil(throttle.wait() or 1))
        message = ngettext(
            "Too many certificates were checked from your network. Try again in %(seconds)d second.",
            "Too many certificates were checked from your network. Try again in %(seconds)d seconds.",
            seconds,
        ) % {"seconds": seconds}
        response = render(request, "patrols/certificates/check.html", {"limited": message}, status=429)
        response["Retry-After"] = str(seconds)
        return _public(response)
    result = certificates.certificate_check(code)
    context = {"result": result, "code": result.code or code[: certificates.MAX_TYPED]}
    if result.certificate is not None:
        data = certificates.public_data(result.certificate)
        context["data"] = data
        if data["figures"] is not None:
            context["figure_lines"] = certificates.figure_lines(data["figures"])
            context["result_lines"] = certificates.result_lines(data["figures"])
            context["reward_lines"] = certificates.reward_lines(data["figures"])
    found = result.status in (certificates.GENUINE, certificates.REVOKED)
    return _public(render(request, "patrols/certificates/check.html", context, status=200 if found else 404))


# Issuing, downloading, revoking


def _issue(request: HttpRequest, volunteer: Volunteer, default_back: str) -> HttpResponse:
    back = _back(request, default_back)
    form = IssueForm(request.POST)
    if not form.is_valid():
        keep_typed(request, "certificate", volunteer.pk, ISSUE_FIELDS)
        messages.error(request, _errors(form))
        return redirect(back)
    data = form.cleaned_data
    try:
        certificate = certificates.certificate_issue(
            volunteer=volunteer,
            start=data["period_start"],
            end=data["period_end"],
            by=request.user,
            language=data["language"],
        )
    except ValidationError as error:
        keep_typed(request, "certificate", volunteer.pk, ISSUE_FIELDS)
        messages.error(request, " ".join(error.messages))
        return redirect(back)
    messages.success(
        request, _("The certificate %(code)s is ready: download it from the list.") % {"code": certificate.code}
    )
    return redirect(back)


@login_required
@require_POST
def issue_own(request: HttpRequest) -> HttpResponse:
    volunteer = getattr(request.user, "volunteer", None)
    if volunteer is None:
        raise Http404
    return _issue(request, volunteer, reverse("my-service"))


@login_required
@require_POST
def issue_for(request: HttpRequest, pk: int) -> HttpResponse:
    volunteer = get_object_or_404(Volunteer.objects.visible_to(request.user), pk=pk)
    return _issue(request, volunteer, reverse("volunteer-service", kwargs={"pk": volunteer.pk}))


@login_required
@require_GET
def certificate_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    certificate = get_object_or_404(Certificate.objects.visible_to(request.user), pk=pk)
    response = HttpResponse(certificate_print.certificate_pdf(certificate), content_type="application/pdf")
    response["Content-Disposition"] = content_disposition_header(True, certificates.filename(certificate))
    return response


@login_required
@require_POST
def certificate_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    certificate = get_object_or_404(Certificate.objects.manageable_by(request.user), pk=pk)
    back = _back(request, reverse("volunteer-service", kwargs={"pk": certificate.volunteer_id}))
    form = RevokeForm(request.POST)
    if not form.is_valid():
        messages.error(request, _errors(form))
        return redirect(back)
    try:
        certificates.certificate_revoke(certificate=certificate, by=request.user, reason=form.cleaned_data["reason"])
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect(back)
    messages.success(request, _("The certificate %(code)s is revoked.") % {"code": certificate.code})
    return redirect(back)
