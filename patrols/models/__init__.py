"""The domain's models, one module per concept (names from DESIGN.md's vocabulary)."""

from .audit import AccessLogEntry
from .figures import Benchmark, CategoryYearTally, DistrictMonthTally, HoursTally, RegionMonthTally, ReportTally
from .geo import District, Region, Settlement
from .notify import Delivery, Notification, NotificationPreference
from .people import Group, Membership, RosterImport, User, Volunteer, VolunteerStatusChange
from .reports import Category, Outcome, Report, ReportEvent, ReportPhoto
from .schedule import Assignment, CalendarFeed, Shift, ShiftEvent, ShiftSeries, Zone
from .tokens import ApiToken

__all__ = [
    "AccessLogEntry",
    "ApiToken",
    "Assignment",
    "Benchmark",
    "CalendarFeed",
    "Category",
    "CategoryYearTally",
    "Delivery",
    "District",
    "DistrictMonthTally",
    "Group",
    "HoursTally",
    "Membership",
    "Notification",
    "NotificationPreference",
    "Outcome",
    "Region",
    "RegionMonthTally",
    "Report",
    "ReportEvent",
    "ReportPhoto",
    "ReportTally",
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
