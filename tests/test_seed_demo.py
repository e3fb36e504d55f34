"""The demo country: believable, one login per role in one story (Talgar District), and the same after a second run."""

import datetime
import math
import re
import statistics
from collections import Counter, defaultdict

import pytest
from django.conf import settings as django_settings
from django.contrib.auth import authenticate
from django.contrib.gis.geos import LineString, Polygon
from django.core.cache import cache
from django.core.management import CommandError, call_command
from django.db import connection, connections
from django.db.models import Count, Q
from django.test import Client, override_settings
from django.utils import timezone, translation

from patrols.choices import (
    BUSY_STATUSES,
    SEAT_STATUSES,
    AssignmentStatus,
    AutoReason,
    GroupKind,
    NotificationKind,
    OutcomeCode,
    ReportEventKind,
    ReportFlag,
    ReportStatus,
    Role,
    ShiftEventKind,
    ShiftStatus,
    VolunteerStatus,
    ZoneKind,
)
from patrols.demo import DEMO_LOGINS, demo_seed
from patrols.models import (
    Assignment,
    Benchmark,
    Delivery,
    District,
    DutyUnit,
    Group,
    Initiative,
    LedgerMonth,
    Meeting,
    MeetingAttendee,
    MeetingTally,
    Membership,
    Notification,
    Region,
    Report,
    ReportEvent,
    Settlement,
    SettlementCrimeCount,
    SettlementYearTally,
    Shift,
    ShiftEvent,
    ShiftSeries,
    User,
    Volunteer,
    VolunteerStatusChange,
    Zone,
)
from patrols.services import villages as villages_service
from patrols.services.attendance import checkin_tolerance_m, close_grace
from patrols.services.geometry import covered_by, distance_m
from patrols.services.ledger import ledger_rebuild
from patrols.services.messages import render
from patrols.services.reporting import _reporter_shift, district_for_point, report_flags, report_queue
from patrols.services.roster import _check_group
from patrols.services.scheduling import (
    series_horizon_days,
    series_occurrences,
    shift_signup,
)
from patrols.services.tallies import tallies_rebuild
from patrols.validators import age_on, iin_birth_date, validate_iin, validate_kato
from tests.support.page_walk import american_dates, live_server, name_of, walk_in_phones

PASSWORD = "demo-pass-42"
TALGAR = "KZ-19-TAL"
WEEK = datetime.timedelta(days=7)


def counts() -> dict[str, int]:
    models = (
        Region,
        District,
        Settlement,
        Group,
        Volunteer,
        Membership,
        User,
        VolunteerStatusChange,
        Zone,
        ShiftSeries,
        Shift,
        Shift.groups.through,
        Assignment,
        ShiftEvent,
        Report,
        ReportEvent,
        Notification,
        Delivery,
        Meeting,
        MeetingAttendee,
        Initiative,
        SettlementCrimeCount,
        SettlementYearTally,
        MeetingTally,
        LedgerMonth,
    )
    return {model.__name__: model.objects.count() for model in models}


@pytest.fixture(scope="class")
def country(django_db_setup, django_db_blocker):
    """The full demo country, seeded once for a class's tests (seeding takes a while) and committed, so that a live
    server sees it too; each test runs in its own rolled-back transaction on top, and the tables are emptied and
    the migrations' reference data put back after the class."""
    hashers = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    with django_db_blocker.unblock(), override_settings(PASSWORD_HASHERS=hashers):
        reference_data = connection.creation.serialize_db_to_string()
        try:
            yield demo_seed(password=PASSWORD)
        finally:
            # Sequences go on from where they are, past the reference rows put back with their own ids.
            call_command("flush", verbosity=0, interactive=False, inhibit_post_migrate=True, reset_sequences=False)
            connection.creation.deserialize_db_from_string(reference_data)
            cache.clear()


@pytest.fixture
def demo(country, db):
    return country


@pytest.fixture(scope="class")
def demo_sessions(country, django_db_blocker) -> dict[str, str]:
    """A signed-in session for each demo login, committed (a live server reads them): username → session key."""
    sessions = {}
    with django_db_blocker.unblock():
        for username in DEMO_LOGINS:
            client = Client()
            client.force_login(User.objects.get(username=username))
            sessions[username] = client.cookies[django_settings.SESSION_COOKIE_NAME].value
    return sessions


def metres_across(geometry) -> float:
    """The larger side of a shape's bounding box, in metres (roughly)."""
    xmin, ymin, xmax, ymax = geometry.extent
    middle = (ymin + ymax) / 2
    return max((xmax - xmin) * 111_320 * math.cos(math.radians(middle)), (ymax - ymin) * 111_320)


class TestTheDemoCountry:
    def test_no_english_page_of_any_role_writes_a_date_the_american_way(self, demo):
        """Every page each demo login reaches from its home, read in English (kk and ru: in the phone walk below)."""
        reached, problems = 0, []
        for username in DEMO_LOGINS:
            client = Client(HTTP_ACCEPT_LANGUAGE="en")
            client.cookies["django_language"] = "en"
            client.force_login(User.objects.get(username=username))
            pages, found = american_dates(client, "en")
            reached += pages
            problems += [f"{username} {line}" for line in found]
        assert reached >= 60, "the walk reaches the pages of every role"
        assert not problems, "\n".join(problems)

    def test_talgar_tells_the_story_of_the_prevention_work(self, demo):
        today = timezone.localdate()
        talgar = District.objects.get(code=TALGAR)
        held = Meeting.objects.filter(district=talgar, status="held", held_at__year=today.year)
        months = {
            moment.astimezone(timezone.get_current_timezone()).month
            for moment in held.values_list("held_at", flat=True)
        }
        assert months == set(range(1, today.month + 1)), "meetings in every month of the year so far"
        assert Meeting.objects.filter(district=talgar, status="planned", held_at__gt=timezone.now()).exists()
        assert MeetingAttendee.objects.filter(meeting__in=held, minutes__gt=0).exists()
        villages = Initiative.objects.filter(district=talgar, kind__code="alcohol_refusal", status="active")
        assert villages.count() >= 3
        assert all(initiative.meeting_id for initiative in villages)
        spring = SettlementCrimeCount.objects.filter(
            settlement__in=villages.values("settlement"), month=datetime.date(today.year, 4, 1), registered__gt=0
        )
        assert spring.count() == 1, "one initiative village registered a crime in the spring"
        year = villages_service.settlement_year(spring.get().settlement, today.year)
        assert year.status == "crimes"
        free = [
            i for i in villages if villages_service.settlement_year(i.settlement, today.year).status == "crime_free"
        ]
        assert len(free) == villages.count() - 1
        national_2025 = Benchmark.objects.get(year=2025, level="national")
        assert (national_2025.initiative_target, national_2025.crime_free_target) == (498, 498)
        assert national_2025.meetings_target == 5000
        assert tallies_rebuild(apply=False) == []
        assert ledger_rebuild(apply=False) == []

    def test_it_seeds_a_believable_country(self, demo):
        assert Region.objects.count() == 20
        assert District.objects.count() >= 60
        assert set(District.objects.values_list("region__code", flat=True)) == set(
            Region.objects.values_list("code", flat=True)
        )
        assert set(Group.objects.values_list("kind", flat=True)) == set(GroupKind.values)
        assert Volunteer.objects.count() >= 500
        assert set(Volunteer.objects.values_list("status", flat=True)) == set(VolunteerStatus.values)
        today = timezone.localdate()
        for volunteer in Volunteer.objects.all():
            validate_iin(volunteer.iin)
            assert iin_birth_date(volunteer.iin) == volunteer.birth_date
            assert 18 <= age_on(volunteer.birth_date, today) <= 66
            assert re.fullmatch(r"\+7(70|77)\d{8}", volunteer.phone), volunteer.phone
        for group in Group.objects.select_related("inspector", "settlement"):
            _check_group(group)
            assert group.memberships.filter(volunteer=group.leader, left_on=None).exists(), group

    def test_rural_districts_have_their_villages_with_kato_codes(self, demo):
        rural = District.objects.exclude(region__code__in=["KZ-71", "KZ-75", "KZ-79"]).annotate(
            villages=Count("settlements")
        )
        assert rural.count() >= 60
        assert all(20 <= district.villages <= 60 for district in rural), [
            (d.code, d.villages) for d in rural if not 20 <= d.villages <= 60
        ]
        assert Settlement.objects.filter(district__region__code__in=["KZ-71", "KZ-75", "KZ-79"]).count() == 0
        for place in [*Region.objects.all(), *District.objects.all(), *Settlement.objects.select_related("district")]:
            validate_kato(place.kato)
        for settlement in Settlement.objects.select_related("district__region"):
            assert settlement.kato[:4] == settlement.district.kato[:4], settlement
            region = settlement.district.region
            assert settlement.district.kato[:2] == region.kato[:2] == region.code[3:5]
            assert settlement.name_kk and settlement.name_ru and settlement.name_en.isascii(), settlement
        names = Counter(Settlement.objects.values_list("district", "name_kk"))
        assert max(names.values()) == 1, "a name is used once in a district"

    def test_the_story_happens_in_talgar_district(self, demo):
        talgar = District.objects.get(code=TALGAR)
        assert talgar.boundary is not None and talgar.boundary.contains(talgar.centre)
        assert all(talgar.boundary.contains(s.centre) for s in talgar.settlements.all())
        assert talgar.settlements.count() >= 8

        users = User.objects.in_bulk(DEMO_LOGINS, field_name="username")
        assert {name: user.role for name, user in users.items()} == {
            "volunteer": Role.VOLUNTEER,
            "leader": Role.LEADER,
            "inspector": Role.INSPECTOR,
            "chief": Role.CHIEF,
            "analyst": Role.ANALYST,
            "admin": Role.ADMIN,
        }
        assert list(users["inspector"].inspector_districts.values_list("code", flat=True)) == [TALGAR]
        assert users["chief"].chief_region.code == "KZ-19"
        assert users["admin"].is_staff and users["admin"].is_superuser

        group = Group.objects.get(leader__user=users["leader"])
        assert group.district == talgar and group.inspector == users["inspector"]
        assert users["volunteer"].volunteer.status == VolunteerStatus.REGISTERED
        assert group.memberships.filter(volunteer__user=users["volunteer"], left_on=None).exists()
        assert set(Group.objects.filter(district=talgar).values_list("inspector__username", flat=True)) == {"inspector"}
        assert set(Group.objects.filter(district=talgar).values_list("kind", flat=True)) == set(GroupKind.values)
        assert users["leader"].roles == [Role.LEADER, Role.VOLUNTEER]

        for username in DEMO_LOGINS:
            assert authenticate(username=username, password=PASSWORD) == users[username]

    def test_every_demo_district_has_zones_within_its_boundary(self, demo):
        with_boundary = 0
        for district in District.objects.prefetch_related("zones"):
            zones = [zone for zone in district.zones.all() if not zone.is_archived]
            assert 2 <= len(zones) <= 4, district
            assert len({zone.name for zone in zones}) == len(zones)
            for zone in zones:
                assert zone.geometry.valid and zone.geometry.srid == 4326
                assert isinstance(zone.geometry, Polygon if zone.kind == ZoneKind.AREA else LineString), zone
                assert 100 <= metres_across(zone.geometry) <= 4000, zone
                assert distance_m(zone.geometry, district.centre) < 8000, zone
                if district.boundary is not None:
                    assert covered_by(district.boundary, zone.geometry), zone
            with_boundary += district.boundary is not None
        assert with_boundary >= 5
        assert Zone.objects.filter(kind=ZoneKind.ROUTE).exists()
        assert set(Zone.objects.filter(district__code=TALGAR).values_list("name", flat=True)) >= {
            "Орталық саябақ",
            "Базар маңы",
        }

    def test_weekly_series_in_every_district_generate_the_coming_weeks(self, demo):
        today = timezone.localdate()
        now = timezone.now()
        assert set(ShiftSeries.objects.values_list("district__code", flat=True)) == set(
            District.objects.values_list("code", flat=True)
        )
        for series in ShiftSeries.objects.select_related("zone", "inspector").prefetch_related("groups"):
            assert series.zone.district_id == series.district_id and series.is_active
            assert series.inspector.role == Role.INSPECTOR
            assert series.inspector.inspector_districts.filter(pk=series.district_id).exists()
            assert {group.pk for group in series.groups.all()} == set(
                Group.objects.filter(district_id=series.district_id, is_active=True).values_list("pk", flat=True)
            )
            assert series.starts_on < today
            assert series.generated_until >= today + datetime.timedelta(days=series_horizon_days() - 1)
            ahead = [start for start, _end in series_occurrences(series, start=today, end=series.generated_until)]
            assert sorted(series.shifts.filter(starts_at__gt=now).values_list("starts_at", flat=True)) == [
                start for start in ahead if start > now
            ]
        talgar = ShiftSeries.objects.filter(district__code=TALGAR).order_by("start_time")
        assert [(s.weekdays, s.start_time.hour, s.end_time.hour) for s in talgar] == [([3], 18, 22), ([5, 6], 20, 2)]
        assert {s.inspector.username for s in talgar} == {"inspector"}

    def test_a_year_of_past_shifts_with_attendance(self, demo):
        now = timezone.now()
        past = Shift.objects.filter(ends_at__lte=now - close_grace())
        assert 3000 <= past.count() <= 6000
        assert set(past.values_list("status", flat=True)) == {ShiftStatus.CLOSED, ShiftStatus.CANCELLED}
        assert past.filter(status=ShiftStatus.CANCELLED).count() < past.count() * 0.05
        assert past.filter(starts_at__lt=now - datetime.timedelta(days=330)).exists()
        assert past.filter(district__code=TALGAR).count() >= 150
        assert not past.filter(status=ShiftStatus.CLOSED, closed_at__isnull=True).exists()

        closed = Assignment.objects.filter(shift__status=ShiftStatus.CLOSED, shift__ends_at__lte=now - close_grace())
        share = {status: n / closed.count() for status, n in closed.values_list("status").annotate(n=Count("id"))}
        assert set(share) == {
            AssignmentStatus.COMPLETED,
            AssignmentStatus.NO_SHOW,
            AssignmentStatus.EXCUSED,
            AssignmentStatus.CANCELLED,
        }
        assert share[AssignmentStatus.COMPLETED] > 0.75
        assert 0.05 < share[AssignmentStatus.NO_SHOW] < 0.12
        assert 0.01 < share[AssignmentStatus.EXCUSED] < 0.06
        assert closed.filter(status=AssignmentStatus.CANCELLED, cancelled_late=True).exists()
        assert closed.filter(status=AssignmentStatus.CANCELLED, cancelled_late=False).exists()
        assert not closed.filter(created_at__gte=now - datetime.timedelta(minutes=10)).exists()

        completed = closed.filter(status=AssignmentStatus.COMPLETED).select_related("shift__zone")
        assert not completed.filter(Q(check_in_at__isnull=True) | Q(check_out_at__isnull=True)).exists()
        outside = completed.filter(check_in_outside=True)
        assert 0.02 < outside.count() / completed.count() < 0.09
        tolerance = checkin_tolerance_m()
        assert not completed.filter(check_in_outside=True, check_in_distance_m__lte=tolerance).exists()
        assert not completed.filter(check_in_outside=False, check_in_distance_m__gt=tolerance).exists()
        assert not outside.filter(Q(check_in_distance_m__lt=150) | Q(check_in_distance_m__gt=1000)).exists()
        for assignment in [*completed.order_by("pk")[:200], *outside.order_by("pk")[:50]]:
            shift = assignment.shift
            assert abs(assignment.check_in_at - shift.starts_at) <= datetime.timedelta(minutes=30)
            assert shift.starts_at < assignment.check_out_at <= shift.ends_at + close_grace()
            assert assignment.created_at < shift.starts_at
            measured = distance_m(shift.zone.geometry, assignment.check_in_point)
            assert abs(measured - assignment.check_in_distance_m) <= max(5, 0.02 * measured), assignment

        me = Volunteer.objects.get(user__username="volunteer")
        assert me.assignments.filter(status=AssignmentStatus.COMPLETED, shift__district__code=TALGAR).count() >= 10

    def test_nobody_is_on_two_shifts_at_once(self, demo):
        busy = defaultdict(list)
        rows = Assignment.objects.exclude(status=AssignmentStatus.CANCELLED).values_list(
            "volunteer_id", "shift__starts_at", "shift__ends_at"
        )
        for volunteer_id, starts_at, ends_at in rows:
            busy[volunteer_id].append((starts_at, ends_at))
        for volunteer_id, spans in busy.items():
            spans.sort()
            for (_start, end), (next_start, _end) in zip(spans, spans[1:], strict=False):
                assert end <= next_start, volunteer_id

    def test_the_demo_volunteer_has_open_shifts_in_the_coming_week(self, demo):
        now = timezone.now()
        user = User.objects.get(username="volunteer")
        me = user.volunteer
        my_groups = set(Membership.objects.filter(volunteer=me, left_on=None).values_list("group_id", flat=True))
        coming = list(
            Shift.objects.visible_to(user)
            .filter(status=ShiftStatus.SCHEDULED, starts_at__gt=now, starts_at__lte=now + WEEK)
            .annotate(
                seats=Count("assignments", filter=Q(assignments__status__in=SEAT_STATUSES)),
                waiting=Count("assignments", filter=Q(assignments__status=AssignmentStatus.WAITLISTED)),
            )
            .order_by("starts_at")
        )
        assert len(coming) >= 4
        assert {shift.district.code for shift in coming} == {TALGAR}
        assert all(my_groups & set(shift.groups.values_list("pk", flat=True)) for shift in coming)

        mine = [s for s in coming if s.assignments.filter(volunteer=me, status=AssignmentStatus.SIGNED_UP).exists()]
        assert len(mine) == 1
        assert any(s.seats == s.max_volunteers and s.waiting >= 1 for s in coming)
        assert any(0 < s.seats < s.max_volunteers for s in coming if s not in mine)
        tomorrow = timezone.localdate() + datetime.timedelta(days=1)
        assert any(
            timezone.localtime(s.starts_at).date() <= tomorrow and timezone.localtime(s.starts_at).hour >= 17
            for s in coming
        )

        my_spans = me.assignments.filter(status__in=BUSY_STATUSES).values_list("shift__starts_at", "shift__ends_at")
        open_to_me = [
            s
            for s in coming
            if s.seats < s.max_volunteers
            and not any(s.starts_at < end and start < s.ends_at for start, end in my_spans)
        ]
        assert open_to_me
        assignment = shift_signup(shift=open_to_me[0], volunteer=me, by=user)
        assert assignment.status == AssignmentStatus.SIGNED_UP

    def test_a_year_of_reports_in_every_state(self, demo):
        reports = Report.objects.all()
        total = reports.count()
        assert 5000 <= total <= 12000
        statuses = Counter(reports.values_list("status", flat=True))
        assert set(statuses) == set(ReportStatus.values)
        assert statuses[ReportStatus.VERIFIED] > 0.8 * total
        assert 0.02 * total < statuses[ReportStatus.REJECTED] < 0.12 * total
        assert 0.005 * total < statuses[ReportStatus.NEEDS_INFO] < 0.05 * total
        assert set(reports.values_list("district__code", flat=True)) == set(
            District.objects.values_list("code", flat=True)
        )

        # Mostly filed on the year's shifts, by a volunteer who was on the shift, while it lasted, in or near its zone.
        on_shift = reports.filter(shift__isnull=False)
        assert 0.75 * total < on_shift.count() < 0.95 * total
        for report in on_shift.select_related("shift__zone").order_by("pk")[::40]:
            shift = report.shift
            assert shift.assignments.filter(volunteer=report.reporter_id, status=AssignmentStatus.COMPLETED).exists()
            assert shift.starts_at - datetime.timedelta(minutes=30) <= report.occurred_at <= shift.ends_at
            assert distance_m(shift.zone.geometry, report.location) < 1000 or report.flags
            assert report.created_at >= report.occurred_at

        # More in summer than in winter; some districts well ahead of others, Talgar the busiest.
        months = Counter(timezone.localtime(at).month for at in reports.values_list("occurred_at", flat=True))
        assert months[6] + months[7] > 1.4 * (months[1] + months[2])
        per_district = Counter(reports.values_list("district__code", flat=True))
        ranked = per_district.most_common()
        assert ranked[0][0] == TALGAR
        assert ranked[1][1] > 3 * ranked[-1][1]

        # Outcomes: most prevented, some solved with an ЕРДР number, at about the ministry's ratio (307 : 15,000).
        counted = reports.filter(status=ReportStatus.VERIFIED, duplicate_of=None)
        outcomes = Counter(counted.values_list("outcome__code", flat=True))
        assert set(outcomes) == set(OutcomeCode.values)
        assert outcomes[OutcomeCode.PREVENTED] > 0.55 * sum(outcomes.values())
        assert 0.01 < outcomes[OutcomeCode.SOLVED] / outcomes[OutcomeCode.PREVENTED] < 0.04
        for number in reports.filter(outcome__code=OutcomeCode.SOLVED).values_list("case_number", flat=True):
            assert re.fullmatch(r"\d{15}", number), number

        # Categories follow the kind of group: Sarbaz watch livestock, student squads the youth at night.
        by_kind = defaultdict(Counter)
        rows = reports.filter(shift__isnull=False).values_list(
            "reporter__memberships__group__kind", "category__code", "occurred_at"
        )
        for kind, category, occurred_at in rows:
            by_kind[kind][category] += 1
            if category == "minors_at_night":
                assert not 6 <= timezone.localtime(occurred_at).hour < 22
        assert by_kind[GroupKind.SARBAZ].most_common(1)[0][0] == "livestock_theft"
        squads = by_kind[GroupKind.STUDENT_SQUAD]
        assert squads.most_common(1)[0][0] == "public_drinking"
        assert "minors_at_night" in {code for code, _n in squads.most_common(4)}
        assert by_kind[GroupKind.PUBLIC_ASSISTANTS].most_common(1)[0][0] in {"petty_hooliganism", "public_disorder"}

        # Written in Kazakh and in Russian, with other people's details on some.
        descriptions = list(reports.values_list("description", flat=True)[:2000])
        assert all(descriptions)
        assert any(re.search("[әғқңөұүһі]", text) for text in descriptions)
        assert any(re.search("[ыэъё]", text) for text in descriptions)
        assert 0.05 * total < reports.exclude(third_party_details="").count() < 0.5 * total

    def test_each_report_has_the_history_of_its_status(self, demo):
        inspectors = defaultdict(set)
        for user_id, district_id in User.inspector_districts.through.objects.values_list("user_id", "district_id"):
            inspectors[district_id].add(user_id)
        events = defaultdict(list)
        reasons = {}
        for row in ReportEvent.objects.order_by("pk").values_list(
            "report_id", "kind", "from_status", "to_status", "note", "by_id", "at", "reason", "reason_params"
        ):
            events[row[0]].append(row[1:7])
            reasons[row[0]] = row[7:]
        delays = []
        for report in Report.objects.order_by("pk"):
            history = events[report.pk]
            kind, _from, to, _note, by, at = history[0]
            assert (kind, to, at) == (ReportEventKind.SUBMITTED, ReportStatus.SUBMITTED, report.created_at)
            last_kind, _from, last_to, last_note, last_by, last_at = history[-1]
            assert last_to == report.status, report.pk
            assert report.updated_at == last_at
            assert [a for *_rest, a in history] == sorted(a for *_rest, a in history)
            if report.status == ReportStatus.SUBMITTED:
                assert last_kind in (ReportEventKind.SUBMITTED, ReportEventKind.RESUBMITTED)
                continue
            assert last_by in inspectors[report.district_id]
            if report.status == ReportStatus.VERIFIED:
                assert last_kind == ReportEventKind.VERIFIED
                assert (report.verified_by_id, report.verified_at) == (last_by, last_at)
                # A day or two after it was (last) sent.
                sent = max(at for kind, _f, _t, _n, _b, at in history if kind != ReportEventKind.VERIFIED)
                assert sent < report.verified_at <= sent + datetime.timedelta(days=4)
                delays.append((report.verified_at - sent).total_seconds() / 3600)
            elif report.duplicate_of_id:
                # Kept as facts, as report_mark_duplicate keeps them: each reader is told the original's number in
                # their own language, whatever the inspector's.
                assert last_kind == ReportEventKind.DUPLICATE and not last_note and not report.status_note
                assert reasons[report.pk] == (AutoReason.DUPLICATE, {"number": report.duplicate_of_id})
                told = {}
                for language in ("kk", "ru"):
                    with translation.override(language):
                        told[language] = report.status_note_text
                        assert str(report.duplicate_of_id) in told[language]
                assert told["kk"] != told["ru"]
            else:
                assert (
                    last_kind
                    == {
                        ReportStatus.REJECTED: ReportEventKind.REJECTED,
                        ReportStatus.NEEDS_INFO: ReportEventKind.NEEDS_INFO,
                    }[report.status]
                )
                assert last_note and report.status_note == last_note
            if any(kind == ReportEventKind.RESUBMITTED for kind, *_rest in history):
                assert report.description.endswith(
                    next(note for kind, _f, _t, note, *_rest in history if kind == ReportEventKind.RESUBMITTED)
                )
        assert 12 <= statistics.median(delays) <= 60

    def test_the_demo_inspector_has_a_queue_of_talgar_reports_with_flags(self, demo):
        inspector = User.objects.get(username="inspector")
        queue = list(report_queue(inspector))
        assert 15 <= len(queue) <= 40
        assert {report.district.code for report in queue} == {TALGAR}
        assert set(Report.objects.filter(district__code=TALGAR, status=ReportStatus.SUBMITTED)) == set(queue)
        assert Report.objects.filter(status=ReportStatus.SUBMITTED).exclude(district__code=TALGAR).exists()
        assert not Report.objects.filter(
            status=ReportStatus.SUBMITTED, created_at__lt=timezone.now() - datetime.timedelta(days=21)
        ).exists()
        stored = {flag["code"] for report in queue for flag in report.flags}
        assert {ReportFlag.OUTSIDE_ZONE, ReportFlag.TOO_FAST, ReportFlag.LIKELY_DUPLICATE} <= stored
        assert len([report for report in queue if report.flags]) < len(queue) / 2

        # The flags are those `report_flags` finds; duplicates it finds filed later were not there yet.
        for report in queue:
            assignment = _reporter_shift(report.reporter, report.occurred_at)
            assert (assignment.shift_id if assignment else None) == report.shift_id
            assert district_for_point(report.location) == report.district
            found = {flag["code"]: flag for flag in report_flags(report, assignment)}
            mine = {flag["code"]: flag for flag in report.flags}
            assert set(mine) - {ReportFlag.LIKELY_DUPLICATE} == set(found) - {ReportFlag.LIKELY_DUPLICATE}, report
            if ReportFlag.LIKELY_DUPLICATE in mine:
                twins = set(mine[ReportFlag.LIKELY_DUPLICATE]["reports"])
                assert twins <= set(found[ReportFlag.LIKELY_DUPLICATE]["reports"])
                assert Report.objects.filter(pk__in=twins, created_at__lt=report.created_at).count() == len(twins)
        assert Report.objects.filter(flags__contains=[{"code": ReportFlag.OUTSIDE_SHIFT}], shift=None).exists()

    def test_duplicates_point_at_verified_originals(self, demo):
        duplicates = Report.objects.filter(duplicate_of__isnull=False).select_related("duplicate_of")
        assert 5 <= duplicates.count() <= 200
        for report in duplicates:
            original = report.duplicate_of
            assert report.status == ReportStatus.REJECTED and original.status == ReportStatus.VERIFIED
            assert original.duplicate_of_id is None
            assert (report.district_id, report.category_id, report.shift_id) == (
                original.district_id,
                original.category_id,
                original.shift_id,
            )
            assert report.reporter_id != original.reporter_id
            assert abs(report.occurred_at - original.occurred_at) <= datetime.timedelta(minutes=30)
            assert distance_m(original.location, report.location) <= 300
            assert any(flag["code"] == ReportFlag.LIKELY_DUPLICATE for flag in report.flags)

    def test_the_demo_logins_have_notifications_to_read(self, demo):
        now = timezone.now()
        volunteer = User.objects.get(username="volunteer")
        unread = {n.kind: n for n in Notification.objects.filter(user=volunteer, read_at=None)}
        assert {
            NotificationKind.SHIFT_REMINDER,
            NotificationKind.PROMOTED,
            NotificationKind.REPORT_VERIFIED,
            NotificationKind.REPORT_NEEDS_INFO,
        } <= set(unread)
        assert Notification.objects.filter(user=volunteer, read_at__isnull=False).exists()

        reminder = unread[NotificationKind.SHIFT_REMINDER]
        assert reminder.shift.starts_at > now and reminder.shift.district.code == TALGAR
        assignment = Assignment.objects.get(pk=reminder.details["assignment"])
        assert assignment.volunteer.user == volunteer and assignment.status == AssignmentStatus.SIGNED_UP
        promoted = unread[NotificationKind.PROMOTED]
        assert promoted.shift == reminder.shift
        assert ShiftEvent.objects.filter(
            shift=promoted.shift, volunteer=assignment.volunteer, kind=ShiftEventKind.PROMOTED
        ).exists()
        verified = unread[NotificationKind.REPORT_VERIFIED]
        assert verified.report.status == ReportStatus.VERIFIED and verified.report.reporter.user == volunteer
        assert verified.created_at == verified.report.verified_at
        asked = unread[NotificationKind.REPORT_NEEDS_INFO]
        assert asked.report.status == ReportStatus.NEEDS_INFO and asked.report.reporter.user == volunteer
        assert asked.details["question"] == asked.report.status_note
        assert Report.objects.filter(reporter__user=volunteer, status=ReportStatus.SUBMITTED).exists()

        inspector = User.objects.get(username="inspector")
        unread = {n.kind: n for n in Notification.objects.filter(user=inspector, read_at=None)}
        assert {NotificationKind.UNDERSTAFFED, NotificationKind.INSPECTOR_DIGEST} <= set(unread)
        thin = unread[NotificationKind.UNDERSTAFFED].shift
        assert thin.starts_at > now and thin.district.code == TALGAR and thin.understaffed_at is not None
        assert thin.assignments.filter(status__in=SEAT_STATUSES).count() < thin.min_volunteers
        assert unread[NotificationKind.INSPECTOR_DIGEST].details["waiting"] == report_queue(inspector).count()

        # In-app only: no email or SMS goes out for demo data; every message reads well.
        assert not Delivery.objects.exists()
        for notification in Notification.objects.select_related("user", "shift__zone"):
            with translation.override("en"):
                assert render(notification).body

    def test_the_command_loads_extra_reports_once_and_prints_the_logins(self, demo, capsys, settings):
        settings.DEBUG = True
        before = counts()
        queue = report_queue(User.objects.get(username="inspector")).count()
        with translation.override("en"):
            call_command("seed_demo", "--reports", "500", "--password", PASSWORD)

        out = capsys.readouterr().out
        assert "Created 0 patrol zones, 0 weekly series, 0 shifts and 0 assignments." in out
        assert "Created 0 reports with 0 history entries and 0 notifications." in out
        assert re.search(r"Loaded 500 of 500 extra reports in \d+\.\d s", out)
        assert re.search(r"Patrols: \d+ zones, \d+ weekly series, \d+ shifts \(\d+ closed, [1-9]\d* open", out)
        assert "Demo logins (password: demo-pass-42)" in out
        assert all(f"  {username}" in out for username in DEMO_LOGINS)
        assert authenticate(username="volunteer", password=PASSWORD) is not None
        after = counts()
        assert after["Report"] == before["Report"] + 500
        assert after["ReportEvent"] == before["ReportEvent"] + 1000
        # Verified extra reports add figures to their reporters' ledgers (and only those): the recount agrees.
        assert after["LedgerMonth"] >= before["LedgerMonth"]
        assert ledger_rebuild(apply=False) == []
        grows = {"LedgerMonth"}
        assert {n: c for n, c in after.items() if not n.startswith("Report") and n not in grows} == {
            n: c for n, c in before.items() if not n.startswith("Report") and n not in grows
        }

        extra = Report.objects.order_by("-pk")[:500]
        assert {report.status for report in extra} <= {
            ReportStatus.VERIFIED,
            ReportStatus.REJECTED,
            ReportStatus.NEEDS_INFO,
        }
        assert sum(report.status == ReportStatus.VERIFIED for report in extra) > 400
        assert len({report.district_id for report in extra}) >= 40
        assert len({timezone.localtime(report.occurred_at).month for report in extra}) >= 10
        assert report_queue(User.objects.get(username="inspector")).count() == queue
        for report in extra[:50]:
            assert [e.kind for e in report.events.order_by("at")] == [ReportEventKind.SUBMITTED, report.status]
            assert report.created_at > report.occurred_at and report.updated_at > report.created_at

        with translation.override("en"):
            call_command("seed_demo", "--reports", "500", "--password", PASSWORD)
        assert "Loaded 0 of 500 extra reports" in capsys.readouterr().out
        assert counts() == after

    def test_running_it_again_changes_nothing_but_the_password(self, demo, capsys, settings):
        """Seeding the full country a second time (in this test's transaction) creates nothing and only sets the
        password again; `--once` then does nothing at all."""
        settings.DEBUG = True
        first = demo
        before = counts()

        second = demo_seed(password="another-pass-7")

        assert first["volunteers"] > 0 and first["groups"] > 0
        assert first["zones"] > 0 and first["series"] > 0 and first["shifts"] > 0 and first["assignments"] > 0
        assert first["reports"] > 0 and first["report_events"] > first["reports"] and first["notifications"] > 0
        assert set(second.values()) == {0}
        assert counts() == before
        assert authenticate(username="admin", password="another-pass-7") is not None
        assert authenticate(username="admin", password=PASSWORD) is None

        with translation.override("en"):
            call_command("seed_demo", "--once")
        assert "already there" in capsys.readouterr().out
        assert counts() == before

    def test_the_story_region_has_a_duty_unit_in_every_district_and_its_operational_centre(self, demo):
        region = Region.objects.get(code="KZ-19")
        units = DutyUnit.objects.filter(region=region)
        assert units.filter(level="region").count() == 1
        assert set(units.filter(level="district").values_list("district__code", flat=True)) == set(
            District.objects.filter(region=region).values_list("code", flat=True)
        )
        for unit in units:
            unit.full_clean()
            assert unit.phones and unit.email.endswith("@example.kz") and not unit.webhook_url

    def test_every_page_of_every_role_fits_a_phone_passes_axe_and_writes_dates_as_at_home(
        self, demo_sessions, demo, monkeypatch
    ):
        """Every page each demo login reaches, in Chromium on a 360 px phone, in kk and ru (tests/support/page_walk.py):
        nothing scrolls sideways, axe-core finds no serious or critical violation, no date is written the American
        way. Last in the class: the pages it opens may mark notifications read."""
        monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        with live_server() as origin:
            walks = walk_in_phones(origin, demo_sessions, languages=("kk", "ru"))
        connections.close_all()
        problems = [f"{username} {language} {line}" for (username, language), w in walks.items() for line in w.problems]
        assert not problems, "\n".join(problems)
        for username in DEMO_LOGINS:
            kinds = {language: {name_of(path) for path in walks[username, language].pages} for language in ("kk", "ru")}
            assert len(kinds["kk"]) >= 8 and kinds["kk"] == kinds["ru"], username


def test_it_refuses_a_system_with_debug_off_unless_told(db, settings):
    settings.DEBUG = False
    with translation.override("en"), pytest.raises(CommandError, match="--allow-production"):
        call_command("seed_demo", "--once")
    assert not User.objects.filter(username="admin").exists()
