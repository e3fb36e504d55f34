"""Personal data retention in Talgar: volunteers who left long enough ago become "Anonymised volunteer #id" (their
reports and shifts stay), the details of other people in long-rejected reports are removed, old roster files are
deleted, and so are access log entries older than their period. A dry run only counts; the real run does exactly
what is due (not a day early); a second run does nothing."""

import datetime
import io
import uuid

import pytest
from django.core.files.base import ContentFile
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone, translation

from coordination import celery_app
from patrols import tasks
from patrols.choices import (
    AccessKind,
    DeliveryChannel,
    DeliveryStatus,
    ReportEventKind,
    ReportStatus,
    Role,
    VolunteerStatus,
)
from patrols.models import (
    AccessLogEntry,
    ApiToken,
    Assignment,
    CalendarFeed,
    Delivery,
    Group,
    Membership,
    Notification,
    Report,
    ReportEvent,
    RosterImport,
    User,
    Volunteer,
    VolunteerStatusChange,
)
from patrols.services import reporting, retention, roster, scheduling
from patrols.validators import iin_birth_date, validate_iin
from tests.factories import PASSWORD, GroupFactory, MembershipFactory, UserFactory, VolunteerFactory
from tests.support import reports

pytestmark = pytest.mark.django_db

VOLUNTEER_DAYS, THIRD_PARTY_DAYS, ROSTER_FILE_DAYS, ACCESS_LOG_DAYS = 1095, 90, 30, 730
SECRET = "Жәбірленуші: Әсел Қасымова, тел. +7 702 111 22 33"


@pytest.fixture(autouse=True)
def periods(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.RETENTION_VOLUNTEER_DAYS = VOLUNTEER_DAYS
    settings.RETENTION_THIRD_PARTY_DAYS = THIRD_PARTY_DAYS
    settings.RETENTION_ROSTER_FILE_DAYS = ROSTER_FILE_DAYS
    settings.RETENTION_ACCESS_LOG_DAYS = ACCESS_LOG_DAYS


def ago(days: int, hours: int = 0) -> datetime.datetime:
    return timezone.now() - datetime.timedelta(days=days, hours=hours)


def left(person: Volunteer, moment: datetime.datetime) -> None:
    """Move the volunteer's lifecycle steps and ended memberships back to `moment`, as if they left then."""
    day = timezone.localdate(moment)
    VolunteerStatusChange.objects.filter(volunteer=person).update(at=moment)
    Membership.objects.filter(volunteer=person).exclude(left_on=None).update(
        joined_on=day - datetime.timedelta(days=365), left_on=day
    )


def file_report(user, *, details: str = SECRET) -> Report:
    return reports.file_report(user, third_party_details=details)


def decided(report: Report, moment: datetime.datetime) -> None:
    """Move the report's decisions back to `moment`."""
    ReportEvent.objects.filter(report=report).exclude(kind=ReportEventKind.SUBMITTED).update(at=moment)


def roster_file(district, inspector, *, days_old: int, hours: int = 0) -> RosterImport:
    job = RosterImport(district=district, uploaded_by=inspector, original_name="тізім.csv")
    job.file.save(f"{uuid.uuid4().hex}.csv", ContentFile("iin;last_name\n950412300015;Нұрланов\n".encode()), save=False)
    job.save()
    RosterImport.objects.filter(pk=job.pk).update(created_at=ago(days_old, hours))
    job.refresh_from_db()
    return job


def run(*args: str) -> str:
    out = io.StringIO()
    with translation.override("en"):
        call_command("apply_retention", *args, stdout=out)
    return out.getvalue()


def snapshot() -> tuple:
    """Everything retention may change."""
    return (
        list(Volunteer.objects.order_by("pk").values()),
        list(User.objects.order_by("pk").values("username", "first_name", "email", "is_active", "password")),
        list(Report.objects.order_by("pk").values_list("pk", "third_party_details")),
        list(RosterImport.objects.order_by("pk").values_list("pk", "file")),
        list(AccessLogEntry.objects.order_by("pk").values_list("pk", flat=True)),
        list(VolunteerStatusChange.objects.order_by("pk").values_list("pk", "note")),
        ReportEvent.objects.count(),
        ApiToken.objects.count(),
        CalendarFeed.objects.count(),
    )


@pytest.fixture
def story(district, inspector, group, shift, volunteer, leader):
    """Talgar three years on: who left when, which reports were decided when, which files were uploaded when."""
    # The volunteer with an account patrolled, reported and had documents, then retired just over three years ago.
    gone = volunteer.volunteer
    roster.volunteer_issue_documents(volunteer=gone, by=inspector, id_card_number="ID-4471", badge_number="B-0193")
    Volunteer.objects.filter(pk=gone.pk).update(medical_check_passed=True)
    scheduling.shift_signup(shift=shift, volunteer=gone, by=volunteer)
    gone_report = file_report(volunteer, details="")
    feed = scheduling.calendar_feed_for(volunteer=gone)
    ApiToken.objects.create(user=volunteer)
    notification = Notification.objects.create(user=volunteer, kind="shift_reminder", shift=shift)
    Delivery.objects.create(
        key=f"test:{uuid.uuid4()}",
        notification=notification,
        user=volunteer,
        channel=DeliveryChannel.SMS,
        address=gone.phone,
        language="kk",
    )
    group.leader = gone
    group.save()
    roster.volunteer_retire(volunteer=gone, by=inspector, note="Басқа қалаға көшті")
    left(gone, ago(VOLUNTEER_DAYS, hours=1))

    # Retired a day short of three years.
    almost = VolunteerFactory(district=district, first_name="Мейрам")
    MembershipFactory(volunteer=almost, group=group)
    roster.volunteer_retire(volunteer=almost, by=inspector)
    left(almost, ago(VOLUNTEER_DAYS - 1))

    # An applicant refused just over three years ago, with a reason that says something about them.
    refused = VolunteerFactory(
        district=district, first_name="Жандос", status=VolunteerStatus.APPLICANT, registration_number="", vetted_on=None
    )
    roster.volunteer_refuse(volunteer=refused, by=inspector, reason="Сотталғандығы бар")
    left(refused, ago(VOLUNTEER_DAYS + 2))

    # Still registered, but out of every group for over three years, and one out of them a day short.
    drifted = VolunteerFactory(district=district, first_name="Ғалым")
    MembershipFactory(volunteer=drifted, group=group, left_on=timezone.localdate())
    left(drifted, ago(VOLUNTEER_DAYS + 1))
    drifting = VolunteerFactory(district=district, first_name="Дана")
    MembershipFactory(volunteer=drifting, group=group, left_on=timezone.localdate())
    left(drifting, ago(VOLUNTEER_DAYS - 1))

    # Reports with details of other people: rejected long ago, rejected a day short, verified long ago.
    rejected_old = file_report(leader)
    reporting.report_reject(report=rejected_old, by=inspector, reason="Бұл оқиға біздің ауданда емес.")
    decided(rejected_old, ago(THIRD_PARTY_DAYS, hours=1))
    rejected_recent = file_report(leader)
    reporting.report_reject(report=rejected_recent, by=inspector, reason="Дәлел жоқ.")
    decided(rejected_recent, ago(THIRD_PARTY_DAYS - 1))
    verified_old = file_report(leader)
    reporting.report_verify(report=verified_old, by=inspector)
    decided(verified_old, ago(400))

    old_file = roster_file(district, inspector, days_old=ROSTER_FILE_DAYS, hours=1)
    new_file = roster_file(district, inspector, days_old=ROSTER_FILE_DAYS - 1)

    # The inspector's reads of IINs: two years and an hour ago, twice; a day short of two years; today.
    reads = [ago(ACCESS_LOG_DAYS, hours=1), ago(ACCESS_LOG_DAYS, hours=2), ago(ACCESS_LOG_DAYS - 1), ago(0)]
    logged = [
        AccessLogEntry.objects.create(
            user=inspector, username=inspector.username, at=at, kind=AccessKind.VOLUNTEER_IIN,
            object_id=drifting.pk, how="api", path=f"/api/v1/volunteers/{drifting.pk}/", ip="10.0.0.7",
        ).pk
        for at in reads
    ]  # fmt: skip
    return {
        "gone": gone,
        "gone_user": volunteer,
        "gone_report": gone_report,
        "feed": feed,
        "almost": almost,
        "refused": refused,
        "drifted": drifted,
        "drifting": drifting,
        "active": leader.volunteer,
        "rejected_old": rejected_old,
        "rejected_recent": rejected_recent,
        "verified_old": verified_old,
        "old_file": old_file,
        "new_file": new_file,
        "old_reads": logged[:2],
        "recent_reads": logged[2:],
    }


def test_a_dry_run_counts_and_changes_nothing(story):
    before = snapshot()
    out = run("--dry-run")
    assert "Dry run: nothing was changed." in out
    assert "Volunteers to anonymise: 3" in out
    assert "Rejected reports whose details of other people would be removed: 1" in out
    assert "Roster files to delete: 1" in out
    assert "Access log entries to delete: 2" in out
    assert snapshot() == before
    assert story["old_file"].file.storage.exists(story["old_file"].file.name)


def test_the_run_does_exactly_what_is_due_and_a_second_run_nothing_more(story, group, shift, client):
    out = run()
    assert "Volunteers anonymised: 3" in out
    assert "Rejected reports whose details of other people were removed: 1" in out
    assert "Roster files deleted: 1" in out
    assert "Access log entries deleted: 2" in out

    anonymised = {story["gone"].pk, story["refused"].pk, story["drifted"].pk}
    assert set(Volunteer.objects.exclude(anonymised_at=None).values_list("pk", flat=True)) == anonymised
    for key in ("almost", "drifting", "active"):
        person = Volunteer.objects.get(pk=story[key].pk)
        assert (
            person.anonymised_at is None and person.full_name == story[key].full_name and person.iin == story[key].iin
        )

    # The volunteer who retired: nothing personal left, the history and the counts still there.
    gone = Volunteer.objects.get(pk=story["gone"].pk)
    with translation.override("en"):
        assert gone.full_name == f"Anonymised volunteer #{gone.pk}"
    assert gone.iin != story["gone"].iin and gone.phone != story["gone"].phone
    validate_iin(gone.iin)
    assert gone.birth_date == iin_birth_date(gone.iin) and gone.birth_date.year < 1900
    assert (gone.id_card_number, gone.badge_number, gone.medical_check_passed) == ("", "", None)
    assert gone.user is None and gone.status == VolunteerStatus.RETIRED
    assert Report.objects.get(pk=story["gone_report"].pk).reporter_id == gone.pk
    assert Assignment.objects.filter(volunteer=gone, shift=shift).exists()
    assert list(gone.status_changes.values_list("to_status", "note")) == [(VolunteerStatus.RETIRED, "")]
    assert not CalendarFeed.objects.filter(pk=story["feed"].pk).exists()
    assert Group.objects.get(pk=group.pk).leader_id is None

    # Their account is closed: no name, no password, no token, no phone number in old deliveries.
    account = User.objects.get(pk=story["gone_user"].pk)
    assert (account.username, account.first_name, account.last_name, account.is_active) == (
        f"anonymised-{account.pk}",
        "",
        "",
        False,
    )
    assert not account.has_usable_password() and not ApiToken.objects.filter(user=account).exists()
    assert list(Delivery.objects.filter(user=account).values_list("address", "status")) == [
        ("", DeliveryStatus.SKIPPED)
    ]
    assert not client.login(username="volunteer", password=PASSWORD)

    # The refused applicant keeps a refusal with a reason that says nothing; the registered one a number.
    refused = Volunteer.objects.get(pk=story["refused"].pk)
    assert (refused.status, refused.refusal_reason) == (VolunteerStatus.REFUSED, retention.NEUTRAL_TEXT)
    assert list(refused.status_changes.values_list("note", flat=True)) == [""]
    drifted = Volunteer.objects.get(pk=story["drifted"].pk)
    assert (drifted.status, drifted.registration_number) == (VolunteerStatus.REGISTERED, retention.NEUTRAL_TEXT)
    assert len({gone.iin, refused.iin, drifted.iin}) == 3

    # Details of other people: gone from the report rejected long ago only, and its history says so.
    assert Report.objects.get(pk=story["rejected_old"].pk).third_party_details == ""
    assert Report.objects.get(pk=story["rejected_recent"].pk).third_party_details == SECRET
    assert Report.objects.get(pk=story["verified_old"].pk).third_party_details == SECRET
    redaction = ReportEvent.objects.get(kind=ReportEventKind.REDACTED)
    assert (redaction.report_id, redaction.by, redaction.to_status) == (
        story["rejected_old"].pk,
        None,
        ReportStatus.REJECTED,
    )

    # The old roster file is gone from storage, its import record stays.
    old, new = (RosterImport.objects.get(pk=story[key].pk) for key in ("old_file", "new_file"))
    assert not old.file and old.original_name == "тізім.csv"
    assert not story["old_file"].file.storage.exists(story["old_file"].file.name)
    assert new.file and new.file.storage.exists(new.file.name)

    # The reads older than the access log's period are gone; the one a day short and today's stay.
    assert sorted(AccessLogEntry.objects.values_list("pk", flat=True)) == sorted(story["recent_reads"])

    after = snapshot()
    again = run()
    assert "Volunteers anonymised: 0" in again
    assert "Rejected reports whose details of other people were removed: 0" in again
    assert "Roster files deleted: 0" in again
    assert "Access log entries deleted: 0" in again
    assert snapshot() == after


def test_an_anonymised_volunteer_reads_as_such_on_the_pages_and_is_not_logged(story, api, web, inspector):
    retention.retention_apply()
    gone = story["gone"]
    with translation.override("kk"):
        # Kazakh is the default language of pages and the API: "Иесіздендірілген ерікті № <id>".
        anonymised = type(gone).objects.get(pk=gone.pk).full_name
    assert anonymised.endswith(str(gone.pk))
    page = web(inspector).get(f"/volunteers/{gone.pk}/").content.decode()
    assert anonymised in page and gone.last_name not in page and gone.iin not in page
    row = api(inspector).get(f"/api/v1/volunteers/{gone.pk}/").json()
    assert row["full_name"] == anonymised
    assert not AccessLogEntry.objects.filter(object_id=gone.pk, kind=AccessKind.VOLUNTEER_IIN).exists()


def test_a_long_access_log_is_pruned_in_batches_oldest_first(inspector, volunteer):
    """Batches of a few entries: every entry past the period goes, none within it, whatever the batch size."""
    ids = [
        AccessLogEntry.objects.create(
            user=inspector, username=inspector.username, at=ago(ACCESS_LOG_DAYS + days), kind=AccessKind.VOLUNTEER_IIN,
            object_id=volunteer.volunteer.pk, how="web",
        ).pk
        for days in (-3, -1, 1, 2, 3, 5, 8, 13, 21)
    ]  # fmt: skip
    assert retention.access_log_due() == 7
    assert retention.access_log_prune(batch=3) == 7
    assert sorted(AccessLogEntry.objects.values_list("pk", flat=True)) == sorted(ids[:2])
    assert retention.access_log_prune(batch=3) == 0


def test_a_police_account_of_a_volunteer_who_left_only_loses_the_link(district, group, inspector):
    patrolling = UserFactory(username="patrolling_inspector", role=Role.INSPECTOR, districts=[district])
    person = VolunteerFactory(district=district, user=patrolling)
    MembershipFactory(volunteer=person, group=group)
    roster.volunteer_retire(volunteer=person, by=inspector)
    left(person, ago(VOLUNTEER_DAYS + 5))
    assert retention.retention_apply().volunteers == 1
    patrolling.refresh_from_db()
    assert patrolling.is_active and patrolling.username == "patrolling_inspector"
    assert not Volunteer.objects.filter(user=patrolling).exists()


def test_a_volunteer_back_in_a_group_is_not_anonymised(district, group, inspector):
    """All memberships must have ended: one still open means the person is on the roster."""
    person = VolunteerFactory(district=district)
    MembershipFactory(volunteer=person, group=group, left_on=timezone.localdate())
    left(person, ago(VOLUNTEER_DAYS + 30))
    MembershipFactory(volunteer=person, group=GroupFactory(district=district))
    assert retention.volunteers_due() == []


def test_a_report_verified_again_after_the_rejection_keeps_its_details(volunteer, inspector):
    report = file_report(volunteer)
    reporting.report_reject(report=report, by=inspector, reason="Дәлел жоқ.")
    decided(report, ago(THIRD_PARTY_DAYS + 10))
    reporting.report_verify(report=report, by=inspector)
    assert retention.retention_apply().third_party == 0
    assert Report.objects.get(pk=report.pk).third_party_details == SECRET


def test_placeholder_iins_are_valid_unique_and_nobodys():
    ids = [*range(1, 3001), 999_999, 36_523_999, 36_524_000, 50_000_000]
    iins = [retention.placeholder_iin(pk) for pk in ids]
    for iin in iins:
        validate_iin(iin)
        assert iin_birth_date(iin).year < 1900
    assert len(set(iins)) == len(ids)


def test_one_volunteer_that_cannot_be_anonymised_does_not_stop_the_others(story, district):
    """Someone once typed a 19th-century IIN that happens to be the placeholder of a volunteer who left."""
    drifted = story["drifted"]
    squatter = VolunteerFactory(district=district, iin=retention.placeholder_iin(drifted.pk))
    with pytest.raises(CommandError, match="1 object could not be handled"):
        run()
    assert Volunteer.objects.get(pk=drifted.pk).anonymised_at is None
    assert Volunteer.objects.get(pk=squatter.pk).iin == retention.placeholder_iin(drifted.pk)
    assert Volunteer.objects.exclude(anonymised_at=None).count() == 2
    assert Report.objects.get(pk=story["rejected_old"].pk).third_party_details == ""
    assert retention.volunteers_due() == [drifted.pk]


def test_the_beat_runs_retention_daily(story):
    """The schedule beat installs (django-celery-beat copies CELERY_BEAT_SCHEDULE), and the task it names works."""
    entries = [e for e in celery_app.conf.beat_schedule.values() if e["task"] == "patrols.tasks.apply_retention"]
    assert len(entries) == 1
    schedule = entries[0]["schedule"]
    assert (schedule.hour, schedule.minute, schedule.day_of_week) == ({3}, {30}, set(range(7)))
    assert tasks.apply_retention.apply().get() == {
        "volunteers": 3,
        "third_party": 1,
        "roster_files": 1,
        "access_log": 2,
        "positions": 0,
        "inbound": 0,
        "report_exports": 0,
        "failed": 0,
        "dry_run": False,
    }
