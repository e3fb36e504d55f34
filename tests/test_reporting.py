"""Reports from Talgar's streets: filed once, placed in the right district, photos cleaned, flags raised, verified."""

import datetime
import io
import math
import threading
import uuid

import pytest
from django.contrib.gis.geos import Point
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.utils import timezone
from PIL import Image

from patrols.models import Category, Notification, Outcome, Report, ReportPhoto
from patrols.services import attendance, reporting, scheduling
from tests.factories import DistrictFactory, MembershipFactory, ShiftFactory, UserFactory, VolunteerFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def category(code: str = "petty_hooliganism") -> Category:
    return Category.objects.get(code=code)


def outcome(code: str = "prevented") -> Outcome:
    return Outcome.objects.get(code=code)


def file_report(user, *, point=None, when=None, client_uuid=None, **extra):
    district = user.volunteer.district
    data = {
        "by": user,
        "client_uuid": client_uuid or uuid.uuid4(),
        "occurred_at": when or timezone.now() - datetime.timedelta(minutes=5),
        "point": point or Point(district.centre.x, district.centre.y, srid=4326),
        "category": category(),
        "outcome": outcome(),
        "description": "Екі жасөспірім дүкен алдында төбелескен, ажыратып жібердік.",
    }
    data.update(extra)
    return reporting.report_submit(**data)


def jpeg(size=(800, 600), exif_orientation: int | None = 6, gps: bool = True) -> bytes:
    image = Image.new("RGB", size, (120, 60, 30))
    exif = Image.Exif()
    if exif_orientation:
        exif[0x0112] = exif_orientation
    if gps:
        exif[0x010F] = "PhoneMaker"
        exif[0x8825] = {1: "N", 2: (43.0, 18.0, 0.0)}
    out = io.BytesIO()
    image.save(out, format="JPEG", exif=exif.tobytes())
    return out.getvalue()


def test_the_same_report_sent_twice_is_kept_once(volunteer):
    key = uuid.uuid4()
    first, created = file_report(volunteer, client_uuid=key)
    again, created_again = file_report(volunteer, client_uuid=key, description="other text")
    assert (created, created_again) == (True, False)
    assert again.pk == first.pk
    assert Report.objects.count() == 1
    assert first.events.get().kind == "submitted"


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_twenty_phones_racing_with_one_client_uuid_make_one_report(volunteer):
    key, results, errors = uuid.uuid4(), [], []
    barrier = threading.Barrier(20)

    def send():
        try:
            barrier.wait()
            report, _created = file_report(volunteer, client_uuid=key)
            results.append(report.pk)
        except Exception as error:  # the test reports any failure below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=send) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(set(results)) == 1
    assert Report.objects.filter(client_uuid=key).count() == 1


def test_someone_elses_client_uuid_is_refused(volunteer, leader):
    key = uuid.uuid4()
    file_report(volunteer, client_uuid=key)
    with pytest.raises(ValidationError):
        file_report(leader, client_uuid=key)


def test_the_district_comes_from_the_boundary_else_the_nearest_centre(volunteer, district, other_district):
    inside, _ = file_report(volunteer, point=Point(district.centre.x + 0.05, district.centre.y, srid=4326))
    assert inside.district == district
    # Karaganda's Abay District has no boundary drawn here; a point near its centre goes to it.
    other_district.boundary = None
    other_district.save()
    near_other, _ = file_report(
        volunteer, point=Point(other_district.centre.x + 0.1, other_district.centre.y, srid=4326)
    )
    assert near_other.district == other_district


@pytest.mark.parametrize(
    "lng, lat",
    [(37.62, 55.75), (74.59, 42.87), (69.24, 41.30), (60.0, 44.5)],  # Moscow, Bishkek, Tashkent, the Aral in Uzbekistan
)
def test_a_point_outside_kazakhstan_is_refused(volunteer, lng, lat):
    with pytest.raises(ValidationError) as caught:
        file_report(volunteer, point=Point(lng, lat, srid=4326))
    assert "location" in caught.value.message_dict
    assert Report.objects.count() == 0


@pytest.mark.parametrize("lng, lat", [(71.43, 51.13), (76.95, 43.25), (51.17, 43.65), (82.61, 49.95)])
def test_points_across_kazakhstan_are_accepted(volunteer, lng, lat):
    DistrictFactory(centre=Point(lng, lat, srid=4326), boundary=None)
    report, _ = file_report(volunteer, point=Point(lng, lat, srid=4326))
    assert report.pk


def test_solved_needs_the_erdr_number(volunteer):
    with pytest.raises(ValidationError) as caught:
        file_report(volunteer, outcome=outcome("solved"))
    assert "case_number" in caught.value.message_dict
    with pytest.raises(ValidationError):
        file_report(volunteer, outcome=outcome("solved"), case_number="12345")
    report, _ = file_report(volunteer, outcome=outcome("solved"), case_number="2475 1203 1000 123")
    assert report.case_number == "247512031000123"
    assert Report.objects.count() == 1


def test_a_time_in_the_future_is_refused(volunteer):
    with pytest.raises(ValidationError) as caught:
        file_report(volunteer, when=timezone.now() + datetime.timedelta(hours=2))
    assert "occurred_at" in caught.value.message_dict


def test_a_report_is_tied_to_the_current_shift_and_flagged_outside_its_zone(volunteer, zone, group, inspector):
    shift = ShiftFactory(
        zone=zone,
        inspector=inspector,
        groups=[group],
        starts_at=timezone.now() + datetime.timedelta(minutes=10),
        ends_at=timezone.now() + datetime.timedelta(hours=4),
    )
    assignment = scheduling.shift_signup(shift=shift, volunteer=volunteer.volunteer, by=volunteer)
    attendance.shift_check_in(assignment=assignment, by=volunteer, point=zone.geometry.centroid)
    inside, _ = file_report(volunteer, point=zone.geometry.centroid, when=timezone.now())
    assert inside.shift == shift
    assert inside.flags == []
    far = Point(zone.geometry.centroid.x + 0.05, zone.geometry.centroid.y, srid=4326)
    outside, _ = file_report(volunteer, point=far, when=timezone.now())
    assert outside.shift == shift
    zone_flags = [flag for flag in outside.flags if flag["code"] == "outside_zone"]
    assert zone_flags and zone_flags[0]["distance_m"] > 3000


def test_a_report_outside_any_shift_is_flagged(volunteer):
    report, _ = file_report(volunteer)
    assert [flag["code"] for flag in report.flags] == ["outside_shift"]
    assert report.shift is None


def test_an_impossible_journey_is_flagged(volunteer, district):
    start = timezone.now() - datetime.timedelta(minutes=40)
    file_report(volunteer, when=start)
    # 64 km east in 20 minutes is about 190 km/h.
    far = Point(district.centre.x + 0.8, district.centre.y, srid=4326)
    DistrictFactory(centre=far, boundary=None)
    quick, _ = file_report(volunteer, when=start + datetime.timedelta(minutes=20), point=far)
    codes = [flag["code"] for flag in quick.flags]
    assert "too_fast" in codes


def test_a_likely_duplicate_from_another_volunteer_is_flagged(volunteer, leader):
    first, _ = file_report(volunteer)
    near = Point(first.location.x + 0.001, first.location.y, srid=4326)
    second, _ = file_report(leader, point=near)
    twin = [flag for flag in second.flags if flag["code"] == "likely_duplicate"]
    assert twin and twin[0]["reports"] == [first.pk]
    other_kind, _ = file_report(leader, point=near, category=category("littering"))
    assert "likely_duplicate" not in [flag["code"] for flag in other_kind.flags]


def test_twins_are_reports_within_the_radius_north_south_east_or_west(volunteer, leader, teammates):
    """300 m by default: 280 m away in any direction is a twin, 330 m is not (the SQL box cuts none too early)."""
    first, _ = file_report(volunteer)
    metres_lat = 1 / 111_320
    metres_lng = 1 / (111_320 * math.cos(math.radians(first.location.y)))
    moves = {"north": (0, 280 * metres_lat), "south": (0, -280 * metres_lat), "east": (280 * metres_lng, 0)}
    moves |= {"west": (-280 * metres_lng, 0), "far east": (330 * metres_lng, 0), "far north": (0, 330 * metres_lat)}
    for (name, (dx, dy)), person in zip(moves.items(), teammates, strict=True):
        point = Point(first.location.x + dx, first.location.y + dy, srid=4326)
        report, _ = file_report(person, point=point)
        twins = [flag["reports"] for flag in report.flags if flag["code"] == "likely_duplicate"]
        assert (twins == [[first.pk]]) == (not name.startswith("far")), (name, report.flags)


@pytest.fixture
def teammates(group):
    """Six more registered volunteers of `group`, with accounts."""
    people = []
    for number in range(6):
        person = VolunteerFactory(district=group.district, user=UserFactory(username=f"mate{number}"))
        MembershipFactory(volunteer=person, group=group)
        people.append(person.user)
    return people


def test_every_verification_step_is_recorded_and_told(volunteer, inspector):
    report, _ = file_report(volunteer)
    reporting.report_request_info(report=report, by=inspector, question="Қай дүкен?")
    with pytest.raises(ValidationError):
        reporting.report_verify(report=Report.objects.get(pk=report.pk), by=volunteer)
    reporting.report_resubmit(report=report, by=volunteer, answer="«Магнум» дүкені, Абай көшесі 12")
    reporting.report_verify(report=report, by=inspector)
    reporting.report_reject(report=report, by=inspector, reason="Оқиға расталмады")
    report.refresh_from_db()
    assert report.status == "rejected"
    assert "Абай көшесі" in report.description
    history = list(report.events.order_by("at", "id").values_list("kind", "from_status", "to_status", "by__username"))
    assert history == [
        ("submitted", "", "submitted", "volunteer"),
        ("needs_info", "submitted", "needs_info", "inspector"),
        ("resubmitted", "needs_info", "submitted", "volunteer"),
        ("verified", "submitted", "verified", "inspector"),
        ("rejected", "verified", "rejected", "inspector"),
    ]
    kinds = set(Notification.objects.filter(user=volunteer, report=report).values_list("kind", flat=True))
    assert kinds == {"report_needs_info", "report_verified", "report_rejected"}


def test_a_rejection_needs_a_reason_and_another_district_cannot_verify(volunteer, inspector, other_inspector):
    report, _ = file_report(volunteer)
    with pytest.raises(ValidationError):
        reporting.report_reject(report=report, by=inspector, reason="  ")
    with pytest.raises(ValidationError):
        reporting.report_verify(report=report, by=other_inspector)
    report.refresh_from_db()
    assert report.status == "submitted"
    assert report.events.count() == 1


def test_marking_a_duplicate_counts_the_event_once(volunteer, leader, inspector):
    first, _ = file_report(volunteer)
    second, _ = file_report(leader)
    reporting.report_verify(report=first, by=inspector)
    reporting.report_mark_duplicate(report=second, original=first, by=inspector)
    second.refresh_from_db()
    assert (second.status, second.duplicate_of_id) == ("rejected", first.pk)
    assert Report.objects.filter(status="verified").count() == 1
    with pytest.raises(ValidationError):
        reporting.report_verify(report=second, by=inspector)
    with pytest.raises(ValidationError):
        reporting.report_mark_duplicate(report=first, original=first, by=inspector)


def test_bulk_verify_goes_on_past_a_report_that_cannot_be_verified(volunteer, leader, inspector):
    first, _ = file_report(volunteer)
    second, _ = file_report(leader)
    third, _ = file_report(volunteer)
    reporting.report_mark_duplicate(report=third, original=first, by=inspector)
    result = reporting.report_bulk_verify(
        reports=[first, second, third], by=inspector, flagged_on_purpose=[first.pk, second.pk, third.pk]
    )
    assert result.verified == 2
    assert [pk for pk, _reason in result.skipped] == [third.pk]
    assert list(reporting.report_queue(inspector)) == []


def test_the_queue_is_oldest_first_and_only_the_inspectors_districts(volunteer, inspector, other_inspector):
    first, _ = file_report(volunteer)
    second, _ = file_report(volunteer)
    assert list(reporting.report_queue(inspector)) == [first, second]
    assert list(reporting.report_queue(other_inspector)) == []


def test_a_photo_is_cleaned_of_metadata_but_keeps_its_orientation(volunteer):
    report, _ = file_report(volunteer)
    photo, created = reporting.report_photo_add(
        report=report, by=volunteer, upload=SimpleUploadedFile("street.jpg", jpeg((3000, 2000)))
    )
    assert created
    with Image.open(photo.image.path) as stored:
        exif = stored.getexif()
        assert stored.format == "JPEG"
        assert max(stored.size) <= 2560
        assert dict(exif) == {0x0112: 6}
    again, created_again = reporting.report_photo_add(
        report=report, by=volunteer, upload=SimpleUploadedFile("street.jpg", jpeg((3000, 2000)))
    )
    assert (again.pk, created_again) == (photo.pk, False)


def _png_bomb() -> bytes:
    out = io.BytesIO()
    Image.new("1", (20000, 20000)).save(out, format="PNG")
    return out.getvalue()


@pytest.mark.parametrize(
    "name, make, code",
    [
        ("notes.jpg", lambda: "Бұл сурет емес, мәтін.".encode() * 50, "not_image"),
        ("big.jpg", lambda: b"\xff\xd8\xff\xe0" + b"\0" * (30 * 1024 * 1024), "too_large"),
        ("bomb.png", _png_bomb, "too_many_pixels"),
        ("empty.jpg", lambda: b"", "empty"),
        ("fake.gif", lambda: b"GIF89a" + b"\0" * 100, "not_image"),
    ],
)
def test_bad_photos_are_refused_with_a_clear_error(volunteer, name, make, code):
    report, _ = file_report(volunteer)
    with pytest.raises(ValidationError) as caught:
        reporting.report_photo_add(report=report, by=volunteer, upload=SimpleUploadedFile(name, make()))
    assert caught.value.error_dict["photo"][0].code == code
    assert ReportPhoto.objects.count() == 0


def test_only_the_reporter_adds_photos_and_only_while_pending(volunteer, leader, inspector):
    report, _ = file_report(volunteer)
    with pytest.raises(ValidationError):
        reporting.report_photo_add(report=report, by=leader, upload=SimpleUploadedFile("a.jpg", jpeg()))
    reporting.report_verify(report=report, by=inspector)
    with pytest.raises(ValidationError):
        reporting.report_photo_add(report=report, by=volunteer, upload=SimpleUploadedFile("a.jpg", jpeg()))
