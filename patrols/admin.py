"""Django admin for administrators, with Leaflet map widgets for every geometry."""

from django import forms
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from leaflet import PLUGIN_FORMS, PLUGINS
from leaflet.admin import LeafletGeoAdmin

from .choices import AccessChannel
from .models import (
    AccessLogEntry,
    ApiToken,
    Benchmark,
    Category,
    Certificate,
    District,
    DutyUnit,
    Group,
    Initiative,
    InitiativeKind,
    McIValue,
    Meeting,
    Membership,
    RecognitionRules,
    Region,
    RewardBudget,
    RosterImport,
    Settlement,
    SettlementCrimeCount,
    Topic,
    User,
    Volunteer,
    VolunteerStatusChange,
)
from .services import audit
from .web.schedule_forms import ZoneMapWidget


class AdminMapWidget(ZoneMapWidget):
    """The site's map field, with the scripts the admin page lacks: no inline script, as the CSP requires."""

    @property
    def media(self):
        # One list, so the admin's media merge keeps maps.js after Leaflet and its plugins; the catalogue and
        # map-locale.js put the drawing tools into the administrator's language before the maps start.
        forms_plugin = PLUGINS[PLUGIN_FORMS]
        return forms.Media(
            js=[
                "leaflet/leaflet.js",
                "leaflet/leaflet.extras.js",
                *forms_plugin["js"],
                reverse("javascript-catalog"),
                "js/formats.js",
                "js/map-locale.js",
                "js/maps.js",
            ],
            css={"screen": ["leaflet/leaflet.css", *forms_plugin["css"], "css/admin-maps.css"]},
        )


class MapAdmin(LeafletGeoAdmin):
    """django-leaflet's admin with our map widget instead of its own, which starts the map from an inline script."""

    widget = AdminMapWidget
    map_template = ZoneMapWidget.template_name


@admin.register(Region)
class RegionAdmin(MapAdmin):
    list_display = ["code", "name_kk", "name_ru", "name_en", "kind"]
    search_fields = ["code", "name_kk", "name_ru", "name_en"]


@admin.register(District)
class DistrictAdmin(MapAdmin):
    list_display = ["code", "name_kk", "name_ru", "region", "checkin_max_distance_m"]
    list_filter = ["region"]
    search_fields = ["code", "name_kk", "name_ru", "name_en"]


@admin.register(Settlement)
class SettlementAdmin(MapAdmin):
    list_display = ["code", "name_kk", "name_ru", "district"]
    list_filter = ["district__region"]
    search_fields = ["code", "name_kk", "name_ru", "name_en"]
    autocomplete_fields = ["district"]


@admin.register(DutyUnit)
class DutyUnitAdmin(admin.ModelAdmin):
    """The duty units' contacts: who gets an alarm or an escalated report after the shift's own people."""

    list_display = ("name", "level", "region", "district", "email", "is_active")
    list_filter = ("level", "region", "is_active")
    search_fields = ("name", "district__code", "region__code")
    autocomplete_fields = ("district",)
    # The key is made by the app and handed to the unit's system, which signs its answers with it.
    readonly_fields = ("secret",)


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    list_display = ["username", "first_name", "last_name", "role", "chief_region", "is_active"]
    list_filter = ["role", "is_active", "is_staff"]
    fieldsets = [
        *BaseUserAdmin.fieldsets,
        (_("Role and scope"), {"fields": ["role", "inspector_districts", "chief_region", "language", "phone"]}),
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
    readonly_fields = ["anonymised_at"]
    inlines = [MembershipInline, StatusChangeInline]

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        # The change form shows the IIN unmasked: the administrator's reading goes to the access log.
        if obj is not None:
            audit.volunteer_iin_shown(request, obj, how=AccessChannel.WEB)
        return super().render_change_form(request, context, add=add, change=change, form_url=form_url, obj=obj)


@admin.register(Group)
class GroupAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "district", "leader", "is_active"]
    list_filter = ["kind", "is_active", "district__region"]
    search_fields = ["name", "institution"]
    autocomplete_fields = ["district", "settlement", "leader", "inspector"]
    inlines = [MembershipInline]


@admin.register(Benchmark)
class BenchmarkAdmin(admin.ModelAdmin):
    """Yearly targets per scope, set by administrators; dashboards measure verified totals against them."""

    list_display = [
        "year",
        "level",
        "region",
        "district",
        "prevented_target",
        "solved_target",
        "meetings_target",
        "initiative_target",
        "crime_free_target",
        "updated_at",
    ]
    list_filter = ["year", "level", "region"]
    autocomplete_fields = ["region", "district"]


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    """The managed list of offense types, in three languages."""

    list_display = ["code", "name_kk", "name_ru", "name_en", "sort_order", "is_active"]
    list_editable = ["sort_order", "is_active"]
    search_fields = ["code", "name_kk", "name_ru", "name_en"]


@admin.register(Topic, InitiativeKind)
class ManagedListAdmin(admin.ModelAdmin):
    """The managed lists of meeting topics and kinds of village initiative, in three languages."""

    list_display = ["code", "name_kk", "name_ru", "name_en", "sort_order", "is_active"]
    list_editable = ["sort_order", "is_active"]
    search_fields = ["code", "name_kk", "name_ru", "name_en"]


class ReadOnlyAdmin(admin.ModelAdmin):
    """Kept by the services, which keep their history and the tallies with them: the admin only reads."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Meeting)
class MeetingAdmin(ReadOnlyAdmin):
    list_display = ["held_at", "settlement", "district", "kind", "status", "residents"]
    list_filter = ["status", "kind"]
    search_fields = ["settlement__name_kk", "settlement__name_ru", "settlement__code"]


@admin.register(Initiative)
class InitiativeAdmin(ReadOnlyAdmin):
    list_display = ["settlement", "kind", "adopted_on", "status", "lapsed_on"]
    list_filter = ["status", "kind"]


@admin.register(SettlementCrimeCount)
class SettlementCrimeCountAdmin(ReadOnlyAdmin):
    list_display = ["settlement", "month", "registered", "source", "updated_at"]
    list_filter = ["month"]


@admin.register(RosterImport)
class RosterImportAdmin(admin.ModelAdmin):
    list_display = ["original_name", "district", "uploaded_by", "status", "total_rows", "created_at"]
    list_filter = ["status"]
    readonly_fields = ["errors"]


@admin.register(AccessLogEntry)
class AccessLogEntryAdmin(admin.ModelAdmin):
    """The access log is evidence: administrators read and filter it, nobody adds, changes or deletes entries."""

    list_display = ["at", "username", "kind", "object_id", "how", "path", "ip"]
    list_filter = ["kind", "how", "at", ("user", admin.RelatedOnlyFieldListFilter)]
    search_fields = ["username", "path"]
    date_hierarchy = "at"

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(McIValue)
class McIValueAdmin(admin.ModelAdmin):
    """The year's monthly calculation index in tenge, from the budget law: cash rewards are counted in it."""

    list_display = ["year", "tenge"]


@admin.register(RewardBudget)
class RewardBudgetAdmin(admin.ModelAdmin):
    """What the maslikhat gave each district for cash rewards per quarter; the commission's grants stay within it."""

    list_display = ["district", "year", "quarter", "tenge"]
    list_filter = ["year", "quarter", "district__region"]
    search_fields = ["district__code", "district__name_kk", "district__name_ru", "district__name_en"]
    autocomplete_fields = ["district"]


@admin.register(RecognitionRules)
class RecognitionRulesAdmin(admin.ModelAdmin):
    """What each district asks of a volunteer to be proposed for a reward (its inspector also sets them on
    /nominations/)."""

    list_display = ["district", "min_hours", "min_prevented", "max_no_shows", "updated_at", "updated_by"]
    list_filter = ["district__region"]
    autocomplete_fields = ["district"]
    readonly_fields = ["updated_at", "updated_by"]

    def save_model(self, request, obj, form, change) -> None:
        obj.updated_by = request.user
        super().save_model(request, obj, form, change)


@admin.register(Certificate)
class CertificateAdmin(ReadOnlyAdmin):
    """Certificates of service are issued and revoked on the volunteer's service page (services/certificates.py),
    which keeps what they show frozen: the admin finds and reads them."""

    list_display = ["code", "holder", "period_start", "period_end", "issuer", "language", "issued_at", "revoked_at"]
    list_filter = [("revoked_at", admin.EmptyFieldListFilter), "language", "volunteer__district__region"]
    search_fields = ["code", "holder", "volunteer__last_name"]
    date_hierarchy = "issued_at"


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    """Devices' API tokens: only a hash is kept, so they are listed and revoked (deleted), never shown or made here."""

    list_display = ["user", "device", "created", "last_used_at", "expiry", "with_second_factor"]
    list_filter = ["with_second_factor"]
    search_fields = ["user__username", "device", "token_key"]
    readonly_fields = ["token_key", "user", "device", "created", "last_used_at", "expiry", "with_second_factor"]
    fields = readonly_fields

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
