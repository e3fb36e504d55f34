"""In a real Chromium at a phone's size (360×740): the live board updates by itself when a volunteer checks in, with
no sideways scroll; the volunteer's phone shares its position from the shift page once agreed, and stops in one tap.
Both pages run under the app's strict Content Security Policy."""

from pathlib import Path

import pytest
from django.db import connections

from patrols.models import DutyConsent, PositionPing
from patrols.services import duty
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
from tests.support.duty import check_in, shift_starting_soon, sign_up

sync_api = pytest.importorskip("playwright.sync_api")

pytestmark = [
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian's Chromium is not installed"),
]


@pytest.fixture
def chromium(live_server):
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()
        connections.close_all()


def phone_page(browser, live_server, username: str, *, where=None):
    """A signed-in phone (English, the app's policy watched, map tiles kept off the closed network)."""
    base = f"http://localhost:{live_server.thread.port}"
    options = {"geolocation": where, "permissions": ["geolocation"]} if where else {}
    context = browser.new_context(
        base_url=base, viewport=PHONE, is_mobile=True, has_touch=True, locale="en-US", **options
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
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/")
    return page, errors


def test_the_board_shows_a_volunteer_who_checks_in_without_a_reload(
    chromium, live_server, volunteer, inspector, zone, group
):
    shift = shift_starting_soon(zone, inspector, [group])
    sign_up(shift, volunteer)
    page, errors = phone_page(chromium, live_server, "inspector")
    page.goto("/duty/")
    board = page.locator("#duty-list")
    sync_api.expect(board).to_contain_text("Nobody is checked in right now.")
    page.evaluate("() => { window.notReloaded = true; }")

    check_in(shift, volunteer)
    sync_api.expect(board).to_contain_text(volunteer.volunteer.last_name, timeout=12000)
    sync_api.expect(board).to_contain_text(zone.name)
    assert page.evaluate("() => window.notReloaded === true")
    # Where: a marker on the map for the check-in position.
    sync_api.expect(page.locator("#duty-map path.leaflet-interactive")).to_have_count(1, timeout=12000)
    assert page.evaluate("() => document.documentElement.scrollWidth") <= PHONE["width"]
    assert errors == []


def test_the_phone_shares_its_position_once_agreed_and_stops_in_one_tap(
    chromium, live_server, volunteer, inspector, zone, group
):
    shift = shift_starting_soon(zone, inspector, [group])
    check_in(shift, volunteer)
    centre = zone.geometry.centroid
    page, errors = phone_page(
        chromium, live_server, "volunteer", where={"latitude": centre.y, "longitude": centre.x, "accuracy": 15}
    )
    page.goto(f"/shifts/{shift.pk}/")
    sync_api.expect(page.locator("#duty-position")).to_contain_text("every 30 to 60 seconds")
    assert PositionPing.objects.count() == 0

    page.get_by_role("button", name="I agree: share my position on duty").tap()
    sync_api.expect(page.locator(".duty-sharing")).to_contain_text("Sharing your position")
    assert wait_for(lambda: PositionPing.objects.count() == 1, seconds=12)
    sync_api.expect(page.locator(".duty-status")).to_contain_text("Position sent at")
    ping = PositionPing.objects.get()
    assert (ping.accuracy_m, round(ping.point.y, 5)) == (15, round(centre.y, 5))
    assert page.evaluate("() => document.documentElement.scrollWidth") <= PHONE["width"]

    page.get_by_role("button", name="Stop sharing my position").tap()
    sync_api.expect(page.get_by_role("button", name="Share my position again")).to_be_visible()
    assert duty.consent_of(volunteer.volunteer) is None
    assert DutyConsent.objects.get().withdrawn_at is not None
    assert page.evaluate("() => Object.keys(localStorage).filter((key) => key.startsWith('duty-')).length") == 0
    assert errors == []
