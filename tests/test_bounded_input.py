"""Bounded work before expensive work, and no 500s on bad input (issue 12, findings 3, 5, 6, 7 and 8).

Each test is a request an outside probe sent: it gets a clear 400 (or 429), nothing changes, and where the app
used to spend a second of a web process on it, the refusal comes before any costly step.
"""

import datetime
import io
import json
import struct
import zlib

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone
from PIL import Image, PngImagePlugin

from patrols.models import ApiToken, Report, ReportPhoto
from tests.test_reports_api import filed, jpeg, upload
from tests.test_shifts_api import snapshot

pytestmark = pytest.mark.django_db


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_header_only(width: int, height: int) -> bytes:
    """A PNG that claims `width` x `height` pixels and holds no real ones: its header reads, decoding would fail."""
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header) + _chunk(b"IDAT", b"not pixels")


# Finding 3: photo uploads that tie up the web processes


def test_the_photo_count_is_checked_before_anything_is_decoded(api, volunteer, settings):
    settings.PHOTOS_PER_REPORT = 2
    report = filed(api, volunteer)
    client = api(volunteer)
    for colour in ((1, 2, 3), (4, 5, 6)):
        assert upload(client, report["id"], "a.jpg", jpeg(colour=colour)).status_code == 201
    # Not a photo at all: had it been decoded, the answer would say so; it is refused on the count.
    response = upload(client, report["id"], "fake.png", png_header_only(6320, 6320))
    assert response.status_code == 400
    assert response.json()["photo"] == ["A report has at most 2 photos."]


def test_too_many_pixels_is_refused_from_the_header_alone(api, volunteer):
    report = filed(api, volunteer)
    response = upload(api(volunteer), report["id"], "huge.png", png_header_only(6320, 6320))
    assert response.status_code == 400
    assert "too many pixels" in response.json()["photo"][0]


def test_photo_uploads_are_rate_limited_per_volunteer(api, volunteer, settings):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {"photos": "3/min"}}
    report = filed(api, volunteer)
    client = api(volunteer)
    answers = [upload(client, report["id"], f"{n}.jpg", jpeg(colour=(n, n, n))).status_code for n in range(4)]
    assert answers == [201, 201, 201, 429]
    assert ReportPhoto.objects.count() == 3


# Finding 6: metadata that survived re-encoding


def stored_bytes() -> bytes:
    photo = ReportPhoto.objects.get()
    with photo.image.open("rb") as stored:
        return stored.read()


def test_a_jpeg_comment_does_not_reach_the_stored_photo(api, volunteer):
    out = io.BytesIO()
    exif = Image.Exif()
    exif[0x0112] = 6
    Image.new("RGB", (320, 240), (90, 120, 30)).save(
        out, format="JPEG", comment=b"SECRET 43.30N 77.24E", exif=exif.tobytes()
    )
    report = filed(api, volunteer)
    assert upload(api(volunteer), report["id"], "c.jpg", out.getvalue()).status_code == 201
    kept = stored_bytes()
    assert b"SECRET" not in kept and b"43.30N" not in kept
    with Image.open(io.BytesIO(kept)) as image:
        assert image.getexif().get(0x0112) == 6, "the orientation stays"
        assert "comment" not in image.info and "icc_profile" not in image.info


def test_a_png_text_chunk_and_a_colour_profile_do_not_reach_the_stored_photo(api, volunteer):
    text = PngImagePlugin.PngInfo()
    text.add_text("comment", "SECRET 43.30N 77.24E")
    text.add_text("Description", "SECRET home address")
    out = io.BytesIO()
    Image.new("RGB", (320, 240), (90, 120, 30)).save(out, format="PNG", pnginfo=text)
    report = filed(api, volunteer)
    assert upload(api(volunteer), report["id"], "t.png", out.getvalue()).status_code == 201
    assert b"SECRET" not in stored_bytes()


# Finding 8: a multi-picture JPEG, as many phones write


def test_a_multi_picture_jpeg_is_taken_by_its_first_picture(api, volunteer):
    out = io.BytesIO()
    first, second = Image.new("RGB", (400, 300), (200, 10, 10)), Image.new("RGB", (400, 300), (10, 10, 200))
    first.save(out, format="MPO", save_all=True, append_images=[second])
    with Image.open(io.BytesIO(out.getvalue())) as probe:
        assert probe.format == "MPO"
    report = filed(api, volunteer)
    response = upload(api(volunteer), report["id"], "phone.jpg", out.getvalue())
    assert response.status_code == 201, response.json()
    with Image.open(io.BytesIO(stored_bytes())) as image:
        assert image.format == "JPEG" and image.getpixel((200, 150))[0] > 150, "the first (red) picture"


# Finding 5: deeply nested JSON and dates past the year 9999


@pytest.mark.parametrize("path", ["/api/v1/auth/token/", "/api/v1/reports/", "/api/v1/shifts/"])
def test_deeply_nested_json_is_a_400_not_a_500(api, client, volunteer, inspector, path):
    body = "[" * 2000 + "]" * 2000
    sender = {"/api/v1/auth/token/": client, "/api/v1/reports/": api(volunteer)}.get(path) or api(inspector)
    response = sender.generic("POST", path, body, content_type="application/json", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 400
    assert "nested" in json.dumps(response.json())


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/reports/?to=9999-12-31",
        "/api/v1/reports/?from=0001-01-01",
        "/api/v1/shifts/?to=9999-12-31",
        "/api/v1/shifts/?from=9999-12-31",
    ],
)
def test_dates_outside_the_years_the_data_has_are_a_400(api, inspector, path):
    response = api(inspector).get(path, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 400, response.content
    assert "between" in json.dumps(response.json())


def test_the_access_log_refuses_far_dates_too(api, admin_user):
    response = api(admin_user).get("/api/v1/access-log/?to=9999-12-31")
    assert response.status_code == 400


def test_the_week_page_refuses_a_week_past_the_calendar(web, inspector):
    response = web(inspector).get("/shifts/?week=9999-W52")
    assert response.status_code == 200
    assert response.context["monday"] == timezone.localdate() - datetime.timedelta(days=timezone.localdate().weekday())


# Finding 7: unbounded fields and far dates


def test_a_five_megabyte_description_is_refused_and_a_long_one_says_how_long(api, volunteer):
    client = api(volunteer)
    huge = client.post(
        "/api/v1/reports/",
        {**_body(volunteer), "description": "ә" * (5 * 1024 * 1024)},
        format="json",
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert huge.status_code == 400
    assert huge.json()["detail"] == "The request could not be read: it is malformed or too large."
    long = client.post(
        "/api/v1/reports/", {**_body(volunteer), "description": "ә" * 20_000}, format="json", HTTP_ACCEPT_LANGUAGE="en"
    )
    assert long.status_code == 400
    assert long.json()["description"] == ["Keep this within 5000 characters (now 20000)."]
    assert Report.objects.count() == 0


def _body(user) -> dict:
    from tests.test_reports_api import body

    return body(user.volunteer.district)


def test_a_shift_in_the_year_9999_and_a_series_to_9999_are_refused(api, inspector, zone, group):
    client = api(inspector)
    far = {
        "zone": zone.pk,
        "starts_at": "9999-01-01T20:00:00+05:00",
        "ends_at": "9999-01-01T23:00:00+05:00",
        "groups": [group.pk],
    }
    response = client.post("/api/v1/shifts/", far, format="json", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 400 and "starts_at" in response.json()
    series = {
        "zone": zone.pk,
        "weekdays": [5],
        "start_time": "20:00",
        "end_time": "23:00",
        "starts_on": timezone.localdate().isoformat(),
        "ends_on": "9999-12-31",
        "groups": [group.pk],
    }
    response = client.post("/api/v1/series/", series, format="json", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 400 and "ends_on" in response.json()


def test_a_shift_a_year_ahead_is_still_fine(api, inspector, zone, group):
    start = timezone.localtime() + datetime.timedelta(days=300)
    shift = {
        "zone": zone.pk,
        "starts_at": start.isoformat(),
        "ends_at": (start + datetime.timedelta(hours=3)).isoformat(),
        "groups": [group.pk],
    }
    assert api(inspector).post("/api/v1/shifts/", shift, format="json").status_code == 201


# Finding 8: smaller


def test_a_volunteer_of_another_region_is_not_revealed_by_the_iin_message(api, inspector, other_volunteer):
    response = api(inspector).post(
        "/api/v1/volunteers/",
        {
            "district": inspector.inspector_districts.get().code,
            "last_name": "Нұрланов",
            "first_name": "Ерлан",
            "iin": other_volunteer.volunteer.iin,
            "phone": "+77015550000",
            "consent": True,
        },
        format="json",
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert response.status_code == 400
    message = json.dumps(response.json())
    assert "already exists" not in message
    assert "another district" in message and other_volunteer.volunteer.district.name not in message


def test_a_geojson_crs_is_refused_in_json(api, inspector, district):
    zone = {
        "district": district.code,
        "name": "CRS",
        "kind": "area",
        "geometry": {
            "type": "Polygon",
            "crs": {"type": "name", "properties": {"name": "EPSG:3857"}},
            "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 0]]],
        },
    }
    response = api(inspector).post("/api/v1/zones/", zone, format="json", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 400
    assert response["Content-Type"].startswith("application/json")
    assert "crs" in response.json()["geometry"][0] and "WGS84" in response.json()["geometry"][0]


@pytest.mark.parametrize(
    "geometry",
    [
        {"type": "MultiLineString", "coordinates": [{"key": [1, "", ""]}, [[77.0, 43.0], [77.1, 43.1]]]},
        {"type": "LineString", "coordinates": [[77.0, 43.0], ["77.1", 43.1]]},
        {"type": "LineString", "coordinates": [[77.0, 43.0], [True, 43.1]]},
        {"type": "Polygon", "coordinates": [[[77.0, 43.0], [77.1], [77.1, 43.1], [77.0, 43.0]]]},
        {"type": "Point", "coordinates": "77.0,43.0"},
    ],
)
def test_geojson_coordinates_that_are_not_numbers_get_a_clear_400(api, inspector, district, zone, geometry):
    before = snapshot()
    for method, path in (("post", "/api/v1/zones/"), ("patch", f"/api/v1/zones/{zone.pk}/")):
        body = {"district": district.code, "name": "Bad", "kind": "route", "geometry": geometry}
        response = getattr(api(inspector), method)(path, body, format="json", HTTP_ACCEPT_LANGUAGE="en")
        assert response.status_code == 400, response.content
        assert "coordinates are not a valid" in response.json()["geometry"][0]
    assert snapshot() == before


def test_many_usernames_from_one_address_are_refused_for_a_while(client, volunteer, settings):
    settings.SIGNIN_ADDRESS_FAILURES = 5
    answers = [
        client.post("/accounts/login/", {"username": f"someone{n}", "password": "guess"}).status_code for n in range(6)
    ]
    assert answers[:5] == [200] * 5 and answers[5] == 429
    right = client.post("/accounts/login/", {"username": volunteer.username, "password": "correct-horse-42"})
    assert right.status_code == 429, "even the right password waits while the address is refused"
    other = Client(REMOTE_ADDR="10.0.0.7")
    assert (
        other.post("/accounts/login/", {"username": volunteer.username, "password": "correct-horse-42"}).status_code
        == 302
    )


def test_tokens_are_never_in_plain_text(volunteer):
    _row, secret = ApiToken.objects.create(user=volunteer)
    assert (
        not ApiToken.objects.filter(digest=secret).exists() and not ApiToken.objects.filter(token_key=secret).exists()
    )


def test_a_json_500_under_the_api(client):
    from patrols.api.errors import server_error

    request = client.get("/api/v1/nothing/").wsgi_request
    response = server_error(request)
    assert response.status_code == 500 and json.loads(response.content)["detail"]


def test_photo_upload_of_an_svg_is_refused(api, volunteer):
    report = filed(api, volunteer)
    svg = SimpleUploadedFile("x.svg", b"<svg xmlns='http://www.w3.org/2000/svg'/>")
    response = api(volunteer).post(f"/api/v1/reports/{report['id']}/photos/", {"photo": svg}, format="multipart")
    assert response.status_code == 400
