"""In a real Chromium at a phone's size (360×740): a checked-in volunteer's SOS button needs the 3-second hold (a short
tap sends nothing; held, it raises the alarm with the phone's position), and offline it turns into a call to 102 and
an SMS to the district's duty unit with the coordinates in the text. The page runs under the app's strict CSP."""

import re
from pathlib import Path

import pytest
from django.db import connections

from patrols.choices import DutyUnitLevel, SosStatus
from patrols.models import DutyUnit, SosAlarm
from tests.factories import PASSWORD
from tests.support.browser import (  # noqa: F401 (fixtures)
    CHROMIUM,
    CHROMIUM_ARGS,
    PHONE,
    media,
    orm_beside_playwright,
    reference_data_back,
    wait_for,
)
from tests.support.duty import shift_under_way

sync_api = pytest.importorskip("playwright.sync_api")

pytestmark = [
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian's Chromium is not installed"),
]

UNIT_PHONE = "+77272000102"


@pytest.fixture
def chromium(live_server):
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()
        connections.close_all()


@pytest.fixture
def on_duty(inspector, group, zone, volunteer, leader, district):
    DutyUnit.objects.create(
        level=DutyUnitLevel.DISTRICT, district=district, region=district.region, name="Талғар АПБ", phones=[UNIT_PHONE]
    )
    return shift_under_way(zone, inspector, [group], volunteer, checked_in_minutes_ago=20)


def test_the_sos_button_needs_the_hold_and_offline_gives_102_and_an_sms_with_the_coordinates(
    chromium, live_server, on_duty, volunteer, eager_celery
):
    centre = on_duty.zone.geometry.centroid
    where = {"latitude": centre.y, "longitude": centre.x, "accuracy": 15}
    base = f"http://localhost:{live_server.thread.port}"
    context = chromium.new_context(
        base_url=base,
        viewport=PHONE,
        is_mobile=True,
        has_touch=True,
        locale="en-US",
        geolocation=where,
        permissions=["geolocation"],
    )
    context.set_default_timeout(20000)
    context.route("https://tile.openstreetmap.org/**", lambda route: route.abort())
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    context.on(
        "console", lambda message: errors.append(message.text) if "Content Security Policy" in message.text else None
    )
    page.goto("/accounts/login/")
    page.fill("#id_username", "volunteer")
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/")

    hold = page.locator("[data-sos-hold]")
    sync_api.expect(hold).to_be_visible()
    # A short tap, as a pocket would: nothing is sent.
    hold.tap()
    page.wait_for_timeout(3500)
    assert SosAlarm.objects.count() == 0

    # Held for 3 seconds: the alarm goes out with the phone's position.
    box = hold.bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.mouse.down()
    page.wait_for_timeout(3300)
    page.mouse.up()
    sync_api.expect(page.locator("[data-sos-status]")).to_contain_text("SOS sent")
    assert wait_for(lambda: SosAlarm.objects.filter(status=SosStatus.OPEN).count() == 1)
    alarm = SosAlarm.objects.get()
    assert abs(alarm.point.y - centre.y) < 1e-5 and alarm.shift == on_duty

    # No connection: two native links that need no data.
    context.set_offline(True)
    offline = page.locator("[data-sos-offline]")
    sync_api.expect(offline).to_be_visible()
    sync_api.expect(page.locator("a[href='tel:102']")).to_be_visible()
    sms = page.locator("[data-sos-sms]")
    coordinates = f"{centre.y:.5f}%2C{centre.x:.5f}"
    sync_api.expect(sms).to_have_attribute("href", re.compile(rf"^sms:\{UNIT_PHONE}\?body=.*{coordinates}"))
    assert page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth")
    assert not errors, errors
    context.close()
