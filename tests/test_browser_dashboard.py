"""In a real Chromium, under the app's own strict Content Security Policy: the Almaty Region chief opens the dashboard
at a desktop's size (1280×800) and a phone's (360×740), reads the headline numbers, sorts the districts and sees the
region's verified reports clustered on the map; the analyst sees the country as a heat layer. Screenshots go to /tmp.
No CSP violation and no console error is allowed: the charts and bars are drawn without inline styles or scripts, and
nothing is fetched from another site (the map tiles are answered locally with a blank image)."""

import base64

import pytest
from django.contrib.gis.geos import Point
from django.utils import timezone, translation
from playwright.sync_api import expect

from patrols.choices import BenchmarkLevel
from patrols.clock import LOCAL_TZ
from patrols.models import Benchmark
from patrols.services import exports, figures
from tests.factories import DistrictFactory, square
from tests.support.reports import verified
from tests.test_browser_shifts import PHONE, SCREENSHOTS, chromium, sign_in, strict  # noqa: F401

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

DESKTOP = {"width": 1280, "height": 800}
THIS_YEAR = timezone.localdate(timezone=LOCAL_TZ).year
BLANK_TILE = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII="
)


def watched(browser, origin: str, **options):
    """A browser context under the app's policy, with blank map tiles; returns it, the CSP violations and the errors
    (console errors and uncaught exceptions) that its pages report."""
    context = browser.new_context(locale="en-US", **options)
    violations = strict(context, origin)
    # Registered after strict()'s abort, so it answers first: tiles load (blank) instead of failing in the console.
    context.route(
        "https://tile.openstreetmap.org/**", lambda route: route.fulfill(content_type="image/png", body=BLANK_TILE)
    )
    errors: list[str] = []
    context.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    context.on("weberror", lambda error: errors.append(str(error.error)))
    return context, violations, errors


def read_headline(page) -> None:
    prevented = page.locator('[data-headline="prevented"]')
    expect(prevented.locator('[data-figure="count"]')).to_have_text("3")
    expect(prevented.locator('[data-figure="benchmark"]')).to_have_text("4")
    expect(prevented.locator('[data-figure="percent"]')).to_have_text("75%")
    expect(page.locator('[data-headline="solved"] [data-figure="count"]')).to_have_text("1")
    for figure in ("count", "benchmark", "percent"):
        expect(prevented.locator(f'[data-figure="{figure}"]')).to_be_visible()
    # The region's four reports lie on one spot: one cluster of four on the map.
    expect(page.locator("#dash-map[data-loaded='points']")).to_be_attached()
    expect(page.locator("#dash-map .marker-cluster")).to_have_count(1)
    expect(page.locator("#dash-map .marker-cluster")).to_have_text("4")


def test_the_chief_reads_the_dashboard_on_a_desk_and_on_a_phone(
    live_server,
    chromium,  # noqa: F811
    volunteer,
    other_volunteer,
    inspector,
    other_inspector,
    chief,
    analyst,
    district,
):
    DistrictFactory(
        code="KZ-19-ENB",
        name_en="Enbekshikazakh District",
        centre=Point(78.0, 43.6, srid=4326),
        boundary=square(78.0, 43.6),
    )
    Benchmark.objects.create(
        year=THIS_YEAR, level=BenchmarkLevel.REGION, region=district.region, prevented_target=4, solved_target=2
    )
    for _ in range(3):
        verified(volunteer, inspector)
    verified(volunteer, inspector, outcome="solved")
    verified(other_volunteer, other_inspector)
    origin = live_server.url

    desk, violations, errors = watched(chromium, origin, viewport=DESKTOP)
    page = desk.new_page()
    sign_in(page, origin, "chief")
    page.get_by_role("link", name="Dashboard", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Dashboard: Almaty Region")
    read_headline(page)
    today = timezone.localdate(timezone=LOCAL_TZ)
    pace = figures.figure(3, own=4, national=None, level="region", elapsed=figures.year_elapsed(THIS_YEAR, today))
    with translation.override("en"):
        expect(page.locator(".dash-pace .badge").first).to_have_text(exports.pace_label(pace.pace))
    assert page.locator("#by-month svg rect.dash-col-now").count() == 24
    assert "Abay" not in page.content()

    districts = page.locator("#by-area table")
    expect(districts.locator("tbody tr").first).to_contain_text("Enbekshikazakh District")
    districts.get_by_role("button", name="Offenses prevented").click()
    expect(districts.locator("th[aria-sort='descending']")).to_have_count(1)
    expect(districts.locator("tbody tr").first).to_contain_text("Talgar District")
    districts.get_by_role("button", name="District").click()
    expect(districts.locator("tbody tr").first).to_contain_text("Enbekshikazakh District")
    page.screenshot(path=f"{SCREENSHOTS}/dashboard-chief-desktop.png", full_page=True)

    districts.get_by_role("link", name="Talgar District").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Dashboard: Talgar District")
    expect(page.locator("[data-headline='prevented'] [data-figure='count']")).to_have_text("3")
    expect(page.locator(".dash-crumbs a", has_text="Almaty Region")).to_be_visible()

    phone, phone_violations, phone_errors = watched(chromium, origin, viewport=PHONE, is_mobile=True, has_touch=True)
    small = phone.new_page()
    sign_in(small, origin, "chief")
    small.goto(f"{origin}/dashboard/")
    read_headline(small)
    assert small.evaluate("document.documentElement.scrollWidth") <= PHONE["width"], "nothing wider than the phone"
    box = small.locator('[data-headline="prevented"]').bounding_box()
    assert box["width"] <= PHONE["width"]
    small.screenshot(path=f"{SCREENSHOTS}/dashboard-chief-phone.png", full_page=True)

    country, country_violations, country_errors = watched(chromium, origin, viewport=DESKTOP)
    national = country.new_page()
    sign_in(national, origin, "analyst")
    national.goto(f"{origin}/dashboard/")
    expect(national.locator("[data-headline='prevented'] [data-figure='count']")).to_have_text("4")
    expect(national.locator("#dash-map[data-loaded='grid'] canvas.leaflet-heatmap-layer")).to_be_attached()
    national.screenshot(path=f"{SCREENSHOTS}/dashboard-analyst-desktop.png", full_page=True)

    assert violations + phone_violations + country_violations == []
    assert errors + phone_errors + country_errors == []
