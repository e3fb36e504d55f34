"""In a real Chromium at a phone's size (360×740): a volunteer signs up for an open shift with one tap and checks in
with the phone's position; the inspector then sees the check-in on the shift page. Every page is served under the
app's own strict Content Security Policy (no 'unsafe-inline'), so an inline script anywhere would show up as a
violation, and a page without the policy is reported too."""

import datetime
import re

import pytest
from django.db import connections
from django.utils import timezone
from django.utils.translation.trans_real import DjangoTranslation
from playwright.sync_api import expect, sync_playwright

from patrols.models import Assignment, Shift
from patrols.services import scheduling
from tests.factories import PASSWORD

CHROMIUM = "/usr/bin/chromium"
# Debian's Chromium in a container: no sandbox, no GPU, and no calls home (the network here is closed).
LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PHONE = {"width": 360, "height": 740}
# Directives a page of the app must carry exactly (their order in the header is not fixed).
STRICT = {"script-src": ["'self'"], "style-src": ["'self'"], "object-src": ["'none'"]}
SCREENSHOTS = "/tmp"

# Transactional, so the live server's thread sees the data; the serialized rollback brings back the regions that
# the migrations load, which the flush at the end of a transactional test removes.
pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


@pytest.fixture
def chromium(monkeypatch):
    # Playwright's sync API keeps an asyncio loop running in this thread, and Django refuses ORM calls from a thread
    # with a running loop unless told they are safe. They are: the test's own code is synchronous.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
        yield browser
        browser.close()
        # While that loop runs, asgiref gives ORM calls a connection of their own; close it now, while it is still
        # the current one, or it outlives the test and blocks dropping the test database.
        connections.close_all()


def strict(context, origin: str) -> list[str]:
    """Watch the app's pages under its own policy and keep map tiles off the closed network; returns the CSP
    violations seen, and any page of the app served without a strict policy."""
    context.route("https://tile.openstreetmap.org/**", lambda route: route.abort())
    violations: list[str] = []
    context.on(
        "console",
        lambda message: violations.append(message.text) if "Content Security Policy" in message.text else None,
    )

    def check_policy(response):
        if response.request.resource_type == "document" and response.url.startswith(origin):
            policy = response.headers.get("content-security-policy", "")
            directives = {words[0]: words[1:] for words in (part.split() for part in policy.split(";")) if words}
            if any(directives.get(name) != sources for name, sources in STRICT.items()) or "unsafe-inline" in policy:
                violations.append(f"{response.url} is served with the policy {policy!r}")

    context.on("response", check_policy)
    return violations


def sign_in(page, origin: str, username: str) -> None:
    page.goto(f"{origin}/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Hello")


def soon(minutes: int) -> datetime.datetime:
    return timezone.now() + datetime.timedelta(minutes=minutes)


def test_a_volunteer_signs_up_and_checks_in_on_a_phone_and_the_inspector_sees_it(
    live_server, chromium, volunteer, inspector, zone, group
):
    shift = scheduling.shift_create(
        by=inspector,
        zone=zone,
        starts_at=soon(10),
        ends_at=soon(190),
        min_volunteers=1,
        max_volunteers=3,
        groups=[group],
        briefing="Meet at the school gate; bring a torch.",
    )
    centre = zone.geometry.centroid
    origin = live_server.url

    phone = chromium.new_context(
        viewport=PHONE,
        is_mobile=True,
        has_touch=True,
        locale="en-US",
        geolocation={"latitude": centre.y, "longitude": centre.x, "accuracy": 15},
        permissions=["geolocation"],
    )
    violations = strict(phone, origin)
    page = phone.new_page()
    sign_in(page, origin, "volunteer")
    page.get_by_role("link", name="Shifts", exact=True).click()
    expect(page.get_by_role("heading", name="My shifts")).to_be_visible()
    offer = page.locator("article.shift-item", has_text=zone.name)
    offer.get_by_role("button", name="Sign up").tap()
    expect(page.locator(".message.success")).to_contain_text("You are on the shift")
    assert Assignment.objects.get(shift=shift).status == "signed_up"

    page.get_by_role("button", name="Check in").tap()
    expect(page.locator(".message.success")).to_contain_text("inside the zone")
    assignment = Assignment.objects.get(shift=shift)
    assert assignment.status == "checked_in"
    assert assignment.check_in_distance_m == 0
    # Checked in ten minutes early: there is no checking out before the start.
    expect(page.get_by_role("button", name="Check out")).to_have_count(0)
    Shift.objects.filter(pk=shift.pk).update(starts_at=soon(-60), ends_at=soon(120))
    page.reload()
    expect(page.get_by_role("button", name="Check out")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    page.screenshot(path=f"{SCREENSHOTS}/shifts-volunteer-phone.png", full_page=True)
    # Two hours before the end, leaving needs a reason: the form asks for it before it sends the position.
    page.get_by_role("button", name="Check out").tap()
    assert Assignment.objects.get(shift=shift).status == "checked_in"
    page.get_by_label(re.compile("why do you leave earlier")).fill("My mother called me home.")
    page.get_by_role("button", name="Check out").tap()
    expect(page.locator(".message.success")).to_contain_text("Checked out at")
    assignment = Assignment.objects.get(shift=shift)
    assert (assignment.status, assignment.check_out_reason) == ("completed", "My mother called me home.")

    office = chromium.new_context(viewport={"width": 1280, "height": 900}, locale="en-US")
    violations += strict(office, origin)
    desk = office.new_page()
    sign_in(desk, origin, "inspector")
    desk.goto(f"{origin}/shifts/{shift.pk}/")
    row = desk.locator("table.roster tbody tr", has_text=volunteer.volunteer.last_name)
    expect(row).to_contain_text("Completed")
    expect(row).to_contain_text("in the zone")
    expect(row).to_contain_text("0 m")
    expect(row).to_contain_text("Left early: My mother called me home.")
    expect(desk.locator("#shift-map.leaflet-container path.leaflet-interactive").first).to_be_attached()
    expect(desk.locator(".history")).to_contain_text("Checked in")
    desk.screenshot(path=f"{SCREENSHOTS}/shifts-inspector-shift.png", full_page=True)
    desk.goto(f"{origin}/shifts/")
    expect(desk.locator(".shift-card", has_text=zone.name)).to_contain_text("1 / 1 / 3")
    desk.screenshot(path=f"{SCREENSHOTS}/shifts-inspector-week.png", full_page=True)
    assert violations == []


def test_a_refused_position_is_explained_and_nothing_is_sent(live_server, chromium, volunteer, inspector, zone, group):
    shift = scheduling.shift_create(
        by=inspector, zone=zone, starts_at=soon(10), ends_at=soon(120), groups=[group], min_volunteers=1
    )
    scheduling.shift_signup(shift=shift, volunteer=volunteer.volunteer, by=volunteer)
    phone = chromium.new_context(viewport=PHONE, is_mobile=True, has_touch=True, locale="en-US")
    violations = strict(phone, live_server.url)
    page = phone.new_page()
    sign_in(page, live_server.url, "volunteer")
    page.goto(f"{live_server.url}/shifts/")
    page.get_by_role("button", name="Check in").tap()
    expect(page.get_by_role("alert")).to_contain_text("Location access is blocked")
    assert Assignment.objects.get(shift=shift).status == "signed_up"
    assert violations == []


def test_the_zone_drawing_map_starts_under_a_strict_policy(live_server, chromium, inspector, zone):
    office = chromium.new_context(viewport=PHONE, is_mobile=True, has_touch=True, locale="en-US")
    violations = strict(office, live_server.url)
    page = office.new_page()
    sign_in(page, live_server.url, "inspector")
    page.goto(f"{live_server.url}/zones/{zone.pk}/edit/")
    expect(page.locator(".leaflet-draw-draw-polygon")).to_be_visible()
    expect(page.locator(".map-draw path.leaflet-interactive").first).to_be_attached()
    page.goto(f"{live_server.url}/zones/")
    expect(page.locator("#zones-map path.leaflet-interactive")).to_have_count(1)
    page.screenshot(path=f"{SCREENSHOTS}/zones-phone.png", full_page=True)
    assert violations == []


# What leaflet.draw and Leaflet show on the zone page, by the message the project's catalogue translates.
MAP_TOOLS = {
    ".leaflet-draw-draw-polygon": "Draw an area (a polygon)",
    ".leaflet-draw-draw-rectangle": "Draw a rectangle",
    ".leaflet-draw-edit-edit": "Change the drawing",
    ".leaflet-control-zoom-in": "Zoom in",
    ".leaflet-control-zoom-out": "Zoom out",
}


def test_the_zone_drawing_tools_speak_kazakh(live_server, chromium, inspector, zone):
    office = chromium.new_context(viewport=PHONE, is_mobile=True, has_touch=True, locale="kk-KZ")
    violations = strict(office, live_server.url)
    page = office.new_page()
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_username", "inspector")
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")
    page.goto(f"{live_server.url}/zones/{zone.pk}/edit/")
    expect(page.locator(".leaflet-draw-draw-polygon")).to_be_visible()
    assert page.evaluate("() => document.documentElement.lang") == "kk"

    kazakh = DjangoTranslation("kk", domain="djangojs")
    for selector, msgid in MAP_TOOLS.items():
        title = page.locator(selector).get_attribute("title")
        assert title == kazakh.gettext(msgid), selector
        assert title != msgid, f"the Kazakh JavaScript catalogue has no translation of {msgid!r}"
    # The scale bar's units come from the same catalogue.
    scale = page.locator(".leaflet-control-scale-line").inner_text()
    assert re.fullmatch(r"[\d\u00a0]+ \S+", scale), scale
    assert violations == []
