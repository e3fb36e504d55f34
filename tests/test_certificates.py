"""Certificates of service that anyone can check, as people use them: a volunteer gets one for last quarter from their
"My service" page, in Kazakh; it names them by initials and surname, shows the quarter's verified service as the
ledger has it and the reward the commission granted, is signed by the district's police unit, and carries a QR code
of its public check page. A scholarship office scans it: the page (and the API) says "genuine" with the same figures
and nothing more about the person. A code with a character changed, or made up with another key, is "not genuine";
a well-signed code never issued does not exist; a revoked one says so, with its date and without the reason. The
page counts the checks of each address. Someone else's certificate is not found (404) to download or revoke.
"""

import datetime
import re
import struct
import zlib
from decimal import Decimal

import pytest
import segno
from django.core.exceptions import ValidationError
from django.test import Client
from django.utils import formats, translation

from patrols.choices import NominationStatus, RewardDecision, RewardKind
from patrols.clock import local_today
from patrols.models import Certificate, LedgerMonth, Nomination, NominationItem
from patrols.services import certificate_print, certificates
from patrols.services.ledger import OUTCOMES, ledger_for, quarter_bounds
from patrols.services.nominations import current_quarter
from tests.conftest import api_reader, reader
from tests.factories import MembershipFactory, UserFactory, VolunteerFactory
from tests.support.pdf_text import pdf_text

pytestmark = pytest.mark.django_db

SITE = "https://patrol.example.kz"
CODE_SHAPE = re.compile(r"^[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{2}$")
KAZAKH_HOLDER = "Е. С. Нұрланов"


def last_quarter() -> tuple[int, int]:
    year, quarter = current_quarter()
    return (year, quarter - 1) if quarter > 1 else (year - 1, 4)


YEAR, QUARTER = last_quarter()
START, END = quarter_bounds(YEAR, QUARTER)


def month_before(day: datetime.date) -> datetime.date:
    return (day.replace(day=1) - datetime.timedelta(days=1)).replace(day=1)


@pytest.fixture(autouse=True)
def site(settings):
    settings.SITE_URL = SITE


@pytest.fixture
def rates(settings):
    def set_rates(**scoped: str) -> None:
        current = settings.REST_FRAMEWORK
        settings.REST_FRAMEWORK = {
            **current,
            "DEFAULT_THROTTLE_RATES": {**current["DEFAULT_THROTTLE_RATES"], **scoped},
        }

    return set_rates


def served(person, month: datetime.date, **figures: int) -> None:
    """A month of `person`'s verified service, written into the ledger as its services keep it."""
    for measure, amount in figures.items():
        LedgerMonth.objects.update_or_create(
            volunteer=person,
            year=month.year,
            month=month.month,
            measure=measure.replace("report_", "report:"),
            defaults={"amount": amount},
        )


@pytest.fixture
def quarter_served(volunteer):
    """Last quarter: 30 hours in five shifts, one prevented offense and two helps to citizens verified, a meeting with
    residents and a call-out answered; and a month before it that the certificate must not count."""
    person = volunteer.volunteer
    first, second, third = START, START.replace(month=START.month + 1), START.replace(month=START.month + 2)
    served(person, first, shifts=2, minutes=720, report_prevented=1)
    served(person, second, shifts=2, minutes=660, report_assistance=2, meetings=1)
    served(person, third, shifts=1, minutes=420, callouts=1)
    served(person, month_before(START), shifts=9, minutes=5400, report_solved=3)
    return person


def decided_reward(person, district, year: int, quarter: int, *, amount: str = "10", number: str = "12") -> None:
    """The commission granted `person` a cash reward for that quarter."""
    first, last = quarter_bounds(year, quarter)
    nomination = Nomination.objects.create(
        district=district,
        year=year,
        quarter=quarter,
        status=NominationStatus.DECIDED,
        protocol_number=number,
        protocol_date=last + datetime.timedelta(days=10),
    )
    NominationItem.objects.create(
        nomination=nomination,
        volunteer=person,
        kind=RewardKind.CASH,
        amount_mci=Decimal(amount),
        decision=RewardDecision.GRANTED,
        decided_kind=RewardKind.CASH,
        decided_amount_mci=Decimal(amount),
        decided_tenge=Decimal(amount) * 4325,
    )


def issue(
    user, path: str = "/service/certificates/", *, language: str = "kk", start=START, end=END, back="/", browser=None
):
    """The issue form of the service page, sent by `user` (from their own `browser` when given)."""
    browser = browser or reader(user, "en")
    return browser.post(
        path,
        {"period_start": start.isoformat(), "period_end": end.isoformat(), "language": language, "next": back},
    )


def anyone() -> Client:
    """A browser nobody signed in on, reading English."""
    browser = Client()
    browser.cookies["django_language"] = "en"
    return browser


def words(data: bytes) -> str:
    return " ".join(pdf_text(data).split())


# Reading the QR code back: fpdf2 keeps the image's pixel rows deflated with PNG's row filters, which is exactly a
# PNG's image data; with a header around them, Pillow reads the picture, and its modules are sampled at their centres.


def qr_picture(pdf: bytes):
    from io import BytesIO

    from PIL import Image

    found = re.search(rb"/Height (\d+).*?/Length (\d+).*?/Subtype /Image.*?/Width (\d+)\s*>>\s*stream\n", pdf, re.S)
    assert found, "no image in the PDF"
    height, length, width = (int(value) for value in found.groups())
    data = pdf[found.end() : found.end() + length]

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0))
    png += chunk(b"IDAT", data) + chunk(b"IEND", b"")
    return Image.open(BytesIO(png)).convert("L")


def qr_modules(pdf: bytes) -> list[list[bool]]:
    picture = qr_picture(pdf)
    dark = picture.point(lambda value: 255 if value < 128 else 0)
    left, top, right, bottom = dark.getbbox()
    run = 0
    while picture.getpixel((left + run, top)) < 128:
        run += 1
    module = run / 7  # the finder pattern's top edge is seven modules long
    size = round((right - left) / module)
    return [
        [
            picture.getpixel((int(left + (col + 0.5) * module), int(top + (row + 0.5) * module))) < 128
            for col in range(size)
        ]
        for row in range(size)
    ]


def qr_encodes(pdf: bytes, url: str) -> bool:
    """Whether the PDF's QR code is the symbol of `url` at any error correction level."""
    modules = qr_modules(pdf)
    for level in "lmqh":
        symbol = segno.make(url, error=level, micro=False)
        if [[bool(cell) for cell in row] for row in symbol.matrix] == modules:
            return True
    return False


def rows(content: str) -> dict[str, str]:
    """The check page's table rows: label → value."""
    return dict(re.findall(r'<th scope="row">([^<]+)</th><td class="num">([^<]+)</td>', content))


# The story


def test_a_volunteer_gets_a_certificate_for_last_quarter_and_anyone_can_check_it(volunteer, quarter_served, district):
    person = quarter_served
    decided_reward(person, district, YEAR, QUARTER)
    before_year, before_quarter = (YEAR, QUARTER - 1) if QUARTER > 1 else (YEAR - 1, 4)
    decided_reward(person, district, before_year, before_quarter, amount="5", number="3")

    answer = issue(volunteer, back="/service/")
    assert answer.status_code == 302 and answer["Location"] == "/service/"
    certificate = Certificate.objects.get(volunteer=person)
    assert CODE_SHAPE.match(certificate.code)
    assert certificate.holder == KAZAKH_HOLDER
    assert certificate.issuer == "Талғар аудандық полиция басқармасы"
    assert certificate.language == "kk" and certificate.issued_by == volunteer

    ledger = ledger_for(person.pk, START, END)
    assert (ledger.shifts, ledger.hours, ledger.prevented, ledger.meetings, ledger.callouts) == (5, 30.0, 1, 1, 1)

    # The PDF the volunteer downloads, read back.
    download = reader(volunteer, "en").get(f"/certificates/{certificate.pk}.pdf")
    assert download.status_code == 200 and download["Content-Type"] == "application/pdf"
    assert f"certificate-{certificate.code}.pdf" in download["Content-Disposition"]
    assert download.content == certificate_print.certificate_pdf(certificate), "the same paper on every download"
    pdf = certificate_print.certificate_pdf(certificate, compress=False)
    text = words(pdf)
    assert KAZAKH_HOLDER in text and "Нұрланов" in text
    assert "Ерлан" not in text and person.iin not in text
    assert "Талғар аудандық полиция басқармасы" in text
    assert group_name(person) in text
    assert certificate.code in text
    with translation.override("kk"):
        assert formats.date_format(START, "DATE_FORMAT") in text
        assert formats.date_format(END, "DATE_FORMAT") in text
        assert formats.date_format(certificates.local_date(certificate.issued_at), "DATE_FORMAT") in text
        shown = dict(certificates.figure_lines(certificate.figures))
        results = dict(certificates.result_lines(certificate.figures))
        rewards = certificates.reward_lines(certificate.figures)
    assert list(shown.values()) == [str(ledger.shifts), "30", str(ledger.meetings), str(ledger.callouts)]
    assert list(results.values()) == [str(ledger.reports.get(code, 0)) for code in OUTCOMES]
    for label, value in [*shown.items(), *results.items()]:
        assert f"{label} {value}" in text
    assert len(rewards) == 1 and "10" in rewards[0] and "12" in rewards[0]
    assert rewards[0] in text

    # Its QR code is the symbol of the check page's address, which is printed beside it too.
    url = f"{SITE}/c/{certificate.code}/"
    assert qr_encodes(pdf, url)
    assert not qr_encodes(pdf, f"{SITE}/c/{certificates.new_code()}/")
    assert f"{SITE}/c/" in text

    # The check page: no sign-in, genuine, the same figures, nothing else about the person.
    page = anyone().get(url.removeprefix(SITE))
    assert page.status_code == 200
    content = page.content.decode()
    assert 'data-status="genuine"' in content and "Genuine" in content
    assert KAZAKH_HOLDER in content and "Талғар аудандық полиция басқармасы" in content
    on_page = rows(content)
    assert on_page["Patrol shifts completed"] == "5"
    assert on_page["Hours on patrol"] == "30"
    assert on_page["Offense prevented"] == "1"
    assert on_page["Help to a citizen"] == "2"
    assert on_page["Helped solve a crime"] == "0", "the month before the period does not count"
    assert on_page["Meetings with residents attended"] == "1"
    assert on_page["Call-outs answered"] == "1"
    for private in ("Ерлан", "Серікұлы", person.iin, person.phone, person.phone[2:], volunteer.username):
        assert private not in content
    assert '<meta name="robots" content="noindex, nofollow">' in content
    assert page["X-Robots-Tag"] == "noindex, nofollow"
    assert "no-store" in page["Cache-Control"]

    # The API says the same, as JSON.
    checked = api_reader(None, "en").get(f"/api/v1/certificates/{certificate.code}/")
    assert checked.status_code == 200
    body = checked.json()
    assert body["status"] == "genuine"
    assert body["holder"] == KAZAKH_HOLDER
    assert (body["period_start"], body["period_end"]) == (START.isoformat(), END.isoformat())
    assert body["issuer"] == "Талғар аудандық полиция басқармасы"
    figures = body["figures"]
    assert figures["shifts"] == ledger.shifts and figures["hours"] == ledger.hours
    assert figures["reports"] == ledger.as_dict()["reports"]
    assert (figures["meetings"], figures["callouts"]) == (ledger.meetings, ledger.callouts)
    assert [
        (reward["year"], reward["quarter"], reward["kind"], reward["amount_mci"]) for reward in figures["rewards"]
    ] == [(YEAR, QUARTER, "cash", "10")]
    raw = checked.content.decode()
    for private in ("Ерлан", "Серікұлы", person.iin, person.phone, "minutes", "groups"):
        assert private not in raw

    # Typed by hand: small letters, no dashes.
    typed = anyone().get("/c/", {"code": certificate.code.replace("-", "").lower()})
    assert typed.status_code == 302 and typed["Location"] == f"/c/{certificate.code}/"
    assert anyone().get(f"/c/{certificate.code.replace('-', '').lower()}/").status_code == 200

    # What the paper shows was frozen at issue: later work does not change it.
    served(person, END.replace(day=1), shifts=4, minutes=2000)
    assert rows(anyone().get(url.removeprefix(SITE)).content.decode())["Patrol shifts completed"] == "5"


def group_name(person) -> str:
    return person.memberships.get().group.name


def test_the_inspector_issues_one_in_russian_for_a_volunteer_of_the_district(inspector, volunteer, quarter_served):
    person = quarter_served
    answer = issue(inspector, f"/volunteers/{person.pk}/service/certificates/", language="ru")
    assert answer.status_code == 302
    certificate = Certificate.objects.get(volunteer=person)
    assert certificate.language == "ru" and certificate.issued_by == inspector
    assert certificate.issuer == "Управление полиции Талгарского района"
    text = words(certificate_print.certificate_pdf(certificate, compress=False))
    assert KAZAKH_HOLDER in text
    with translation.override("ru"):
        assert formats.date_format(START, "DATE_FORMAT") in text
        assert formats.date_format(END, "DATE_FORMAT") in text
    # The volunteer finds it among their own, and the inspector too.
    assert reader(volunteer, "en").get(f"/certificates/{certificate.pk}.pdf").status_code == 200
    assert reader(inspector, "en").get(f"/certificates/{certificate.pk}.pdf").status_code == 200


def test_the_service_page_lists_certificates_with_their_state_and_the_form(volunteer, inspector, quarter_served):
    issue(volunteer)
    certificate = Certificate.objects.get()
    own = reader(volunteer, "en").get("/service/").content.decode()
    assert 'id="certificates"' in own and certificate.code in own
    assert f'href="/certificates/{certificate.pk}.pdf"' in own
    assert 'action="/service/certificates/"' in own
    assert f'action="/certificates/{certificate.pk}/revoke/"' not in own, "a volunteer does not revoke"
    kept = reader(inspector, "en").get(f"/volunteers/{quarter_served.pk}/service/").content.decode()
    assert f'action="/volunteers/{quarter_served.pk}/service/certificates/"' in kept
    assert f'action="/certificates/{certificate.pk}/revoke/"' in kept


# Codes


def test_codes_read_as_meant_however_they_are_typed():
    assert certificates.normalise_code("k7q2m9xp4tzd8w") == "K7Q2-M9XP-4TZD-8W"
    assert certificates.normalise_code(" K7Q2 M9XP 4TZD 8W ") == "K7Q2-M9XP-4TZD-8W"
    assert certificates.normalise_code("KOQ2-M9XP-4TZD-8I") == "K0Q2-M9XP-4TZD-81"
    assert certificates.normalise_code("K7Q2-M9XP-4TZD-8U") is None
    assert certificates.normalise_code("K7Q2-M9XP-4TZD") is None
    assert certificates.normalise_code("K" * 500) is None
    codes = {certificates.new_code() for _ in range(200)}
    assert len(codes) == 200 and all(CODE_SHAPE.match(code) for code in codes)
    assert all(certificates.signature_valid(code) for code in codes)


def test_an_altered_or_forged_code_is_not_genuine_and_an_unissued_one_does_not_exist(
    volunteer, quarter_served, settings
):
    issue(volunteer)
    code = Certificate.objects.get().code
    # One character changed: in the signature, or in the random part.
    last = code[-1]
    altered_signature = code[:-1] + ("0" if last != "0" else "1")
    first = code[0]
    altered_random = ("0" if first != "0" else "1") + code[1:]
    # Made up with a key that is not the app's.
    settings.SECRET_KEY, real = "a forger's guess at the key", settings.SECRET_KEY
    forged = certificates.new_code()
    settings.SECRET_KEY = real
    for fake in (altered_signature, altered_random, forged):
        assert certificates.certificate_check(fake).status == certificates.NOT_GENUINE
        page = anyone().get(f"/c/{fake}/")
        assert page.status_code == 404 and 'data-status="not_genuine"' in page.content.decode()
        assert "Not genuine" in page.content.decode()
        body = api_reader(None, "en").get(f"/api/v1/certificates/{fake}/")
        assert body.status_code == 404 and body.json()["status"] == "not_genuine"
        assert "holder" not in body.json()

    unissued = certificates.new_code()
    assert certificates.certificate_check(unissued).status == certificates.NOT_FOUND
    page = anyone().get(f"/c/{unissued}/")
    assert page.status_code == 404 and "No such certificate" in page.content.decode()
    body = api_reader(None, "en").get(f"/api/v1/certificates/{unissued}/")
    assert body.status_code == 404 and body.json() == {
        "status": "not_found",
        "detail": "No certificate was issued with this code.",
    }

    # Not even a code: the form says so and asks again.
    typed = anyone().get("/c/", {"code": "hello"})
    assert typed.status_code == 400 and "This is not a certificate code" in typed.content.decode()


def test_a_code_signed_before_the_key_was_rotated_still_checks(volunteer, quarter_served, settings):
    issue(volunteer)
    certificate = Certificate.objects.get()
    settings.SECRET_KEY_FALLBACKS, settings.SECRET_KEY = [settings.SECRET_KEY], "the new key"
    assert certificates.certificate_check(certificate.code).status == certificates.GENUINE
    never_issued = certificates.new_code()
    assert certificates.certificate_check(never_issued).status == certificates.NOT_FOUND


# Revoking


def test_the_inspector_revokes_a_certificate_and_the_check_says_so_without_the_reason(
    volunteer, inspector, quarter_served
):
    issue(volunteer)
    certificate = Certificate.objects.get()
    refused = reader(inspector, "en").post(f"/certificates/{certificate.pk}/revoke/", {"reason": "  "})
    assert refused.status_code == 302
    certificate.refresh_from_db()
    assert certificate.revoked_at is None

    reason = "Ерлан Серікұлы ауыстырылған: куәлік қате берілген"
    answer = reader(inspector, "en").post(
        f"/certificates/{certificate.pk}/revoke/", {"reason": reason, "next": f"/volunteers/{quarter_served.pk}/"}
    )
    assert answer.status_code == 302 and answer["Location"] == f"/volunteers/{quarter_served.pk}/"
    certificate.refresh_from_db()
    assert certificate.revoked_at is not None and certificate.revoked_reason == reason

    page = anyone().get(f"/c/{certificate.code}/")
    content = page.content.decode()
    assert page.status_code == 200 and 'data-status="revoked"' in content and "Revoked" in content
    with translation.override("en"):
        assert formats.date_format(certificates.local_date(certificate.revoked_at), "DATE_FORMAT") in content
    for private in ("Ерлан", "Серікұлы", "ауыстырылған", "қате"):
        assert private not in content
    body = api_reader(None, "en").get(f"/api/v1/certificates/{certificate.code}/").json()
    assert body["status"] == "revoked"
    assert body["revoked_on"] == certificates.local_date(certificate.revoked_at).isoformat()
    assert body["figures"] is None and "reason" not in body

    with pytest.raises(ValidationError, match="already revoked"):
        certificates.certificate_revoke(certificate=certificate, by=inspector, reason="again")


# The limit


def test_the_check_page_and_the_api_count_the_checks_of_each_address_together(rates, volunteer, quarter_served):
    rates(certificate_check="3/min")
    issue(volunteer)
    code = Certificate.objects.get().code
    for _ in range(2):
        assert anyone().get(f"/c/{code}/", REMOTE_ADDR="10.5.5.5").status_code == 200
    assert api_reader(None, "en").get(f"/api/v1/certificates/{code}/", REMOTE_ADDR="10.5.5.5").status_code == 200
    limited = anyone().get(f"/c/{code}/", REMOTE_ADDR="10.5.5.5")
    assert limited.status_code == 429
    content = limited.content.decode()
    assert "Too many certificates were checked from your network" in content
    assert 1 <= int(limited["Retry-After"]) <= 60
    assert KAZAKH_HOLDER not in content, "nothing about the certificate past the limit"
    api = api_reader(None, "en").get(f"/api/v1/certificates/{code}/", REMOTE_ADDR="10.5.5.5")
    assert api.status_code == 429 and "holder" not in api.json()
    assert anyone().get(f"/c/{code}/", REMOTE_ADDR="10.5.5.6").status_code == 200


# Scope


def test_someone_elses_certificate_is_not_found(
    volunteer, inspector, other_inspector, other_volunteer, leader, chief, quarter_served
):
    issue(volunteer)
    certificate = Certificate.objects.get()
    pdf = f"/certificates/{certificate.pk}.pdf"
    for stranger in (other_inspector, other_volunteer, leader):
        assert reader(stranger, "en").get(pdf).status_code == 404
    for stranger in (other_inspector, chief, other_volunteer, leader):
        answer = reader(stranger, "en").post(f"/certificates/{certificate.pk}/revoke/", {"reason": "no"})
        assert answer.status_code == 404
    certificate.refresh_from_db()
    assert certificate.revoked_at is None
    # The chief reads the region's volunteers: they may read the certificate, not revoke it.
    assert reader(chief, "en").get(pdf).status_code == 200
    # Issuing for a volunteer out of scope is not found either; a leader may not certify a member.
    assert issue(other_inspector, f"/volunteers/{quarter_served.pk}/service/certificates/").status_code == 404
    assert issue(leader, f"/volunteers/{quarter_served.pk}/service/certificates/").status_code == 302
    assert Certificate.objects.count() == 1
    assert anyone().get(pdf).status_code == 302, "signed out: to the sign-in page"


# What may be certified


@pytest.mark.parametrize(
    ("start", "end", "field"),
    [
        (START, START - datetime.timedelta(days=1), "period_end"),
        (START + datetime.timedelta(days=3), END, "period_start"),
        (START, END - datetime.timedelta(days=3), "period_end"),
        (START, local_today() + datetime.timedelta(days=40), "period_end"),
        (START.replace(year=START.year - 6), END, "period_end"),
    ],
    ids=["ends-before-start", "mid-month-start", "mid-month-end", "future", "over-five-years"],
)
def test_a_period_is_whole_months_of_service_done_within_five_years(volunteer, quarter_served, start, end, field):
    with pytest.raises(ValidationError) as refused:
        certificates.certificate_issue(volunteer=quarter_served, start=start, end=end, by=volunteer, language="kk")
    assert field in refused.value.message_dict
    assert not Certificate.objects.exists()


def test_nothing_to_certify_and_other_refusals(volunteer, other_volunteer, quarter_served):
    empty_start = START.replace(year=START.year - 2)
    empty_end = certificates._last_day(empty_start)
    with translation.override("en"), pytest.raises(ValidationError, match="no verified service"):
        certificates.certificate_issue(
            volunteer=quarter_served, start=empty_start, end=empty_end, by=volunteer, language="kk"
        )
    with pytest.raises(ValidationError) as refused:
        certificates.certificate_issue(volunteer=quarter_served, start=START, end=END, by=volunteer, language="en")
    assert "language" in refused.value.message_dict
    with translation.override("en"), pytest.raises(ValidationError, match="volunteer themselves or by the police"):
        certificates.certificate_issue(
            volunteer=quarter_served, start=START, end=END, by=other_volunteer, language="kk"
        )
    browser = reader(volunteer, "en")
    answer = issue(volunteer, start=START, end=END + datetime.timedelta(days=400), back="/service/", browser=browser)
    assert answer.status_code == 302 and not Certificate.objects.exists()
    page = browser.get("/service/").content.decode()
    assert "end it today at the latest" in page
    typed_end = (END + datetime.timedelta(days=400)).isoformat()
    assert f'name="period_end" id="certificate-end" value="{typed_end}"' in page, "what was typed is kept"


def test_a_certificate_names_the_holder_by_initials_and_the_unit_by_the_district(district, other_district):
    person = VolunteerFactory(district=district, first_name="әсел", patronymic="", last_name="Оспанова")
    assert certificates.holder_name(person) == "Ә. Оспанова"
    assert certificates.police_unit_name(other_district, "kk") == "Абай аудандық полиция басқармасы"
    assert certificates.police_unit_name(other_district, "ru") == "Управление полиции Абайского района"
    other_district.name_ru, other_district.name_kk = "район Беимбета Майлина", "Бейімбет Майлин ауданы"
    assert certificates.police_unit_name(other_district, "ru") == "Управление полиции района Беимбета Майлина"
    assert certificates.police_unit_name(other_district, "kk") == "Бейімбет Майлин аудандық полиция басқармасы"


def test_a_volunteer_without_an_account_is_certified_by_the_inspector(inspector, group):
    person = VolunteerFactory(district=group.district, user=None)
    MembershipFactory(volunteer=person, group=group)
    served(person, START, shifts=1, minutes=240)
    certificate = certificates.certificate_issue(volunteer=person, start=START, end=END, by=inspector, language="kk")
    assert certificate.figures["shifts"] == 1
    with pytest.raises(ValidationError):
        certificates.certificate_issue(
            volunteer=person, start=START, end=END, by=UserFactory(username="stranger"), language="kk"
        )


def test_the_same_request_twice_gives_one_certificate_and_new_service_a_new_one(volunteer, quarter_served):
    browser = reader(volunteer, "en")
    issue(volunteer, browser=browser)
    issue(volunteer, browser=browser)
    assert Certificate.objects.count() == 1
    issue(volunteer, language="ru", browser=browser)
    assert Certificate.objects.count() == 2, "another language is another paper"
    served(quarter_served, END.replace(day=1), shifts=2, callouts=3)
    issue(volunteer, browser=browser)
    assert Certificate.objects.count() == 3
    assert Certificate.objects.order_by("-pk").first().figures["callouts"] == 3
