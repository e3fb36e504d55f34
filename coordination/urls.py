from django.contrib import admin
from django.urls import include, path
from django.views.i18n import JavaScriptCatalog
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from patrols.health import healthz
from patrols.metrics import metrics
from patrols.web.accounts import admin_login

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("metrics", metrics, name="metrics"),
    # The admin signs in on the site's page (lockout, second factor), not with a form of its own.
    path("admin/login/", admin_login, name="admin-login"),
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("jsi18n/", JavaScriptCatalog.as_view(), name="javascript-catalog"),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    # The split view serves Swagger UI's start-up script as a file: no inline script under the CSP.
    path(
        "api/docs/",
        SpectacularSwaggerSplitView.as_view(url_name="schema", template_name="api/swagger_ui.html"),
        name="api-docs",
    ),
    path("api/v1/", include("patrols.api.urls")),
    path("", include("patrols.web.urls")),
]
# An address under /api/ that no route matches answers in JSON like the API's own 404s.
handler400 = "patrols.api.errors.bad_request"
handler403 = "patrols.api.errors.permission_denied"
handler404 = "patrols.api.errors.not_found"
handler500 = "patrols.api.errors.server_error"
