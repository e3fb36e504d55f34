"""Rate limits of the API's costly or abusable writes. Rates come from settings (THROTTLE_* in the environment) and
are read on each request; the counts live in the default cache (Redis), shared by all web processes."""

from rest_framework.settings import api_settings
from rest_framework.throttling import SimpleRateThrottle

from ..auth import client_ip


class _ScopeThrottle(SimpleRateThrottle):
    def get_rate(self) -> str | None:
        return api_settings.DEFAULT_THROTTLE_RATES.get(self.scope)

    def get_ident(self, request) -> str:
        return client_ip(request)


class TokenThrottle(_ScopeThrottle):
    """Per client address: nobody is signed in yet."""

    scope = "token"

    def get_cache_key(self, request, view) -> str:
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


class _PerUserThrottle(_ScopeThrottle):
    """Per signed-in user, so volunteers behind one mobile-network address do not share a limit."""

    def get_cache_key(self, request, view) -> str:
        ident = request.user.pk if request.user.is_authenticated else self.get_ident(request)
        return self.cache_format % {"scope": self.scope, "ident": ident}


class ReportThrottle(_PerUserThrottle):
    scope = "reports"


class SignupThrottle(_PerUserThrottle):
    scope = "signup"


class PhotoThrottle(_PerUserThrottle):
    scope = "photos"


class PushThrottle(_PerUserThrottle):
    scope = "push"


class CertificateCheckThrottle(TokenThrottle):
    """Checks of certificate codes, per client address, signed in or not: the public page and the API count together,
    so codes cannot be tried in bulk by switching between them."""

    scope = "certificate_check"
