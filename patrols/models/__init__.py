"""The domain's models, one module per concept (names from DESIGN.md's vocabulary)."""

from .audit import AccessLogEntry
from .callouts import CallOut, CallOutAnswer
from .duty import DutyConsent, PositionPing
from .duty_units import DutyUnit
from .escalation import Escalation, EscalationEvent
from .exports import ReportExport
from .figures import (
    Benchmark,
    CategoryYearTally,
    DistrictMonthTally,
    HoursTally,
    MeetingTally,
    RegionMonthTally,
    ReportTally,
    SettlementYearTally,
)
from .geo import District, Region, Settlement
from .messengers import InboundMessage, MessengerAccount, PushSubscription, TelegramLinkCode
from .notify import Delivery, Notification, NotificationPreference
from .people import Group, Membership, RosterImport, User, Volunteer, VolunteerStatusChange
from .prevention import (
    Initiative,
    InitiativeKind,
    Meeting,
    MeetingAttendee,
    MeetingEvent,
    MeetingPhoto,
    SettlementCrimeCount,
    Topic,
)
from .recognition import (
    Certificate,
    LedgerMonth,
    McIValue,
    Nomination,
    NominationItem,
    RecognitionRules,
    RewardBudget,
)
from .reports import Category, Outcome, Report, ReportEvent, ReportPhoto
from .schedule import Assignment, CalendarFeed, Shift, ShiftEvent, ShiftSeries, Zone
from .sos import SosAlarm, SosDispatch, SosEvent
from .tokens import ApiToken

__all__ = [
    "AccessLogEntry",
    "ApiToken",
    "Assignment",
    "Benchmark",
    "CalendarFeed",
    "CallOut",
    "CallOutAnswer",
    "Certificate",
    "Category",
    "CategoryYearTally",
    "Delivery",
    "DutyConsent",
    "DutyUnit",
    "District",
    "DistrictMonthTally",
    "Escalation",
    "EscalationEvent",
    "Group",
    "HoursTally",
    "InboundMessage",
    "Initiative",
    "InitiativeKind",
    "LedgerMonth",
    "McIValue",
    "Meeting",
    "MeetingTally",
    "MessengerAccount",
    "Nomination",
    "NominationItem",
    "MeetingAttendee",
    "MeetingEvent",
    "MeetingPhoto",
    "Membership",
    "Notification",
    "NotificationPreference",
    "Outcome",
    "PositionPing",
    "PushSubscription",
    "RecognitionRules",
    "Region",
    "RegionMonthTally",
    "Report",
    "ReportExport",
    "ReportEvent",
    "ReportPhoto",
    "ReportTally",
    "RewardBudget",
    "RosterImport",
    "Settlement",
    "SettlementCrimeCount",
    "SettlementYearTally",
    "Shift",
    "ShiftEvent",
    "ShiftSeries",
    "TelegramLinkCode",
    "SosAlarm",
    "SosDispatch",
    "SosEvent",
    "Topic",
    "User",
    "Volunteer",
    "VolunteerStatusChange",
    "Zone",
]
