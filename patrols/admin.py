"""Django admin for administrators, with Leaflet map widgets for every geometry."""

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.utils.translation import gettext_lazy as _
from leaflet.admin import LeafletGeoAdmin

from .models import (
    District,
    Group,
    Membership,
    Region,
    RosterImport,
    Settlement,
    User,
    Volunteer,
    VolunteerStatusChange,
)


@admin.register(Region)
class RegionAdmin(LeafletGeoAdmin):
    list_display = ["code", "name_kk", "name_ru", "name_en", "kind"]
    search_fields = ["code", "name_kk", "name_ru", "name_en"]


@admin.register(District)
class DistrictAdmin(LeafletGeoAdmin):
    list_display = ["code", "name_kk", "name_ru", "region"]
    list_filter = ["region"]
    search_fields = ["code", "name_kk", "name_ru", "name_en"]


@admin.register(Settlement)
class SettlementAdmin(LeafletGeoAdmin):
    list_display = ["code", "name_kk", "name_ru", "district"]
    list_filter = ["district__region"]
    search_fields = ["code", "name_kk", "name_ru", "name_en"]
    autocomplete_fields = ["district"]


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    list_display = ["username", "first_name", "last_name", "role", "chief_region", "is_active"]
    list_filter = ["role", "is_active", "is_staff"]
    fieldsets = [
        *BaseUserAdmin.fieldsets,
        (_("Role and scope"), {"fields": ["role", "inspector_districts", "chief_region", "language"]}),
    ]
    filter_horizontal = ["inspector_districts", "groups", "user_permissions"]


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ["volunteer", "group"]


class StatusChangeInline(admin.TabularInline):
    model = VolunteerStatusChange
    extra = 0
    can_delete = False
    readonly_fields = ["from_status", "to_status", "note", "by", "at"]

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Volunteer)
class VolunteerAdmin(admin.ModelAdmin):
    list_display = ["full_name", "district", "status", "registration_number", "badge_number"]
    list_filter = ["status", "district__region"]
    search_fields = ["last_name", "first_name", "iin", "registration_number", "badge_number"]
    autocomplete_fields = ["district", "user"]
    inlines = [MembershipInline, StatusChangeInline]


@admin.register(Group)
class GroupAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "district", "leader", "is_active"]
    list_filter = ["kind", "is_active", "district__region"]
    search_fields = ["name", "institution"]
    autocomplete_fields = ["district", "settlement", "leader", "inspector"]
    inlines = [MembershipInline]


@admin.register(RosterImport)
class RosterImportAdmin(admin.ModelAdmin):
    list_display = ["original_name", "district", "uploaded_by", "status", "total_rows", "created_at"]
    list_filter = ["status"]
    readonly_fields = ["errors"]
