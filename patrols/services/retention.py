"""Personal data retention: what is kept no longer than needed, and how it is made anonymous.

- A volunteer who left (retired or refused, or out of every group they were in) is anonymised
  `RETENTION_VOLUNTEER_DAYS` after leaving: name, IIN, phone, date of birth, documents and notes get neutral
  values, the account is closed, and the person reads "Anonymised volunteer #id". Their reports, sign-ups and
  lifecycle steps stay, so counts and history keep their meaning.
- The details of other people in a rejected report are removed `RETENTION_THIRD_PARTY_DAYS` after the rejection
  (a verified report keeps them: it may be evidence).
- An uploaded roster file (full of IINs) is deleted from storage `RETENTION_ROSTER_FILE_DAYS` after the upload;
  the import record with its counts and errors stays, the errors without the names and values they quoted from the
  file. The rows to fix an import gave back are made from that file, so they go with it.
- An access log entry (who read whose IIN or details, from which address) is deleted `RETENTION_ACCESS_LOG_DAYS`
  after the reading: the log answers for the reads while the data they concern may still be asked about.
- A position a phone sent on duty is deleted `POSITION_RETENTION_DAYS` after it arrived (`duty.positions_prune`).
- What messengers and the SMS gateway sent us (phone numbers, chat ids, the text of a reply) is deleted
  `INBOUND_KEEP_DAYS` after it arrived; a Telegram link code, a day after it expired. A closed account also loses
  its messenger accounts and push subscriptions.
- An export of reports (its file holds the reports, perhaps the details of other people) is deleted with its file
  once past its `expires_at` (`REPORT_EXPORT_KEEP_HOURS` after it was ready), and so is a temporary file a worker
  killed halfway left behind; the minute sweep of exports does it too, so nothing outlives its day by more than that.
- An anonymised volunteer's certificates of service lose the name and figures and are revoked: the public check page
  says only that they are no longer in force.

Each object is handled in its own short transaction that locks it and checks again that it is due: a run over
thousands of people holds no lock for long, one object that fails does not undo the others (the next run tries it
again), and a file deleted from storage (no rollback brings it back) concerns one row only, which the next run
finishes if it had to. Everything done leaves the object out of the next run's selection, so running twice does
nothing more.
"""

from __future__ import annotations

import datetime
import logging
from dataclasses import asdict, dataclass

from django.conf import settings
from django.core.files.storage import FileSystemStorage
from django.db import transaction
from django.db.models import Exists, Max, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone

from ..choices import DeliveryStatus, ReportEventKind, ReportStatus, Role, VolunteerStatus
from ..models import (
    AccessLogEntry,
    ApiToken,
    CalendarFeed,
    Certificate,
    Delivery,
    Group,
    InboundMessage,
    Membership,
    MessengerAccount,
    NotificationPreference,
    PushSubscription,
    Report,
    ReportEvent,
    ReportExport,
    RosterImport,
    TelegramLinkCode,
    User,
    Volunteer,
    VolunteerStatusChange,
)
from ..validators import iin_birth_date, iin_check_digit
from .duty import positions_due, positions_prune

logger = logging.getLogger(__name__)

# Statuses that mean the person is no longer a volunteer (both are final in the lifecycle).
DEPARTED_STATUSES = frozenset({VolunteerStatus.RETIRED, VolunteerStatus.REFUSED})
# Where a field may not be empty (a registered volunteer's number, a refusal's reason): a mark that says nothing.
NEUTRAL_TEXT = "—"
NEUTRAL_PHONE = "+77000000000"
ANONYMISED_LAST_NAME = "Anonymised volunteer"
# Only accounts that exist for the volunteer profile are closed; a police or staff account only loses the link.
VOLUNTEER_ACCOUNT_ROLES = frozenset({Role.VOLUNTEER, Role.LEADER})

_PLACEHOLDER_FIRST_DAY = datetime.date(1800, 1, 1)
_PLACEHOLDER_DAYS = (datetime.date(1900, 1, 1) - _PLACEHOLDER_FIRST_DAY).days
_PLACEHOLDERS_PER_DAY = 1000


@dataclass(frozen=True)
class RetentionResult:
    """How many objects of each kind were handled (or would be, in a dry run), and how many failed."""

    volunteers: int = 0
    third_party: int = 0
    roster_files: int = 0
    access_log: int = 0
    positions: int = 0
    inbound: int = 0
    report_exports: int = 0
    failed: int = 0
    dry_run: bool = False

    def as_dict(self) -> dict:
        return asdict(self)


def placeholder_iin(volunteer_id: int) -> str:
    """A valid IIN that is nobody's and unique to the volunteer: born in the 19th century, the id in date and serial.

    The IIN column is unique and checked (12 digits, a real date with its century digit, the check digit), so an
    anonymised volunteer needs a value that passes all of it without ever meeting a living person's number.
    """
    day_index, serial = divmod(volunteer_id, _PLACEHOLDERS_PER_DAY)
    century_round, day_index = divmod(day_index, _PLACEHOLDER_DAYS)
    if century_round > 1:
        raise ValueError("no placeholder IIN left for this id")
    day = _PLACEHOLDER_FIRST_DAY + datetime.timedelta(days=day_index)
    # Century digits 1 and 2 both mean the 1800s: the second round of ids takes the other one.
    prefix = f"{day.year % 100:02d}{day.month:02d}{day.day:02d}{1 + century_round}{serial:03d}"
    # The eleventh digit has no weight in the first pass of the check and a different one for each value in the
    # second, so at most one of the ten values has no check digit: the first or the second one tried works.
    for last in range(10):
        check = iin_check_digit(prefix + str(last))
        if check is not None:
            return f"{prefix}{last}{check}"
    raise AssertionError("unreachable: nine of ten eleventh digits have a check digit")


def _start_of(day: datetime.date) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))


# Volunteers


def _volunteer_candidates():
    """Volunteers not yet anonymised who left: a final status, or memberships that all ended."""
    memberships = Membership.objects.filter(volunteer=OuterRef("pk"))
    changes = VolunteerStatusChange.objects.filter(volunteer=OuterRef("pk")).order_by("-at", "-id")
    last_left = (
        Membership.objects.filter(volunteer=OuterRef("pk"))
        .order_by()
        .values("volunteer")
        .annotate(last=Max("left_on"))
        .values("last")
    )
    all_ended = Exists(memberships) & ~Exists(memberships.filter(left_on=None))
    return (
        Volunteer.objects.filter(anonymised_at=None)
        .annotate(
            all_ended=all_ended,
            last_left=Subquery(last_left),
            last_change_at=Subquery(changes.values("at")[:1]),
            status_since=Subquery(changes.filter(to_status=OuterRef("status")).values("at")[:1]),
        )
        .filter(Q(status__in=DEPARTED_STATUSES) | Q(all_ended=True))
    )


def volunteer_left_at(
    *,
    status: str,
    status_since: datetime.datetime | None,
    updated_at: datetime.datetime,
    all_ended: bool,
    last_left: datetime.date | None,
    last_change_at: datetime.datetime | None,
) -> datetime.datetime | None:
    """Since when the volunteer is gone, from the lifecycle history and the memberships; None while they are not.

    The latest sign of the person being on the roster wins: a status set later than the last membership ended
    means the volunteer was still handled then. Without a history row for a final status, the profile's last change
    stands in for it (it can only be later, so the period is never cut short).
    """
    moments = []
    if status in DEPARTED_STATUSES:
        moments.append(status_since or updated_at)
    if all_ended and last_left is not None:
        moments.append(_start_of(last_left))
    if not moments:
        return None
    if last_change_at is not None:
        moments.append(last_change_at)
    return max(moments)


def volunteers_due(*, now: datetime.datetime | None = None, only: list[int] | None = None) -> list[int]:
    """Ids of the volunteers gone for longer than RETENTION_VOLUNTEER_DAYS, not yet anonymised."""
    cutoff = (now or timezone.now()) - datetime.timedelta(days=settings.RETENTION_VOLUNTEER_DAYS)
    candidates = _volunteer_candidates()
    if only is not None:
        candidates = candidates.filter(pk__in=only)
    rows = candidates.values_list(
        "pk", "status", "status_since", "updated_at", "all_ended", "last_left", "last_change_at"
    ).order_by("pk")
    due = []
    for pk, status, status_since, updated_at, all_ended, last_left, last_change_at in rows:
        left_at = volunteer_left_at(
            status=status,
            status_since=status_since,
            updated_at=updated_at,
            all_ended=all_ended,
            last_left=last_left,
            last_change_at=last_change_at,
        )
        if left_at is not None and left_at <= cutoff:
            due.append(pk)
    return due


def _close_account(user: User) -> None:
    """A volunteer's own account: no name, email, password or API token, no messages; it cannot sign in again.

    An account with another role (an inspector who also patrols) or staff rights is not the volunteer's alone:
    it only loses the link to the profile.
    """
    if user.role not in VOLUNTEER_ACCOUNT_ROLES or user.is_staff or user.is_superuser:
        return
    ApiToken.objects.filter(user=user).delete()
    # Messages not sent yet are not sent to a closed account; the addresses of those sent are personal data too.
    Delivery.objects.filter(user=user, status=DeliveryStatus.PENDING).update(status=DeliveryStatus.SKIPPED)
    Delivery.objects.filter(user=user).update(address="")
    NotificationPreference.objects.filter(user=user).update(pending_email="")
    MessengerAccount.objects.filter(user=user).delete()
    PushSubscription.objects.filter(user=user).delete()
    TelegramLinkCode.objects.filter(user=user).delete()
    user.username = f"anonymised-{user.pk}"
    user.first_name = user.last_name = user.email = ""
    user.is_active = False
    user.set_unusable_password()
    user.save(update_fields=["username", "first_name", "last_name", "email", "is_active", "password"])


@transaction.atomic
def volunteer_anonymise(*, volunteer_id: int, now: datetime.datetime | None = None) -> bool:
    """Replace a departed volunteer's personal data with neutral values, if they are (still) due; True when done."""
    now = now or timezone.now()
    volunteer = Volunteer.objects.select_for_update().filter(pk=volunteer_id, anonymised_at=None).first()
    if volunteer is None or volunteer_id not in volunteers_due(now=now, only=[volunteer_id]):
        return False
    user = volunteer.user
    volunteer.user = None
    volunteer.last_name = ANONYMISED_LAST_NAME
    volunteer.first_name = f"#{volunteer.pk}"
    volunteer.patronymic = ""
    volunteer.iin = placeholder_iin(volunteer.pk)
    volunteer.birth_date = iin_birth_date(volunteer.iin)
    volunteer.phone = NEUTRAL_PHONE
    # The status stays, and with it the constraints: a registered volunteer keeps a number, a refusal a reason.
    volunteer.registration_number = NEUTRAL_TEXT if volunteer.status == VolunteerStatus.REGISTERED else ""
    volunteer.refusal_reason = NEUTRAL_TEXT if volunteer.status == VolunteerStatus.REFUSED else ""
    volunteer.id_card_number = ""
    volunteer.badge_number = ""
    volunteer.medical_check_passed = None
    volunteer.anonymised_at = now
    volunteer.full_clean()
    volunteer.save()
    # The steps keep who moved the volunteer and when; their notes repeat reasons and numbers about the person,
    # and an import's facts name the file (which may be named after them).
    VolunteerStatusChange.objects.filter(volunteer=volunteer).exclude(note="", reason_params={}).update(
        note="", reason_params={}
    )
    CalendarFeed.objects.filter(volunteer=volunteer).delete()
    Group.objects.filter(leader=volunteer).update(leader=None)
    # A certificate's check page would go on naming the person: it now says the certificate is no longer in force.
    Certificate.objects.filter(volunteer=volunteer).update(holder=NEUTRAL_TEXT, figures={})
    Certificate.objects.filter(volunteer=volunteer, revoked_at__isnull=True).update(
        revoked_at=now, revoked_reason="retention"
    )
    if user is not None:
        _close_account(user)
    return True


# Details of other people in rejected reports


def _rejected_reports(cutoff: datetime.datetime):
    rejected_at = (
        ReportEvent.objects.filter(report=OuterRef("pk"), kind=ReportEventKind.REJECTED)
        .order_by("-at", "-id")
        .values("at")[:1]
    )
    return (
        Report.objects.filter(status=ReportStatus.REJECTED)
        .exclude(third_party_details="")
        # Without a rejection in the history, the report's last change stands in for it (never earlier).
        .annotate(rejected_at=Coalesce(Subquery(rejected_at), "updated_at"))
        .filter(rejected_at__lte=cutoff)
    )


def _third_party_cutoff(now: datetime.datetime | None) -> datetime.datetime:
    return (now or timezone.now()) - datetime.timedelta(days=settings.RETENTION_THIRD_PARTY_DAYS)


def reports_due(*, now: datetime.datetime | None = None) -> list[int]:
    """Ids of reports rejected longer than RETENTION_THIRD_PARTY_DAYS ago that still hold details of other people."""
    return list(_rejected_reports(_third_party_cutoff(now)).order_by("pk").values_list("pk", flat=True))


@transaction.atomic
def report_third_party_redact(*, report_id: int, now: datetime.datetime | None = None) -> bool:
    """Remove the details of other people from a report rejected long enough ago; the history says so."""
    if not _rejected_reports(_third_party_cutoff(now)).filter(pk=report_id).exists():
        return False
    report = Report.objects.select_for_update().get(pk=report_id)
    # Checked again under the lock: the inspector may have verified it in the meantime.
    if report.status != ReportStatus.REJECTED or not report.third_party_details:
        return False
    report.third_party_details = ""
    report.save(update_fields=["third_party_details", "updated_at"])
    ReportEvent.objects.create(
        report=report, kind=ReportEventKind.REDACTED, from_status=report.status, to_status=report.status
    )
    return True


# Roster files


def _roster_cutoff(now: datetime.datetime | None) -> datetime.datetime:
    return (now or timezone.now()) - datetime.timedelta(days=settings.RETENTION_ROSTER_FILE_DAYS)


def roster_files_due(*, now: datetime.datetime | None = None) -> list[int]:
    """Ids of roster imports uploaded longer than RETENTION_ROSTER_FILE_DAYS ago whose file is still stored."""
    imports = RosterImport.objects.exclude(file="").filter(created_at__lte=_roster_cutoff(now))
    return list(imports.order_by("pk").values_list("pk", flat=True))


@transaction.atomic
def roster_file_delete(*, import_id: int, now: datetime.datetime | None = None) -> bool:
    """Delete an old roster file from storage and forget its name; the import record stays."""
    job = (
        RosterImport.objects.select_for_update()
        .exclude(file="")
        .filter(pk=import_id, created_at__lte=_roster_cutoff(now))
        .first()
    )
    if job is None:
        return False
    # The file goes first: if clearing the name failed after it, the next run finds the row and deletes nothing
    # twice (a missing file is no error); the other order could leave a file nobody points at any more.
    job.file.storage.delete(job.file.name)
    # The errors keep their rows and what was wrong; whose row it was and the value as written go with the file.
    errors = [{key: value for key, value in error.items() if key not in {"person", "value"}} for error in job.errors]
    RosterImport.objects.filter(pk=job.pk).update(file="", errors=errors)
    return True


# The access log

# Entries deleted per transaction: a year of a busy country's log goes in short steps, never one long lock.
ACCESS_LOG_BATCH = 5000


def _access_log_cutoff(now: datetime.datetime | None) -> datetime.datetime:
    return (now or timezone.now()) - datetime.timedelta(days=settings.RETENTION_ACCESS_LOG_DAYS)


def access_log_due(*, now: datetime.datetime | None = None) -> int:
    """How many access log entries are older than RETENTION_ACCESS_LOG_DAYS."""
    return AccessLogEntry.objects.filter(at__lte=_access_log_cutoff(now)).count()


def access_log_prune(*, now: datetime.datetime | None = None, batch: int = ACCESS_LOG_BATCH) -> int:
    """Delete the access log entries older than RETENTION_ACCESS_LOG_DAYS, oldest first, a batch per transaction."""
    cutoff = _access_log_cutoff(now)
    deleted = 0
    while True:
        with transaction.atomic():
            oldest = (
                AccessLogEntry.objects.filter(at__lte=cutoff).order_by("at", "id").values_list("pk", flat=True)[:batch]
            )
            count, _per_model = AccessLogEntry.objects.filter(pk__in=list(oldest)).delete()
        deleted += count
        if count < batch:
            return deleted


def _inbound_cutoff(now: datetime.datetime | None) -> datetime.datetime:
    return (now or timezone.now()) - datetime.timedelta(days=settings.INBOUND_KEEP_DAYS)


def inbound_due(*, now: datetime.datetime | None = None) -> int:
    """How many received messages are older than INBOUND_KEEP_DAYS."""
    return InboundMessage.objects.filter(received_at__lte=_inbound_cutoff(now)).count()


def inbound_prune(*, now: datetime.datetime | None = None, batch: int = ACCESS_LOG_BATCH) -> int:
    """Delete received messages older than INBOUND_KEEP_DAYS (a batch per transaction) and old link codes."""
    cutoff = _inbound_cutoff(now)
    TelegramLinkCode.objects.filter(expires_at__lte=(now or timezone.now()) - datetime.timedelta(days=1)).delete()
    deleted = 0
    while True:
        with transaction.atomic():
            oldest = InboundMessage.objects.filter(received_at__lte=cutoff).order_by("pk").values_list("pk", flat=True)
            count, _per_model = InboundMessage.objects.filter(pk__in=list(oldest[:batch])).delete()
        deleted += count
        if count < batch:
            return deleted


# Exports of reports


def report_exports_due(*, now: datetime.datetime | None = None) -> list[int]:
    """Ids of the exports of reports past their `expires_at`."""
    expired = ReportExport.objects.filter(expires_at__lte=now or timezone.now())
    return list(expired.order_by("pk").values_list("pk", flat=True))


@transaction.atomic
def report_export_delete(*, export_id: int, now: datetime.datetime | None = None) -> bool:
    """Delete an expired export and its file (a run still writing it notices and keeps nothing)."""
    job = ReportExport.objects.select_for_update().filter(pk=export_id, expires_at__lte=now or timezone.now()).first()
    if job is None:
        return False
    # The file first, as for roster files: a missing file is no error, a row left without one is tried again.
    if job.file:
        job.file.storage.delete(job.file.name)
    job.delete()
    return True


def report_export_leftovers_delete(*, now: datetime.datetime | None = None) -> int:
    """Delete the temporary files of export runs killed halfway (a folder storage keeps them beside the exports)."""
    storage = ReportExport._meta.get_field("file").storage
    if not isinstance(storage, FileSystemStorage) or not storage.exists("report-exports"):
        return 0
    cutoff = (now or timezone.now()) - datetime.timedelta(hours=settings.REPORT_EXPORT_KEEP_HOURS)
    deleted = 0
    for name in storage.listdir("report-exports")[1]:
        path = f"report-exports/{name}"
        if name.endswith(".part") and storage.get_modified_time(path) <= cutoff:
            storage.delete(path)
            deleted += 1
    return deleted


def report_exports_prune(*, now: datetime.datetime | None = None) -> tuple[int, int]:
    """Delete every expired export with its file, and leftover temporary files; (exports deleted, failed)."""
    done, failed = _each(
        report_exports_due(now=now), lambda pk: report_export_delete(export_id=pk, now=now), what="report export"
    )
    report_export_leftovers_delete(now=now)
    return done, failed


# The run


def _each(ids: list[int], action, *, what: str) -> tuple[int, int]:
    """Call `action(pk)` for each id; returns how many were done and how many failed."""
    done = failed = 0
    for pk in ids:
        try:
            done += bool(action(pk))
        except Exception:
            # One object that cannot be handled must not stop the others; the next run tries it again.
            logger.exception("Retention: %s %s failed", what, pk)
            failed += 1
    return done, failed


def retention_apply(*, dry_run: bool = False, now: datetime.datetime | None = None) -> RetentionResult:
    """Apply every retention period once: count what is due (dry run) or handle it, each object on its own."""
    now = now or timezone.now()
    volunteers, reports, files = volunteers_due(now=now), reports_due(now=now), roster_files_due(now=now)
    if dry_run:
        return RetentionResult(
            volunteers=len(volunteers),
            third_party=len(reports),
            roster_files=len(files),
            access_log=access_log_due(now=now),
            positions=positions_due(now=now),
            inbound=inbound_due(now=now),
            report_exports=len(report_exports_due(now=now)),
            dry_run=True,
        )
    anonymised, failed_volunteers = _each(
        volunteers, lambda pk: volunteer_anonymise(volunteer_id=pk, now=now), what="volunteer"
    )
    redacted, failed_reports = _each(
        reports, lambda pk: report_third_party_redact(report_id=pk, now=now), what="report"
    )
    deleted, failed_files = _each(files, lambda pk: roster_file_delete(import_id=pk, now=now), what="roster import")
    exports_deleted, failed_exports = report_exports_prune(now=now)
    result = RetentionResult(
        volunteers=anonymised,
        third_party=redacted,
        roster_files=deleted,
        access_log=access_log_prune(now=now),
        positions=positions_prune(now=now),
        inbound=inbound_prune(now=now),
        report_exports=exports_deleted,
        failed=failed_volunteers + failed_reports + failed_files + failed_exports,
    )
    logger.info("Retention applied: %s", result.as_dict())
    return result
