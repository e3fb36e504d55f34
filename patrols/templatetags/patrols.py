"""Template filters for personal data shown masked, and the helpers of the patrol pages."""

from django import template
from django.urls import reverse
from django.utils.translation import gettext_lazy
from leaflet.templatetags.leaflet_tags import leaflet_map

from .. import scope
from ..choices import Role
from ..validators import NBSP, format_phone, mask_iin, mask_phone

register = template.Library()

# django-leaflet's "reset view" button zooms out to the whole world and shows no icon when its image path is
# configured through json_script; the zoom buttons are enough on these maps.
MAP_OVERRIDES = {"RESET_VIEW": False}


@register.filter
def phone(value: str) -> str:
    """A Kazakh mobile number as people read it, +7 701 234 56 78 (no-break spaces); `tel:` links keep E.164."""
    return format_phone(value)


@register.filter
def masked_phone(value: str) -> str:
    return mask_phone(value).replace(" ", NBSP)


@register.filter
def masked_iin(value: str) -> str:
    return mask_iin(value)


@register.filter
def is_police(user) -> bool:
    """Inspectors, chiefs, analysts and admins: the roles that plan and watch patrols."""
    return scope.is_police(user)


@register.simple_tag
def map_options() -> str:
    """django-leaflet's map options (tiles, zoom limits, default view) as JSON, for a map that static/js/maps.js
    starts from a data-options attribute instead of an inline script."""
    return leaflet_map("map", settings_overrides=MAP_OVERRIDES)["djoptions"]


# The top menu: what each kind of person opens most, first (a thumb reaches three or four on a phone); the rest
# under "More". Each entry: (URL name, label, the URL names that count as being on it).
_VOLUNTEER_NAV = (
    ("home", gettext_lazy("Home"), ()),
    ("shift-list", gettext_lazy("Shifts"), ("shift-detail",)),
    ("report-new", gettext_lazy("New report"), ()),
    ("report-list", gettext_lazy("My reports"), ("report-detail",)),
)
_POLICE_NAV = (
    ("home", gettext_lazy("Home"), ()),
    ("shift-list", gettext_lazy("Shifts"), ("shift-detail", "shift-create", "shift-edit", "series-create")),
    ("verify-queue", gettext_lazy("Verify"), ("report-detail",)),
    ("dashboard", gettext_lazy("Dashboard"), ("dashboard-targets",)),
)
_MORE_NAV = (
    ("duty-board", gettext_lazy("On duty now"), ()),
    ("callout-new", gettext_lazy("Call for people"), ("callout-detail",)),
    ("group-list", gettext_lazy("Groups"), ("group-detail", "group-create", "group-edit")),
    ("volunteer-list", gettext_lazy("Volunteers"), ("volunteer-detail", "volunteer-create", "volunteer-edit")),
    ("zone-list", gettext_lazy("Zones"), ("zone-create", "zone-edit")),
    ("village-list", gettext_lazy("Villages"), ("village-detail", "crime-import")),
    ("meeting-list", gettext_lazy("Meetings"), ("meeting-detail", "meeting-new")),
    ("nomination-list", gettext_lazy("Rewards"), ("nomination-detail",)),
)


@register.simple_tag(takes_context=True)
def main_nav(context) -> dict:
    """The signed-in person's menu: `primary` entries and `more`, each {url, label, current}."""
    request = context["request"]
    user = request.user
    current = getattr(request.resolver_match, "url_name", None)
    police = scope.is_police(user)
    allowed = {"group-list"}
    if scope.role_of(user) != Role.VOLUNTEER:
        allowed.add("volunteer-list")
    if police:
        allowed |= {"zone-list", "village-list", "meeting-list", "nomination-list"}
    # The live board: the police and group leaders (the page itself checks that the leader leads a group).
    if police or scope.role_of(user) == Role.LEADER:
        allowed.add("duty-board")
    # A call-out is made by whoever plans the district's shifts.
    if scope.role_of(user) in {Role.INSPECTOR, Role.ADMIN}:
        allowed.add("callout-new")

    def entries(items) -> list[dict]:
        return [
            {"url": reverse(name), "label": label, "current": current == name or current in also}
            for name, label, also in items
        ]

    more = entries(item for item in _MORE_NAV if item[0] in allowed)
    return {
        "primary": entries(_POLICE_NAV if police else _VOLUNTEER_NAV),
        "more": more,
        "more_current": any(item["current"] for item in more),
    }
