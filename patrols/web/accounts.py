"""Signing in on the website: username and password (with "this is a shared device"), then, for police and ministry
accounts when STAFF_2FA is on, the code from an authenticator app, set up on the first sign-in.

Between the two steps nobody is signed in: the session only remembers, for a few minutes, whose password was right.
"""

import time

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.debug import sensitive_post_parameters

from ..auth import address_refused, address_refused_message, sign_in
from ..models import User
from ..services import credentials, signin
from .forms import saved

# Whose password was right, waiting for the second step; forgotten after PENDING_SECONDS.
PENDING = "signin_pending"
PENDING_SECONDS = 5 * 60


class SignInForm(AuthenticationForm):
    # Django's own sentence ("Please enter a correct %(username)s and password") came half in English in Kazakh.
    error_messages = {
        **AuthenticationForm.error_messages,
        "invalid_login": gettext_lazy(
            "The username or password is wrong. Letters in both must be typed exactly, capitals included."
        ),
    }
    shared_device = forms.BooleanField(label=gettext_lazy("This is a shared device"), required=False)


class CodeForm(forms.Form):
    otp = forms.CharField(
        label=gettext_lazy("Code from the authenticator app"),
        max_length=12,
        widget=forms.TextInput(
            {"autocomplete": "one-time-code", "inputmode": "numeric", "pattern": "[0-9 ]*", "autofocus": True}
        ),
    )


class SignInView(auth_views.LoginView):
    """Step one. Volunteers and leaders are signed in here; staff who must give a code go on to step two."""

    form_class = SignInForm
    template_name = "registration/login.html"
    redirect_authenticated_user = True

    def get_context_data(self, **kwargs):
        return {**super().get_context_data(**kwargs), "shared_minutes": _shared_minutes()}

    def post(self, request, *args, **kwargs):
        if address_refused(request):
            return locked_out_page(request, address_refused_message())
        return super().post(request, *args, **kwargs)

    def form_valid(self, form):
        user = form.get_user()
        shared = form.cleaned_data["shared_device"]
        if not signin.second_factor_required(user):
            sign_in(self.request, user, shared_device=shared)
            return HttpResponseRedirect(self.get_success_url())
        self.request.session[PENDING] = {
            "user": user.pk,
            "backend": user.backend,
            "shared": shared,
            "next": self.get_success_url(),
            "at": int(time.time()),
        }
        return redirect("login-code" if signin.confirmed_device(user) else "two-factor-setup")


def _shared_minutes() -> int:
    return max(1, settings.SHARED_DEVICE_SESSION_SECONDS // 60)


def _pending(request: HttpRequest) -> tuple[User | None, dict]:
    pending = request.session.get(PENDING) or {}
    if not pending or time.time() - pending["at"] > PENDING_SECONDS:
        return None, {}
    return User.objects.filter(pk=pending["user"], is_active=True).first(), pending


def _start_again(request: HttpRequest) -> HttpResponse:
    request.session.pop(PENDING, None)
    messages.info(request, _("Sign in again: enter your username and password."))
    return redirect("login")


def _finish(request: HttpRequest, user: User, pending: dict, device) -> HttpResponse:
    request.session.pop(PENDING, None)
    # Setting up the authenticator raised the credentials version (older sessions end): sign in under the new one.
    user.refresh_from_db(fields=["credentials_version"])
    sign_in(request, user, shared_device=pending["shared"], backend=pending["backend"], device=device)
    return HttpResponseRedirect(pending["next"])


@sensitive_post_parameters("otp")
@never_cache
@csrf_protect
def sign_in_code(request: HttpRequest) -> HttpResponse:
    """Step two: the code from the app the user set up."""
    user, pending = _pending(request)
    if user is None:
        return _start_again(request)
    if signin.confirmed_device(user) is None:
        return redirect("two-factor-setup")
    form = CodeForm(request.POST or None)
    device = saved(form, lambda data: signin.second_factor_verify(user=user, code=data["otp"]))
    if device is not None:
        return _finish(request, user, pending, device)
    return render(request, "registration/login_code.html", {"form": form, "pending_user": user})


@sensitive_post_parameters("otp")
@never_cache
@csrf_protect
def two_factor_setup(request: HttpRequest) -> HttpResponse:
    """First sign-in of a staff account: the secret as a QR code and as text; the first code confirms it."""
    user, pending = _pending(request)
    if user is None:
        return _start_again(request)
    if signin.confirmed_device(user) is not None:
        return redirect("login-code")
    device = signin.totp_device_start(user=user)
    form = CodeForm(request.POST or None)
    confirmed = saved(form, lambda data: signin.totp_device_confirm(device=device, code=data["otp"]))
    if confirmed is not None:
        messages.success(request, _("Two-factor sign-in is set up. Keep the app on your phone: you need it each time."))
        return _finish(request, user, pending, confirmed)
    return render(
        request,
        "registration/two_factor_setup.html",
        {
            "form": form,
            "pending_user": user,
            "qr_code": signin.qr_code_svg(device),
            "secret": signin.secret_for_typing(device),
        },
    )


def locked_out_page(request: HttpRequest, message: str) -> HttpResponse:
    """The sign-in page with the lockout message instead of the form's own error (status 429)."""
    form = SignInForm(request, initial={"username": request.POST.get("username", "")})
    context = {
        "form": form,
        "locked_out": message,
        "next": request.POST.get("next", ""),
        "shared_minutes": _shared_minutes(),
    }
    return render(request, "registration/login.html", context, status=429)


def admin_login(request: HttpRequest) -> HttpResponse:
    """The admin site signs in through the site's own page, so its lockout and second factor apply there too."""
    if request.user.is_authenticated:
        if request.user.is_active and request.user.is_staff:
            return redirect("admin:index")
        raise PermissionDenied
    target = request.GET.get("next", "")
    if not url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        target = reverse("admin:index")
    return redirect(f"{reverse('login')}?{urlencode({'next': target})}")


@login_required
def devices(request: HttpRequest) -> HttpResponse:
    """The account's signed-in phones and apps (API tokens): revoke one, or sign out everywhere."""
    user = request.user
    if request.method == "POST":
        if request.POST.get("everywhere"):
            revoked = credentials.sign_out_everywhere(request=request)
            messages.success(
                request,
                ngettext(
                    "You are signed out everywhere else: %(count)d device must sign in again.",
                    "You are signed out everywhere else: %(count)d devices must sign in again.",
                    revoked,
                )
                % {"count": revoked},
            )
        else:
            token = get_object_or_404(
                credentials.tokens_visible_to(user).filter(user=user), token_key=request.POST.get("token", "")
            )
            credentials.token_revoke(token=token, by=user)
            messages.success(request, _("The device is signed out: it must sign in again."))
        return redirect("devices")
    tokens = credentials.tokens_visible_to(user).filter(user=user)
    return render(request, "registration/devices.html", {"tokens": tokens})
