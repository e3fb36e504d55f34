"""Whatever volunteers and inspectors do, in whatever order, the kept tallies equal a direct count.

Hypothesis plays random sequences of filing, verifying, rejecting, asking for information, answering, marking
duplicates and verifying again, by volunteers of two regions and of every kind of group (and one without a group),
at hours that fall on either side of midnight in Almaty; and of patrols: check-ins inside the zone, near it (waiting
for confirmation), far from it (refused) or with a poor position, check-outs early with a reason or at the end,
shifts closed with people still checked in, and the inspector confirming, declining and correcting hours. After
each sequence every scope the dashboards show (the country, each region, each district, each kind of group, by
month) is counted straight from the reports, and the patrol minutes straight from the assignments.
"""

import datetime
import uuid

import pytest
from django.contrib.gis.geos import Point
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from patrols.choices import BenchmarkLevel, GroupKind, ReportStatus
from patrols.clock import LOCAL_TZ
from patrols.models import Assignment, Category, HoursTally, Outcome, Report, Shift
from patrols.services import attendance, figures, reporting, scheduling
from patrols.services.tallies import tallies_rebuild
from tests.factories import GroupFactory, MembershipFactory, ShiftFactory, UserFactory, VolunteerFactory, ZoneFactory

pytestmark = pytest.mark.django_db

OUTCOMES = ["prevented", "solved", "assistance"]
CASE_NUMBER = "241975031000123"


@pytest.fixture
def cast(district, other_district, inspector, other_inspector):
    """Five volunteers: one per kind of group in Talgar, one in Abay (another region) and one in no group."""
    people = []
    for kind in GroupKind:
        group = GroupFactory(district=district, kind=kind, inspector=inspector)
        person = VolunteerFactory(district=district, user=UserFactory())
        MembershipFactory(volunteer=person, group=group)
        people.append(person.user)
    abay = GroupFactory(district=other_district, kind=GroupKind.SARBAZ, inspector=other_inspector)
    person = VolunteerFactory(district=other_district, user=UserFactory())
    MembershipFactory(volunteer=person, group=abay)
    people.append(person.user)
    people.append(VolunteerFactory(district=district, user=UserFactory()).user)
    return {
        "people": people,
        "inspectors": {district.pk: inspector, other_district.pk: other_inspector},
        "zones": {district.pk: ZoneFactory(district=district), other_district.pk: ZoneFactory(district=other_district)},
    }


# who, minutes since the start, minutes early, where (inside, near, far), accuracy, how the patrol ends
patrol_step = st.tuples(
    st.just("patrol"),
    st.integers(0, 4),
    st.integers(0, 600),
    st.integers(0, 30),
    st.integers(0, 2),
    st.sampled_from([None, 30, 650]),
    st.sampled_from(["early", "stays", "end"]),
)


step = st.one_of(
    st.tuples(st.just("file"), st.integers(0, 6), st.sampled_from(OUTCOMES), st.integers(0, 24 * 60)),
    st.tuples(st.sampled_from(["verify", "reject", "ask", "answer"]), st.integers(0, 40)),
    st.tuples(st.just("duplicate"), st.integers(0, 40), st.integers(0, 40)),
    patrol_step,
    st.tuples(st.sampled_from(["confirm", "decline"]), st.integers(0, 20)),
    st.tuples(st.just("correct"), st.integers(0, 20), st.integers(0, 24 * 60)),
    st.tuples(st.just("close")),
)
# Metres east of the zone's centre: inside it, 600 m beyond its edge (waits for confirmation), 3 km beyond (refused).
WHERE = (0, 1400, 3800)


def patrol(cast: dict, who: int, since: int, early: int, where: int, accuracy, ending: str) -> Assignment:
    """One volunteer's patrol on a shift of their own group that started `since` minutes ago; the check-in came
    `early` minutes before the start (a backdated row, as if the phone had checked in then)."""
    user = cast["people"][who]
    membership = user.volunteer.memberships.select_related("group").get()
    district_id = membership.group.district_id
    zone = cast["zones"][district_id]
    now = timezone.now()
    shift = ShiftFactory(
        zone=zone,
        inspector=cast["inspectors"][district_id],
        groups=[membership.group],
        starts_at=now - datetime.timedelta(minutes=since),
        ends_at=now + datetime.timedelta(minutes=30),
    )
    # Sign-up closed when the shift started: the seat was taken before.
    assignment = Assignment.objects.create(shift=shift, volunteer=user.volunteer)
    centre = zone.geometry.centroid
    point = Point(centre.x + WHERE[where] / 81_300, centre.y, srid=4326)
    assignment = attendance.shift_check_in(assignment=assignment, by=user, point=point, accuracy_m=accuracy)
    Assignment.objects.filter(pk=assignment.pk).update(check_in_at=shift.starts_at - datetime.timedelta(minutes=early))
    if ending == "early":
        attendance.shift_check_out(assignment=assignment, by=user, point=point, reason="Үйге шақырды.")
    elif ending == "end":
        # The shift is over (a minute ago); one that had only just started ran half an hour.
        ended = now - datetime.timedelta(minutes=1)
        starts = min(shift.starts_at, ended - datetime.timedelta(minutes=30))
        Shift.objects.filter(pk=shift.pk).update(starts_at=starts, ends_at=ended)
        attendance.shift_check_out(assignment=assignment, by=user, point=point)
    return assignment


def close_open_shifts(now: datetime.datetime) -> None:
    """Time passes: every shift with someone still checked in ended over an hour ago and is closed."""
    ended = now - attendance.close_grace() - datetime.timedelta(minutes=1)
    for shift in Shift.objects.filter(assignments__status="checked_in").distinct():
        shift.starts_at = min(shift.starts_at, ended - datetime.timedelta(hours=1))
        shift.ends_at = ended
        shift.save(update_fields=["starts_at", "ends_at"])
    scheduling.shifts_close_finished(now=now)


def play(cast: dict, steps: list[tuple]) -> None:
    reports: list[Report] = []
    patrols: list[Assignment] = []
    now = timezone.now()
    for action, *args in steps:
        try:
            if action == "patrol":
                patrols.append(patrol(cast, *args))
                continue
            if action == "close":
                close_open_shifts(timezone.now())
                continue
            if action in {"confirm", "decline", "correct"}:
                if not patrols:
                    continue
                assignment = patrols[args[0] % len(patrols)]
                inspector = cast["inspectors"][Shift.objects.get(pk=assignment.shift_id).district_id]
                if action == "confirm":
                    attendance.attendance_confirm(assignment=assignment, by=inspector)
                elif action == "decline":
                    attendance.attendance_decline(assignment=assignment, by=inspector, reason="Аймақта болмаған.")
                else:
                    attendance.attendance_correct_hours(
                        assignment=assignment, by=inspector, minutes=args[1], reason="Журнал бойынша."
                    )
                continue
            if action == "file":
                who, code, hours = args
                user = cast["people"][who % len(cast["people"])]
                centre = user.volunteer.district.centre
                report, _created = reporting.report_submit(
                    by=user,
                    client_uuid=uuid.uuid4(),
                    occurred_at=now - datetime.timedelta(hours=hours, minutes=7),
                    point=Point(centre.x, centre.y, srid=4326),
                    category=Category.objects.get(code="petty_hooliganism"),
                    outcome=Outcome.objects.get(code=code),
                    description="Дүкен алдында төбелес болды.",
                    case_number=CASE_NUMBER if code == "solved" else "",
                )
                reports.append(report)
                continue
            if not reports:
                continue
            report = Report.objects.get(pk=reports[args[0] % len(reports)].pk)
            inspector = cast["inspectors"][report.district_id]
            if action == "verify":
                reporting.report_verify(report=report, by=inspector)
            elif action == "reject":
                reporting.report_reject(report=report, by=inspector, reason="Расталмады.")
            elif action == "ask":
                reporting.report_request_info(report=report, by=inspector, question="Қай көшеде?")
            elif action == "answer":
                reporting.report_resubmit(report=report, by=report.reporter.user, answer="Абай көшесінде.")
            else:
                original = reports[args[1] % len(reports)]
                reporting.report_mark_duplicate(report=report, original=original, by=inspector)
        except ValidationError:
            # A move the rules refuse (verifying a duplicate, answering what was not asked, a check-in far from
            # the zone): it changes nothing but the count of tries.
            pass


def minutes_directly(assignment: Assignment) -> int:
    """The minutes a patrol earns, worked out here from the rule in words: a completed patrol counts from check-in
    to check-out within the shift's times; the inspector's corrected figure wins; a check-in still waiting for
    confirmation, or declined, counts nothing."""
    if assignment.status != "completed":
        return 0
    if assignment.corrected_minutes is not None:
        return assignment.corrected_minutes
    if assignment.confirmation in {"needed", "declined"}:
        return 0
    shift = assignment.shift
    start = max(assignment.check_in_at, shift.starts_at)
    end = min(assignment.check_out_at, shift.ends_at)
    return max(0, round((end - start).total_seconds() / 60))


def patrol_minutes_directly(area: figures.Area, year: int) -> int:
    done = Assignment.objects.select_related("shift")
    if area.district:
        done = done.filter(shift__district=area.district)
    elif area.region:
        done = done.filter(shift__district__region=area.region)
    return sum(
        minutes_directly(assignment)
        for assignment in done
        if timezone.localtime(assignment.shift.starts_at, LOCAL_TZ).year == year
    )


def counting(area: figures.Area, year: int, outcome: str):
    """Straight from the reports: the verified originals of that outcome, area and Almaty calendar year."""
    start = datetime.datetime(year, 1, 1, tzinfo=LOCAL_TZ)
    reports = Report.objects.filter(
        status=ReportStatus.VERIFIED,
        duplicate_of__isnull=True,
        outcome__code=outcome,
        occurred_at__gte=start,
        occurred_at__lt=start.replace(year=year + 1),
    )
    if area.district:
        return reports.filter(district=area.district)
    if area.region:
        return reports.filter(district__region=area.region)
    return reports


def counted_directly(area: figures.Area, year: int, outcome: str, **extra) -> int:
    return counting(area, year, outcome).filter(**extra).count()


def every_area(district, other_district) -> list[figures.Area]:
    return [
        figures.Area(BenchmarkLevel.NATIONAL),
        figures.Area(BenchmarkLevel.REGION, region=district.region),
        figures.Area(BenchmarkLevel.REGION, region=other_district.region),
        figures.Area(BenchmarkLevel.DISTRICT, region=district.region, district=district),
        figures.Area(BenchmarkLevel.DISTRICT, region=other_district.region, district=other_district),
    ]


@settings(
    max_examples=35,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(steps=st.lists(step, min_size=1, max_size=30))
def test_kept_tallies_always_equal_a_direct_count(cast, district, other_district, steps):
    with transaction.atomic():
        play(cast, steps)
        years = {
            timezone.localtime(moment, LOCAL_TZ).year for moment in Report.objects.values_list("occurred_at", flat=True)
        }
        years |= {
            timezone.localtime(moment, LOCAL_TZ).year for moment in Shift.objects.values_list("starts_at", flat=True)
        }
        assert tallies_rebuild(apply=False) == [], "a kept count differs from the reports or the assignments"
        assert HoursTally.objects.filter(minutes__lt=0).count() == 0
        for area in every_area(district, other_district):
            for year in years or {timezone.localdate().year}:
                assert figures.patrol_minutes(area, year) == patrol_minutes_directly(area, year), area
                totals = figures.dashboard_totals(area, year)
                assert totals.prevented.count == counted_directly(area, year, "prevented"), area
                assert totals.solved.count == counted_directly(area, year, "solved"), area
                for row in totals.by_group_kind:
                    assert row["prevented"] == counted_directly(area, year, "prevented", group_kind=row["kind"])
                    assert row["solved"] == counted_directly(area, year, "solved", group_kind=row["kind"])
                months = [timezone.localtime(moment, LOCAL_TZ).month for moment in counting_moments(area, year)]
                assert [row["prevented"] for row in totals.by_month] == [months.count(m) for m in range(1, 13)]
        transaction.set_rollback(True)


def counting_moments(area: figures.Area, year: int) -> list[datetime.datetime]:
    return list(counting(area, year, "prevented").values_list("occurred_at", flat=True))


duty_step = st.one_of(
    patrol_step,
    patrol_step,
    st.tuples(st.sampled_from(["confirm", "decline"]), st.integers(0, 20)),
    st.tuples(st.just("correct"), st.integers(0, 20), st.integers(0, 24 * 60)),
    st.tuples(st.just("close")),
    st.tuples(st.just("file"), st.integers(0, 4), st.sampled_from(OUTCOMES), st.integers(0, 10 * 60)),
    st.tuples(st.just("verify"), st.integers(0, 40)),
)


@settings(
    max_examples=40,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(steps=st.lists(duty_step, min_size=4, max_size=20))
def test_kept_patrol_hours_always_equal_a_direct_count(cast, district, other_district, steps):
    with transaction.atomic():
        play(cast, steps)
        assert tallies_rebuild(apply=False) == [], "a kept count differs from the assignments or the reports"
        years = {
            timezone.localtime(moment, LOCAL_TZ).year for moment in Shift.objects.values_list("starts_at", flat=True)
        }
        for area in every_area(district, other_district):
            for year in years:
                assert figures.patrol_minutes(area, year) == patrol_minutes_directly(area, year), area
        transaction.set_rollback(True)
