"""Every fixed list of the domain, with translated labels (names from DESIGN.md's vocabulary)."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class RegionKind(models.TextChoices):
    REGION = "region", _("Region")
    CITY = "city", _("City of republican significance")


class Role(models.TextChoices):
    VOLUNTEER = "volunteer", _("Volunteer")
    LEADER = "leader", _("Group leader")
    INSPECTOR = "inspector", _("District inspector")
    CHIEF = "chief", _("Regional chief")
    ANALYST = "analyst", _("Analyst")
    ADMIN = "admin", _("Administrator")


class GroupKind(models.TextChoices):
    PUBLIC_ASSISTANTS = "public_assistants", _("Public assistants to the police")
    STUDENT_SQUAD = "student_squad", _("Student squad")
    SAKSHY = "sakshy", _("Sakshy")
    SARBAZ = "sarbaz", _("Sarbaz")


VILLAGE_GROUP_KINDS = frozenset({GroupKind.SAKSHY, GroupKind.SARBAZ})


class VolunteerStatus(models.TextChoices):
    APPLICANT = "applicant", _("Applicant")
    VETTED = "vetted", _("Police check passed")
    REGISTERED = "registered", _("Registered")
    SUSPENDED = "suspended", _("Suspended")
    RETIRED = "retired", _("Retired")
    REFUSED = "refused", _("Refused")


class RosterImportStatus(models.TextChoices):
    PENDING = "pending", _("Waiting")
    RUNNING = "running", _("Checking rows")
    FAILED = "failed", _("Rejected: errors found")
    DONE = "done", _("Imported")
