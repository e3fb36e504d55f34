"""In Chromium, under the app's own Content Security Policy: the pages that do not come from our templates (the
API docs' Swagger UI, the admin with its map fields) and the two-factor set-up with its QR code work without a
single violation."""

import pytest
from playwright.sync_api import expect

from tests.factories import PASSWORD
from tests.support import totp
from tests.test_browser_shifts import chromium, strict  # noqa: F401 (the fixture is used by name)

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def test_the_api_docs_work_under_the_policy(live_server, chromium):  # noqa: F811
    context = chromium.new_context(viewport={"width": 1280, "height": 900}, locale="en-US")
    violations = strict(context, live_server.url)
    page = context.new_page()
    page.goto(f"{live_server.url}/api/docs/")
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("Volunteer patrol coordination API")
    expect(page.get_by_role("button", name="POST /api/v1/auth/token/", exact=True)).to_be_visible()
    assert violations == []


def test_the_admin_and_its_maps_work_under_the_policy(live_server, chromium, admin_user, district):  # noqa: F811
    admin_user.is_superuser = True
    admin_user.save()
    context = chromium.new_context(viewport={"width": 1280, "height": 900}, locale="en-US")
    violations = strict(context, live_server.url)
    page = context.new_page()
    page.goto(f"{live_server.url}/admin/")
    # The admin sends people to the site's sign-in page, and back.
    page.fill("#id_username", "admin")
    page.fill("#id_password", PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator("#site-name")).to_be_visible()
    page.goto(f"{live_server.url}/admin/patrols/district/{district.pk}/change/")
    maps = page.locator(".map-draw.leaflet-container")
    expect(maps).to_have_count(2)
    # The centre is a marker, the boundary a polygon with its drawing tools.
    expect(page.locator(".leaflet-marker-icon")).to_have_count(1)
    expect(page.locator(".leaflet-draw-draw-polygon")).to_be_visible()
    expect(page.locator(".map-draw path.leaflet-interactive").first).to_be_attached()
    assert maps.first.bounding_box()["height"] >= 300
    assert violations == []


def test_the_two_factor_set_up_works_under_the_policy(settings, live_server, chromium, inspector):  # noqa: F811
    settings.STAFF_2FA = True
    context = chromium.new_context(viewport={"width": 360, "height": 740}, is_mobile=True, locale="en-US")
    violations = strict(context, live_server.url)
    page = context.new_page()
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_username", "inspector")
    page.fill("#id_password", PASSWORD)
    page.check("#id_shared_device")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Set up two-factor sign-in")
    qr = page.locator(".qr-code svg")
    expect(qr).to_be_visible()
    assert 150 <= qr.bounding_box()["width"] <= 220
    key = totp.key_from_secret(page.inner_text("#totp-secret"))
    page.fill("#id_otp", totp.code(key))
    page.get_by_role("button", name="Confirm and sign in").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Hello")
    expect(page.locator(".message.success")).to_contain_text("Two-factor sign-in is set up")
    cookie = next(c for c in context.cookies() if c["name"] == "sessionid")
    assert cookie["expires"] == -1, "a shared device's session ends with the browser"
    assert violations == []
