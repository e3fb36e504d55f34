"""The one rule enforced on every save of an account, whichever path made it (pages, API, the admin site, a
management command, a password reset): when the credentials change, tokens and older sessions end.

A signal, not a service, because Django's own views (password change and reset, the admin's user form) save
accounts without going through our services; the work itself is `services.credentials.credentials_changed`.
Also: the cached reference lists (`selectors.reference`) are dropped on any save of one of their rows, the admin
site's included.
"""

from django.db import transaction
from django.db.models.signals import post_delete, post_save, pre_save
from django.dispatch import receiver
from django_otp.plugins.otp_totp.models import TOTPDevice

from .models import Category, District, Outcome, User
from .selectors import reference
from .services.credentials import credentials_changed

# A change of any of these ends the account's tokens and other sessions.
WATCHED = ("password", "is_active", "role", "is_staff", "is_superuser", "chief_region_id")


@receiver(pre_save, sender=User, dispatch_uid="patrols-credentials-before")
def _remember_credentials(sender, instance: User, update_fields=None, raw=False, **kwargs) -> None:
    instance._credentials_changed = False
    if raw or instance.pk is None:
        return
    watched = [name for name in WATCHED if update_fields is None or name.removesuffix("_id") in update_fields]
    if not watched:
        return
    before = User.objects.filter(pk=instance.pk).values(*watched).first()
    instance._credentials_changed = before is not None and any(
        before[name] != getattr(instance, name) for name in watched
    )


@receiver(post_save, sender=User, dispatch_uid="patrols-credentials-after")
def _end_old_credentials(sender, instance: User, raw=False, **kwargs) -> None:
    if not raw and getattr(instance, "_credentials_changed", False):
        instance._credentials_changed = False
        credentials_changed(instance)


@receiver(pre_save, sender=TOTPDevice, dispatch_uid="patrols-second-factor-before")
def _remember_confirmation(sender, instance: TOTPDevice, raw=False, **kwargs) -> None:
    # django-otp saves the device whole on every code it checks: only the step to "confirmed" counts here.
    was = instance.pk is not None and TOTPDevice.objects.filter(pk=instance.pk, confirmed=True).exists()
    instance._newly_confirmed = not raw and instance.confirmed and not was


@receiver(post_save, sender=TOTPDevice, dispatch_uid="patrols-second-factor-set")
def _second_factor_set(sender, instance: TOTPDevice, **kwargs) -> None:
    """A newly confirmed authenticator (a new phone set up): what was signed in before it ends."""
    if getattr(instance, "_newly_confirmed", False):
        instance._newly_confirmed = False
        credentials_changed(instance.user)


@receiver(post_delete, sender=TOTPDevice, dispatch_uid="patrols-second-factor-removed")
def _second_factor_removed(sender, instance: TOTPDevice, **kwargs) -> None:
    """An authenticator removed (a lost phone): its tokens and sessions end."""
    if instance.confirmed:
        credentials_changed(instance.user)


@receiver(post_save, sender=Category, dispatch_uid="patrols-category-saved")
@receiver(post_delete, sender=Category, dispatch_uid="patrols-category-deleted")
@receiver(post_save, sender=Outcome, dispatch_uid="patrols-outcome-saved")
@receiver(post_delete, sender=Outcome, dispatch_uid="patrols-outcome-deleted")
@receiver(post_save, sender=District, dispatch_uid="patrols-district-saved")
@receiver(post_delete, sender=District, dispatch_uid="patrols-district-deleted")
def _reference_changed(sender, **kwargs) -> None:
    """A category, outcome or district changed: the cached lists go now and again once the change is committed
    (a request in between may have refilled them with the rows from before)."""
    reference.reference_changed()
    transaction.on_commit(reference.reference_changed)
