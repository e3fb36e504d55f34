"""`manage.py vapid_keys`: a new key pair for web push; VAPID_PRIVATE_KEY takes the private one."""

from django.core.management.base import BaseCommand
from django.utils.translation import gettext as _

from ...services.webpush import vapid_keys_generate


class Command(BaseCommand):
    @property
    def help(self) -> str:
        """The command's description, in the active language (argparse needs a plain string)."""
        return _(
            "Print a new VAPID key pair for notifications on phones (web push): set VAPID_PRIVATE_KEY to the "
            "private key; the public key is derived from it, browsers subscribe with it. Changing the key later "
            "stops every subscription made with the old one."
        )

    def handle(self, *args, **options) -> None:
        private_key, public_key = vapid_keys_generate()
        # The first line is ready for an environment file; nothing else is needed in the environment.
        self.stdout.write(f"VAPID_PRIVATE_KEY={private_key}")
        self.stdout.write(_("Public key (derived from it, nothing to set): %(key)s") % {"key": public_key})
