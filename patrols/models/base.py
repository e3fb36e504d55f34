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
