from django.contrib.auth import views as auth_views
from django.urls import path

from . import views

urlpatterns = [
    path(
        "accounts/login/",
        auth_views.LoginView.as_view(template_name="registration/login.html", redirect_authenticated_user=True),
        name="login",
    ),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("", views.home, name="home"),
    path("groups/", views.group_list, name="group-list"),
    path("groups/new/", views.group_create, name="group-create"),
    path("groups/<int:pk>/", views.group_detail, name="group-detail"),
    path("groups/<int:pk>/edit/", views.group_edit, name="group-edit"),
    path("groups/<int:pk>/members/add/", views.group_member, {"change": "add"}, name="group-member-add"),
    path("groups/<int:pk>/members/remove/", views.group_member, {"change": "remove"}, name="group-member-remove"),
    path("volunteers/", views.volunteer_list, name="volunteer-list"),
    path("volunteers/new/", views.volunteer_create, name="volunteer-create"),
    path("volunteers/import/", views.roster_upload, name="roster-upload"),
    path("volunteers/import/template.xlsx", views.roster_template, name="roster-template"),
    path("volunteers/import/<int:pk>/", views.roster_import_detail, name="roster-import"),
    path("volunteers/import/<int:pk>/progress/", views.roster_import_progress, name="roster-import-progress"),
    path("volunteers/<int:pk>/", views.volunteer_detail, name="volunteer-detail"),
    path("volunteers/<int:pk>/edit/", views.volunteer_edit, name="volunteer-edit"),
    path("volunteers/<int:pk>/status/", views.volunteer_status, name="volunteer-status"),
]
