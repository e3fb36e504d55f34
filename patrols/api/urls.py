from django.urls import include, path
from rest_framework.routers import DefaultRouter

from . import (
    audit,
    callouts,
    certificates,
    channels,
    dashboard,
    duty,
    escalation,
    nominations,
    prevention,
    push,
    report_exports,
    reports,
    roster_imports,
    sos,
    views,
)

router = DefaultRouter()
router.register("regions", views.RegionViewSet, basename="region")
router.register("districts", views.DistrictViewSet, basename="district")
router.register("settlements", views.SettlementViewSet, basename="settlement")
router.register("groups", views.GroupViewSet, basename="group")
router.register("volunteers", views.VolunteerViewSet, basename="volunteer")
router.register("roster-imports", roster_imports.RosterImportViewSet, basename="roster-import")
router.register("zones", views.ZoneViewSet, basename="zone")
router.register("shifts", views.ShiftViewSet, basename="shift")
router.register("series", views.ShiftSeriesViewSet, basename="series")
router.register("notifications", views.NotificationViewSet, basename="notification")
router.register("categories", reports.CategoryViewSet, basename="category")
router.register("outcomes", reports.OutcomeViewSet, basename="outcome")
router.register("reports", reports.ReportViewSet, basename="report")
router.register("report-exports", report_exports.ReportExportViewSet, basename="report-export")
router.register("callouts", callouts.CallOutViewSet, basename="callout")
router.register("nominations", nominations.NominationViewSet, basename="nomination")
router.register("topics", prevention.TopicViewSet, basename="topic")
router.register("meetings", prevention.MeetingViewSet, basename="meeting")
router.register("initiative-kinds", prevention.InitiativeKindViewSet, basename="initiative-kind")
router.register("initiatives", prevention.InitiativeViewSet, basename="initiative")
router.register("settlement-crimes", prevention.CrimeCountViewSet, basename="settlement-crime")
router.register("benchmarks", dashboard.BenchmarkViewSet, basename="benchmark")
router.register("access-log", audit.AccessLogViewSet, basename="access-log")
router.register("auth/tokens", views.ApiTokenViewSet, basename="api-token")
router.register("sos", sos.SosViewSet, basename="sos")

app_name = "api"
urlpatterns = [
    path("auth/token/", views.TokenView.as_view(), name="token"),
    path("me/", views.MeView.as_view(), name="me"),
    path("me/channels/", channels.MyChannelsView.as_view(), name="my-channels"),
    path("dashboard/totals/", dashboard.TotalsView.as_view(), name="dashboard-totals"),
    path("reports/export/", report_exports.ReportExportStreamView.as_view(), name="report-export-stream"),
    path("dashboard/activity/", dashboard.ActivityView.as_view(), name="dashboard-activity"),
    path("dashboard/map/", dashboard.MapView.as_view(), name="dashboard-map"),
    path("duty/now/", duty.DutyNowView.as_view(), name="duty-now"),
    path("duty/consent/", duty.DutyConsentView.as_view(), name="duty-consent"),
    path("push-subscriptions/", push.PushSubscriptionsView.as_view(), name="push-subscriptions"),
    path("certificates/<str:code>/", certificates.CertificateCheckView.as_view(), name="certificate-check"),
    path("assignments/<int:pk>/ok/", sos.AssignmentOkView.as_view(), name="assignment-ok"),
    path("assignments/<int:pk>/positions/", duty.AssignmentPositionsView.as_view(), name="assignment-positions"),
    path(
        "integrations/duty-units/<int:unit_id>/escalations/<uuid:key>/status/",
        escalation.EscalationStatusView.as_view(),
        name="escalation-status",
    ),
    path("", include(router.urls)),
]
