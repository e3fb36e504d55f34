"""API tokens: one per device, stored hashed (django-rest-knox), expiring when idle and at a maximum age."""

from django.db import models
from django.utils.translation import gettext_lazy as _
from knox.models import AbstractAuthToken


class ApiToken(AbstractAuthToken):
    """A device's API token. Only a hash of the secret is kept; the phone holds the secret itself."""

    device = models.CharField(_("device"), max_length=120, blank=True)
    with_second_factor = models.BooleanField(
        _("issued with the second factor"),
        default=False,
        help_text=_("Issued after the code from the authenticator app; a police token without it is refused."),
    )
    last_used_at = models.DateTimeField(_("last used at"), null=True, blank=True)

    class Meta:
        ordering = ["-created"]
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")

    def __str__(self) -> str:
        return f"{self.user} · {self.device or self.token_key}"
