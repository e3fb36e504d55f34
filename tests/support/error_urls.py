"""The site's addresses plus one that fails with personal data in its error, for the log and Sentry tests."""

import logging

from django.urls import path
from django.views.decorators.csrf import csrf_exempt

from coordination.urls import urlpatterns as site_urlpatterns

# A volunteer's IIN (valid checksum) and phone that the failing view puts in its log line and its error.
IIN = "900314300124"
PHONE = "+77015550123"

logger = logging.getLogger("tests.error_site")


@csrf_exempt
def failing_import(request):
    """Fails as a careless import step would: the row's IIN and phone in a log line and in the exception."""
    logger.warning("Checking roster row of %s (%s)", IIN, PHONE)
    raise RuntimeError(f"Roster row rejected: IIN {IIN}, phone {PHONE}, body {request.body[:200]!r}")


urlpatterns = [path("api/v1/test-failure/", failing_import, name="test-failure"), *site_urlpatterns]
