"""`GET /metrics`: Prometheus's scrape, for the bearer token METRICS_TOKEN or the addresses METRICS_ALLOWED_IPS only."""

from django.http import Http404, HttpRequest, HttpResponse, HttpResponseForbidden
from django.views.decorators.cache import never_cache

from .auth import client_ip
from .services import metrics as metrics_service


@never_cache
def metrics(request: HttpRequest) -> HttpResponse:
    # Off until configured: the address answers like any that does not exist.
    if not metrics_service.scrape_enabled():
        raise Http404
    allowed = metrics_service.scrape_allowed(
        authorization=request.headers.get("Authorization", ""), address=client_ip(request)
    )
    if not allowed:
        return HttpResponseForbidden(b"A bearer token or an allowed address is needed.\n", content_type="text/plain")
    body, content_type = metrics_service.exposition(accept=request.headers.get("Accept", ""))
    return HttpResponse(body, content_type=content_type)
