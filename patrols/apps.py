from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PatrolsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "patrols"
    verbose_name = _("Volunteer patrols")

    def ready(self) -> None:
        from . import signals  # noqa: F401  (connects the credentials rule)
