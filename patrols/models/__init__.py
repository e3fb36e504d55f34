"""The domain's models, one module per concept (names from DESIGN.md's vocabulary)."""

from .geo import District, Region, Settlement
from .notify import Delivery, Notification, NotificationPreference
from .people import Group, Membership, RosterImport, User, Volunteer, VolunteerStatusChange
from .reports import Category, Outcome, Report, ReportEvent, ReportPhoto
from .schedule import Assignment, CalendarFeed, Shift, ShiftEvent, ShiftSeries, Zone

__all__ = [
    "Assignment",
    "CalendarFeed",
    "Category",
    "Delivery",
    "District",
    "Group",
    "Membership",
    "Notification",
    "NotificationPreference",
    "Outcome",
    "Region",
    "Report",
    "ReportEvent",
    "ReportPhoto",
    "RosterImport",
    "Settlement",
    "Shift",
    "ShiftEvent",
    "ShiftSeries",
    "User",
    "Volunteer",
    "VolunteerStatusChange",
    "Zone",
]
