"""In a village hall with no signal: the inspector logs the meeting on the phone, it waits there, and it arrives
once, photo included, when the network returns. Chromium at a phone's size, with the app's own CSP."""

import datetime
import time
from pathlib import Path
from types import SimpleNamespace

import pytest
from django.db import connections
from django.utils import timezone

from patrols.choices import MeetingStatus
from patrols.clock import local_today
from patrols.models import InitiativeKind, Meeting, MeetingPhoto
from patrols.services import crime_counts, initiatives
from tests.factories import PASSWORD, SettlementFactory
from tests.support.browser import (  # noqa: F401 (fixtures)
    CHROMIUM,
    CHROMIUM_ARGS,
    PHONE,
    camera_photo,
    media,
    orm_beside_playwright,
    reference_data_back,
)
from tests.support.browser import shoot as shoot_page
from tests.support.browser import wait_for as wait_until

sync_api = pytest.importorskip("playwright.sync_api")

pytestmark = [
    # The live server runs in another thread: data must be committed. Serialized rollback brings back the
    # migrations' reference data (regions, topics) that the flush after a transactional test removes.
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian's Chromium is not installed"),
]


def hall_photo(path: Path) -> Path:
    return camera_photo(path, ground=(120, 90, 60), stripes=(230, 220, 200), band=(250, 600, 120, 1400))


def shoot(page, name: str) -> None:
    shoot_page(page, name, folder_variable="MEETING_SCREENSHOTS")


def wait_for(condition, seconds: float = 20.0) -> bool:
    return wait_until(condition, seconds)


def in_words(page, msgid: str) -> str:
    """What the page's JavaScript catalogue makes of a message: the words a state is shown in."""
    return page.evaluate("(msgid) => gettext(msgid)", msgid)


@pytest.fixture
def village(district):
    return SettlementFactory(district=district, code="KZ-19-TAL-BEL", name_kk="Бельбулақ", name_ru="Бельбулак")


@pytest.fixture
def phone(live_server, inspector, district, village):
    """Chromium at a phone's size, in the village hall near Belbulak's centre, with the inspector signed in."""
    base = f"http://localhost:{live_server.thread.port}"
    here = {"latitude": village.centre.y + 0.01, "longitude": village.centre.x + 0.01, "accuracy": 15}
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = browser.new_context(
            base_url=base,
            viewport=PHONE,
            is_mobile=True,
            has_touch=True,
            device_scale_factor=2,
            geolocation=here,
            permissions=["geolocation"],
            locale="ru-RU",
        )
        context.set_default_timeout(20000)
        page = context.new_page()
        errors = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        context.on(
            "console",
            lambda message: errors.append(message.text) if "Content Security Policy" in message.text else None,
        )
        page.goto("/accounts/login/")
        page.fill("#id_username", inspector.username)
        page.fill("#id_password", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url(f"{base}/")
        yield SimpleNamespace(base=base, here=here, context=context, page=page, errors=errors)
        browser.close()
        # The ORM calls made beside Playwright's event loop got their own connection: close it before the teardown.
        connections.close_all()


def test_a_meeting_logged_offline_arrives_once_when_the_network_returns(phone, inspector, village, tmp_path):
    page, context, here = phone.page, phone.context, phone.here
    photo = hall_photo(tmp_path / "hall.jpg")

    # Waits are functions: the page's CSP refuses the eval() Playwright uses to re-check a bare expression.
    page.goto("/meetings/new/")
    page.wait_for_function("() => document.getElementById('id_lat').value !== ''")
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 360, "the form fits a 360 px phone"
    shoot(page, "meeting-form-online.png")

    # No signal from here on: the inspector fills the form in the hall.
    context.set_offline(True)
    page.select_option("#id_settlement", village.code)
    page.select_option("#id_kind", "village_assembly")
    page.check("input[name=status][value=held]")
    page.fill("#id_residents", "38")
    page.check("input[name=topics][value=alcohol]")
    page.fill("#id_decisions", "Ауыл ішімдіктен бас тарту туралы шешім қабылдады.")
    page.set_input_files("#id_photo", str(photo))
    page.wait_for_selector("[data-thumbs] img")
    page.click("button.send")

    page.wait_for_selector('#meeting-outbox[data-count="1"]')
    assert "1" in page.inner_text("[data-waiting-text]")
    assert page.is_visible("[data-offline]")
    # Its state in words, and where and when, as Kazakhstan writes a date.
    waiting = page.wait_for_selector("[data-waiting-list] > li[data-state=waiting]")
    assert waiting.query_selector(".state").inner_text() == in_words(page, "Waiting to be sent")
    held = timezone.localtime().strftime("%d.%m.%Y")
    assert waiting.query_selector(".about").inner_text().startswith(f"Бельбулак · {held} "), waiting.inner_text()
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 360
    shoot(page, "meeting-form-waiting.png")
    time.sleep(1)
    assert Meeting.objects.count() == 0, "nothing reaches the server while offline"

    # The network returns: the meeting and its photo arrive, once, and the page says so.
    context.set_offline(False)
    assert wait_for(lambda: MeetingPhoto.objects.count() == 1), "the meeting and its photo arrive within seconds"
    page.wait_for_selector('#meeting-outbox[data-count="0"]', state="attached")
    link = page.wait_for_selector("[data-sent-list] a")
    meeting = Meeting.objects.get()
    assert link.get_attribute("href") == f"/meetings/{meeting.pk}/"
    done = page.query_selector("[data-sent-list] > li")
    assert done.get_attribute("data-state") == "sent"
    assert done.query_selector(".state").inner_text() == in_words(page, "Sent")
    assert page.query_selector("[data-waiting-list] > li") is None
    shoot(page, "meeting-form-delivered.png")

    page.reload()
    page.wait_for_function("() => document.getElementById('meeting-outbox').dataset.count === '0'")
    time.sleep(1)
    assert Meeting.objects.count() == 1 and MeetingPhoto.objects.count() == 1
    assert (meeting.status, meeting.residents, meeting.settlement) == (MeetingStatus.HELD, 38, village)
    assert list(meeting.topics.values_list("code", flat=True)) == ["alcohol"]
    assert list(meeting.officers.all()) == [inspector]
    assert abs(meeting.location.y - here["latitude"]) < 1e-5
    assert abs(meeting.location.x - here["longitude"]) < 1e-5
    assert max(meeting.photos.get().width, meeting.photos.get().height) == 1600
    assert phone.errors == []


def test_the_village_pages_fit_a_phone(phone, inspector, village):
    kind = InitiativeKind.objects.get(code="alcohol_refusal")
    initiatives.initiative_record(by=inspector, settlement=village, kind=kind, adopted_on=local_today())
    crime_counts.crime_count_record(by=inspector, settlement=village, month=local_today().replace(day=1), registered=0)
    page = phone.page
    for path, name in (
        ("/villages/", "villages.png"),
        (f"/villages/{village.code}/", "village.png"),
        ("/meetings/", "meetings.png"),
        ("/villages/import/", "import.png"),
    ):
        page.goto(path)
        shoot(page, name)
        assert page.evaluate("() => document.documentElement.scrollWidth") <= 360, path
    page.goto(f"/villages/{village.code}/")
    page.click("#counts summary")
    page.fill("#count-form input[name=registered]", "0")
    page.click("#count-form button[type=submit]")
    page.wait_for_selector(".message.success")
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 360
    assert phone.errors == []


def test_a_meeting_the_server_refuses_is_kept_to_be_corrected(phone, village):
    page = phone.page
    page.goto("/meetings/new/")
    page.wait_for_function("() => document.getElementById('id_lat').value !== ''")
    later = timezone.localtime() + datetime.timedelta(days=2)
    page.select_option("#id_settlement", village.code)
    page.fill("#id_held_at", later.strftime("%Y-%m-%dT%H:%M"))
    page.fill("#id_residents", "25")
    page.click("button.send")

    # A 400 is not dropped: the meeting stays on the phone with the server's message.
    problem = page.wait_for_selector("[data-waiting-list] > li.refused")
    assert problem.query_selector(".state").inner_text() == in_words(page, "Refused")
    assert "будущем" in problem.inner_text() or "future" in problem.inner_text()
    assert page.get_attribute("#meeting-outbox", "data-count") == "1"
    assert Meeting.objects.count() == 0
    shoot(page, "meeting-form-refused.png")

    # Back in the form under the same id, corrected, it goes out once.
    client_uuid = problem.get_attribute("data-client-uuid")
    problem.query_selector("button:not(.danger)").click()
    page.wait_for_function("() => document.getElementById('id_residents').value === '25'")
    page.fill("#id_held_at", timezone.localtime().strftime("%Y-%m-%dT%H:%M"))
    page.click("button.send")
    page.wait_for_selector("[data-sent-list] a")
    page.wait_for_selector('#meeting-outbox[data-count="0"]', state="attached")
    meeting = Meeting.objects.get()
    assert (str(meeting.client_uuid), meeting.residents) == (client_uuid, 25)
    assert phone.errors == []
