"""Shared pieces of the models."""

from django.db import models
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from ..validators import KATO_LENGTH, validate_kato


class KatoCoded(models.Model):
    """A place of the country's classifier (KATO): its 9-digit code beside the app's own `code`."""

    kato = models.CharField(
        _("KATO code"),
        max_length=KATO_LENGTH,
        unique=True,
        null=True,
        blank=True,
        validators=[validate_kato],
        help_text=_("The 9-digit code of the classifier of administrative-territorial objects (KATO)."),
    )

    class Meta:
        abstract = True


class NamedInThreeLanguages(models.Model):
    """A name in Kazakh, Russian and English; `name` gives the one of the active language."""

    name_kk = models.CharField(_("name (Kazakh)"), max_length=200)
    name_ru = models.CharField(_("name (Russian)"), max_length=200)
    name_en = models.CharField(_("name (English)"), max_length=200)

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return self.name

    @property
    def name(self) -> str:
        language = (get_language() or "kk")[:2]
        return getattr(self, f"name_{language}", "") or self.name_kk


class ManagedList(NamedInThreeLanguages):
    """An entry of a list administrators keep in three languages: a code, its place in the list, in use or not."""

    code = models.SlugField(_("code"), max_length=40, unique=True)
    sort_order = models.PositiveSmallIntegerField(_("order"), default=100)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        abstract = True
        ordering = ["sort_order", "code"]


class CheckedPhoto(models.Model):
    """What is kept of an uploaded photo beside its image: the cleaned picture's size and the upload's checksum
    (services/photos.py); the same photo sent again is recognised by the checksum."""

    width = models.PositiveIntegerField(_("width"), default=0)
    height = models.PositiveIntegerField(_("height"), default=0)
    size_bytes = models.PositiveIntegerField(_("size in bytes"), default=0)
    sha256 = models.CharField(_("checksum of the upload"), max_length=64)
    created_at = models.DateTimeField(_("uploaded at"), auto_now_add=True)

    class Meta:
        abstract = True
