"""Template filters for personal data shown masked."""

from django import template

from ..validators import mask_iin, mask_phone

register = template.Library()


@register.filter
def masked_phone(value: str) -> str:
    return mask_phone(value)


@register.filter
def masked_iin(value: str) -> str:
    return mask_iin(value)
