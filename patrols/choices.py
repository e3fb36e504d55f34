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
    PARTIAL = "partial", _("Partly imported: some rows to fix")


class ExportFormat(models.TextChoices):
    """The files an export of reports is made as."""

    CSV = "csv", _("CSV")
    XLSX = "xlsx", _("Excel workbook (XLSX)")
    GEOJSON = "geojson", _("GeoJSON (map)")


class ExportStatus(models.TextChoices):
    PENDING = "pending", _("Waiting")
    RUNNING = "running", _("Being written")
    DONE = "done", _("Ready")
    FAILED = "failed", _("Failed")


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


class CheckInConfirmation(models.TextChoices):
    """Whether a check-in's hours count on their own or wait for the inspector's word."""

    NOT_NEEDED = "not_needed", _("Not needed")
    NEEDED = "needed", _("Needs the inspector's confirmation")
    CONFIRMED = "confirmed", _("Confirmed by the inspector")
    DECLINED = "declined", _("Not confirmed by the inspector")


class CheckInDoubt(models.TextChoices):
    """Why a check-in waits for confirmation."""

    OUTSIDE_ZONE = "outside_zone", _("Checked in away from the zone")
    POOR_ACCURACY = "poor_accuracy", _("The phone could not find its position precisely")


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
    CHECK_IN_REFUSED = "check_in_refused", _("Check-in refused: the position was too imprecise")
    CHECK_IN_CONFIRMED = "check_in_confirmed", _("Check-in confirmed")
    CHECK_IN_DECLINED = "check_in_declined", _("Check-in not confirmed")
    HOURS_CORRECTED = "hours_corrected", _("Patrol hours corrected")


class NotificationKind(models.TextChoices):
    SHIFT_CHANGED = "shift_changed", _("A shift you signed up for was changed")
    SHIFT_CANCELLED = "shift_cancelled", _("A shift you signed up for was cancelled")
    PROMOTED = "promoted", _("You moved from the waiting list to the shift")
    ASSIGNED = "assigned", _("You were put on a shift")
    UNDERSTAFFED = "understaffed", _("A shift is below its minimum")
    REPORT_VERIFIED = "report_verified", _("Your report was verified")
    REPORT_REJECTED = "report_rejected", _("Your report was rejected")
    REPORT_NEEDS_INFO = "report_needs_info", _("Your report needs more information")
    SHIFT_REMINDER = "shift_reminder", _("Reminder of your shift")
    CHECKIN_MISSING = "checkin_missing", _("You have not checked in")
    CHECKIN_MISSING_INSPECTOR = "checkin_missing_inspector", _("Volunteers have not checked in")
    CHECKIN_DECLINED = "checkin_declined", _("Your check-in was not confirmed")
    INSPECTOR_DIGEST = "inspector_digest", _("Morning digest")
    CHIEF_SUMMARY = "chief_summary", _("Weekly summary")
    MEETING_REMINDER = "meeting_reminder", _("Reminder of a meeting with residents")
    SOS_ALARM = "sos_alarm", _("A volunteer on duty calls for help")
    SOS_UPDATE = "sos_update", _("News of a call for help")
    OK_MISSED = "ok_missed", _("A volunteer on duty did not say they are OK")
    OK_PROMPT = "ok_prompt", _("Tell us you are OK")
    ESCALATION_UPDATE = "escalation_update", _("The duty unit answered about a report")
    CALLOUT = "callout", _("People are needed on duty")
    REWARD_DECIDED = "reward_decided", _("The commission decided on your reward")


class DeliveryChannel(models.TextChoices):
    EMAIL = "email", _("Email")
    SMS = "sms", _("SMS")
    WHATSAPP = "whatsapp", _("WhatsApp")
    TELEGRAM = "telegram", _("Telegram")
    PUSH = "push", _("Notifications on this phone")


# The channels that reach a phone at once, in the order a person who never chose gets them; email is the written
# copy beside them (DESIGN.md: Delivery).
INSTANT_CHANNELS = (DeliveryChannel.WHATSAPP, DeliveryChannel.TELEGRAM, DeliveryChannel.PUSH, DeliveryChannel.SMS)


class InboundOutcome(models.TextChoices):
    """What became of a message from a messenger or the SMS gateway."""

    ACTED = "acted", _("Acted on")
    REFUSED = "refused", _("Answered: no longer possible")
    STATUS = "status", _("Delivery status taken")
    LINKED = "linked", _("Account linked")
    UNLINKED = "unlinked", _("Account unlinked")
    UNKNOWN = "unknown", _("Not understood or unknown sender")
    FAILED = "failed", _("Could not be handled")


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", _("Waiting to be sent")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed")
    SKIPPED = "skipped", _("Not sent (no longer relevant)")


class ReportStatus(models.TextChoices):
    SUBMITTED = "submitted", _("Waiting for verification")
    VERIFIED = "verified", _("Verified")
    REJECTED = "rejected", _("Rejected")
    NEEDS_INFO = "needs_info", _("More information needed")


class OutcomeCode(models.TextChoices):
    """The outcomes the rules know by code; their names are managed data (the Outcome model)."""

    PREVENTED = "prevented", _("Offense prevented")
    SOLVED = "solved", _("Helped solve a crime")
    HANDED_OVER = "handed_over", _("Offender handed to the police")
    ASSISTANCE = "assistance", _("Help to a citizen")
    INFO = "info", _("Signal for the police")


class ReportEventKind(models.TextChoices):
    SUBMITTED = "submitted", _("Submitted")
    VERIFIED = "verified", _("Verified")
    REJECTED = "rejected", _("Rejected")
    NEEDS_INFO = "needs_info", _("More information asked")
    RESUBMITTED = "resubmitted", _("Answered and sent again")
    DUPLICATE = "duplicate", _("Marked as a duplicate")
    PHOTO_ADDED = "photo_added", _("Photo added")
    REDACTED = "redacted", _("Details of other people removed after the retention period")


class AutoReason(models.TextChoices):
    """Why the app itself changed something, kept as a code (with its figures beside it) and told in the reader's
    language when read: see patrols/reasons.py."""

    DUPLICATE = "duplicate", _("A duplicate of another report")
    IMPORTED = "imported", _("Imported from a roster file")


class ReportFlag(models.TextChoices):
    """Checks against inflated counts, shown to the inspector; they never drop a report."""

    OUTSIDE_SHIFT = "outside_shift", _("Filed outside any shift of the reporter")
    OUTSIDE_ZONE = "outside_zone", _("Outside the shift's zone")
    TOO_FAST = "too_fast", _("Implausible travel speed from the reporter's previous position")
    LIKELY_DUPLICATE = "likely_duplicate", _("Likely duplicate of another volunteer's report")


class DutyUnitLevel(models.TextChoices):
    """Who takes an alarm after the shift's own people: a district's duty unit, then the region's ЖБО."""

    DISTRICT = "district", _("District duty unit")
    REGION = "region", _("Regional operational control centre (ЖБО)")


class BenchmarkLevel(models.TextChoices):
    NATIONAL = "national", _("Kazakhstan")
    REGION = "region", _("Region")
    DISTRICT = "district", _("District")


class AccessKind(models.TextChoices):
    """Personal data whose unmasked reading is written to the access log."""

    VOLUNTEER_IIN = "volunteer_iin", _("Volunteer's IIN")
    REPORT_THIRD_PARTY = "report_third_party", _("Details of other people in a report")


class AccessChannel(models.TextChoices):
    API = "api", _("API")
    WEB = "web", _("Web page")
    EXPORT = "export", _("Export")


class MeetingKind(models.TextChoices):
    """Where and with whom an inspector meets residents."""

    VILLAGE_ASSEMBLY = "village_assembly", _("Village assembly")
    YARD_MEETING = "yard_meeting", _("Yard or block meeting")
    SCHOOL = "school", _("School or college")
    WORKPLACE = "workplace", _("Workplace")
    RELIGIOUS_COMMUNITY = "religious_community", _("Religious community")
    ONLINE = "online", _("Online")


class MeetingStatus(models.TextChoices):
    """A meeting counts only once it is held; a planned one reminds its participants."""

    PLANNED = "planned", _("Planned")
    HELD = "held", _("Held")
    CANCELLED = "cancelled", _("Cancelled")


class MeetingEventKind(models.TextChoices):
    PLANNED = "planned", _("Planned")
    HELD = "held", _("Marked as held")
    CHANGED = "changed", _("Changed")
    CANCELLED = "cancelled", _("Cancelled")
    PHOTO_ADDED = "photo_added", _("Photo added")


class CrimeStatus(models.TextChoices):
    """A settlement's year by its registered crimes: a count of zero for every month so far, a crime, or a gap."""

    CRIME_FREE = "crime_free", _("Crime-free")
    CRIMES = "crimes", _("Crimes registered")
    NO_DATA = "no_data", _("No data")


# What a new meeting may be: planned ahead, or already held (it is cancelled only later).
NEW_MEETING_STATUSES = [
    (MeetingStatus.PLANNED.value, MeetingStatus.PLANNED.label),
    (MeetingStatus.HELD.value, MeetingStatus.HELD.label),
]


class InitiativeStatus(models.TextChoices):
    ACTIVE = "active", _("Active")
    LAPSED = "lapsed", _("Lapsed")


class EscalationReason(models.TextChoices):
    """Why a report cannot wait for the verification queue: the police are needed now."""

    CRIME_IN_PROGRESS = "crime_in_progress", _("A crime in progress")
    MISSING_CHILD = "missing_child", _("A missing child")
    INJURED_PERSON = "injured_person", _("An injured person")
    OTHER = "other", _("Other")


class EscalationStatus(models.TextChoices):
    """Where a report sent to the duty unit stands: being sent, delivered, then as the unit's system answers."""

    PENDING = "pending", _("Being sent to the duty unit")
    SENT = "sent", _("Sent to the duty unit")
    RECEIVED = "received", _("Received by the duty unit")
    OFFICER_SENT = "officer_sent", _("An officer is on the way")
    CLOSED = "closed", _("Closed by the duty unit")
    FAILED = "failed", _("Could not reach the duty unit")


class EscalationEventKind(models.TextChoices):
    CREATED = "created", _("Escalated")
    DELIVERED = "delivered", _("Delivered")
    ATTEMPT_FAILED = "attempt_failed", _("A delivery attempt failed")
    FAILED = "failed", _("Gave up: the duty unit could not be reached")
    ANSWERED = "answered", _("The duty unit answered")


class CallOutStatus(models.TextChoices):
    OPEN = "open", _("Waiting for people")
    FILLED = "filled", _("Enough people")
    CLOSED = "closed", _("Closed")


class CallOutResult(models.TextChoices):
    ASSIGNED = "assigned", _("On the shift")
    WAITLISTED = "waitlisted", _("On the waiting list")


class SosKind(models.TextChoices):
    """A call for help pressed by the volunteer, or an amber alarm when an "I'm OK" check-in was missed."""

    SOS = "sos", _("SOS")
    MISSED_OK = "missed_ok", _('Missed "I\'m OK" check-in')


class SosStatus(models.TextChoices):
    OPEN = "open", _("Not answered yet")
    ACKNOWLEDGED = "acknowledged", _("Acknowledged")
    RESOLVED = "resolved", _("Resolved")
    CANCELLED = "cancelled", _("Cancelled (false alarm)")


class SosEventKind(models.TextChoices):
    RAISED = "raised", _("Raised")
    TIER_NOTIFIED = "tier_notified", _("Tier notified")
    ACKNOWLEDGED = "acknowledged", _("Acknowledged")
    ON_MY_WAY = "on_my_way", _("On the way")
    RESOLVED = "resolved", _("Resolved")
    CANCELLED = "cancelled", _("False alarm")


class SosChannel(models.TextChoices):
    """How a duty unit is reached about an alarm."""

    SMS = "sms", _("SMS")
    EMAIL = "email", _("Email")
    WEBHOOK = "webhook", _("Webhook")


class RewardKind(models.TextChoices):
    """What the akimat's commission may give a public assistant."""

    THANKS = "thanks", _("Letter of thanks")
    CERTIFICATE = "certificate", _("Certificate of honour")
    GIFT = "gift", _("Valuable gift")
    CASH = "cash", _("Cash reward")


class NominationStatus(models.TextChoices):
    DRAFT = "draft", _("Being prepared")
    SUBMITTED = "submitted", _("Submitted to the commission")
    DECIDED = "decided", _("Decided by the commission")
    SUPERSEDED = "superseded", _("Replaced by a newer version")


class RewardDecision(models.TextChoices):
    GRANTED = "granted", _("Granted as proposed")
    CHANGED = "changed", _("Granted, changed")
    REFUSED = "refused", _("Refused")
