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


class ZoneKind(models.TextChoices):
    AREA = "area", _("Patrol zone")
    ROUTE = "route", _("Patrol route")


class ShiftStatus(models.TextChoices):
    SCHEDULED = "scheduled", _("Scheduled")
    CANCELLED = "cancelled", _("Cancelled")
    CLOSED = "closed", _("Closed")


class AssignmentStatus(models.TextChoices):
    SIGNED_UP = "signed_up", _("Signed up")
    WAITLISTED = "waitlisted", _("On the waiting list")
    CHECKED_IN = "checked_in", _("Checked in")
    COMPLETED = "completed", _("Completed")
    CANCELLED = "cancelled", _("Cancelled")
    NO_SHOW = "no_show", _("Did not come")
    EXCUSED = "excused", _("Excused")


# Assignments that hold a seat on the shift (the waiting list does not).
SEAT_STATUSES = frozenset({AssignmentStatus.SIGNED_UP, AssignmentStatus.CHECKED_IN, AssignmentStatus.COMPLETED})
# Assignments that keep the volunteer busy for the shift's time (for the overlap rule).
BUSY_STATUSES = SEAT_STATUSES | {AssignmentStatus.WAITLISTED}


class ShiftEventKind(models.TextChoices):
    CREATED = "created", _("Shift created")
    UPDATED = "updated", _("Shift changed")
    CANCELLED = "cancelled", _("Shift cancelled")
    SIGNED_UP = "signed_up", _("Signed up")
    WAITLISTED = "waitlisted", _("Put on the waiting list")
    PROMOTED = "promoted", _("Moved from the waiting list to the shift")
    SIGNUP_CANCELLED = "signup_cancelled", _("Sign-up cancelled")
    CHECKED_IN = "checked_in", _("Checked in")
    CHECKED_OUT = "checked_out", _("Checked out")
    NO_SHOW = "no_show", _("Marked as not come")
    EXCUSED = "excused", _("Excused")
    CLOSED = "closed", _("Shift closed")
    UNDERSTAFFED = "understaffed", _("Flagged as understaffed")


class NotificationKind(models.TextChoices):
    SHIFT_CHANGED = "shift_changed", _("A shift you signed up for was changed")
    SHIFT_CANCELLED = "shift_cancelled", _("A shift you signed up for was cancelled")
    PROMOTED = "promoted", _("You moved from the waiting list to the shift")
    ASSIGNED = "assigned", _("You were put on a shift")
    UNDERSTAFFED = "understaffed", _("A shift is below its minimum")
