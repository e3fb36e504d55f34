"""Template filters for personal data shown masked, and the helpers of the patrol pages."""

from django import template
from leaflet.templatetags.leaflet_tags import leaflet_map

from .. import scope
from ..validators import mask_iin, mask_phone

register = template.Library()

# django-leaflet's "reset view" button zooms out to the whole world and shows no icon when its image path is
# configured through json_script; the zoom buttons are enough on these maps.
MAP_OVERRIDES = {"RESET_VIEW": False}


@register.filter
def masked_phone(value: str) -> str:
    return mask_phone(value)


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
