from django.urls import include, path
from rest_framework.routers import DefaultRouter

from . import reports, views

router = DefaultRouter()
router.register("regions", views.RegionViewSet, basename="region")
router.register("districts", views.DistrictViewSet, basename="district")
router.register("settlements", views.SettlementViewSet, basename="settlement")
router.register("groups", views.GroupViewSet, basename="group")
router.register("volunteers", views.VolunteerViewSet, basename="volunteer")
router.register("zones", views.ZoneViewSet, basename="zone")
router.register("shifts", views.ShiftViewSet, basename="shift")
router.register("series", views.ShiftSeriesViewSet, basename="series")
router.register("notifications", views.NotificationViewSet, basename="notification")
router.register("categories", reports.CategoryViewSet, basename="category")
router.register("outcomes", reports.OutcomeViewSet, basename="outcome")
router.register("reports", reports.ReportViewSet, basename="report")

app_name = "api"
urlpatterns = [
    path("auth/token/", views.TokenView.as_view(), name="token"),
    path("me/", views.MeView.as_view(), name="me"),
    path("", include(router.urls)),
]
