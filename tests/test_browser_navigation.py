"""The top menu on a 360 px phone: the four entries a person uses most across the screen, the rest under "More",
the current page marked, and nothing that scrolls sideways, for a volunteer and for an inspector, in kk and ru."""

import pytest

from tests.support.reports import file_report
from tests.test_browser_shifts import PHONE, chromium, sign_in, strict  # noqa: F401 (chromium is a fixture)

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


@pytest.mark.parametrize(("username", "hidden"), [("volunteer", "/groups/"), ("inspector", "/zones/")])
def test_the_menu_fits_one_thumb_at_360_px(live_server, chromium, volunteer, inspector, group, username, hidden):  # noqa: F811
    # A report waits in the queue, flagged (filed outside any shift), with a long Kazakh description.
    file_report(volunteer, description="Дүкеннің алдында түнгі сағат оннан кейін жасөспірімдер топтасып, шу шығарды.")
    context = chromium.new_context(viewport=PHONE, is_mobile=True, has_touch=True, locale="en-US")
    violations = strict(context, live_server.url)
    page = context.new_page()
    sign_in(page, live_server.url, username)
    for language in ("kk", "ru"):
        context.add_cookies([{"name": "django_language", "value": language, "url": live_server.url}])
        page.goto(f"{live_server.url}/shifts/")
        assert page.evaluate("() => document.documentElement.scrollWidth") <= PHONE["width"], language
        primary = page.locator("nav.mainnav > a")
        assert primary.count() == 4
        assert page.locator("nav.mainnav > a[aria-current=page]").get_attribute("href") == "/shifts/"
        for index in range(primary.count()):
            box = primary.nth(index).bounding_box()
            assert box["height"] >= 44 and box["x"] + box["width"] <= PHONE["width"], language
        more = page.locator(f"nav.mainnav .navmore-list a[href='{hidden}']")
        assert not more.is_visible()
        page.locator("nav.mainnav .navmore summary").tap()
        assert more.is_visible()
        more.tap()
        page.wait_for_url(f"**{hidden}")
        assert page.locator("nav.mainnav .navmore summary.current").count() == 1
        assert page.evaluate("() => document.documentElement.scrollWidth") <= PHONE["width"], language
        # And every page the menu's four entries open fits the phone too.
        for href in page.locator("nav.mainnav > a").evaluate_all("links => links.map(a => a.getAttribute('href'))"):
            page.goto(f"{live_server.url}{href}")
            assert page.evaluate("() => document.documentElement.scrollWidth") <= PHONE["width"], (language, href)
    assert violations == []
    context.close()


def test_the_notification_settings_can_be_ticked_with_a_thumb(live_server, chromium, volunteer):  # noqa: F811
    context = chromium.new_context(viewport=PHONE, is_mobile=True, has_touch=True, locale="en-US")
    page = context.new_page()
    sign_in(page, live_server.url, "volunteer")
    page.goto(f"{live_server.url}/settings/notifications/")
    boxes = page.locator("form input[type=checkbox]")
    assert boxes.count() >= 2
    for index in range(boxes.count()):
        box = boxes.nth(index).bounding_box()
        row = boxes.nth(index).evaluate(
            "input => input.closest('.field, .choices label, label').getBoundingClientRect().height"
        )
        assert box["width"] >= 22 and box["height"] >= 22 and row >= 44
    assert page.evaluate("() => document.documentElement.scrollWidth") <= PHONE["width"]
    context.close()
