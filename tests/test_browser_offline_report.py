"""On a road with no signal: the volunteer files a report with a photo, it waits on the phone, and it arrives once,
photo included, when the network returns. Chromium at a phone's size; the service worker needs a secure origin,
and http://localhost is one."""

import datetime
import time
from pathlib import Path
from types import SimpleNamespace

import pytest
from django.db import connections
from django.utils import timezone

from patrols.models import Report, ReportPhoto
from tests.factories import PASSWORD
from tests.support.browser import (  # noqa: F401 (fixtures)
    CHROMIUM,
    CHROMIUM_ARGS,
    PHONE,
    camera_photo,
    media,
    orm_beside_playwright,
    reference_data_back,
    wait_for,
)
from tests.support.browser import shoot as shoot_page

sync_api = pytest.importorskip("playwright.sync_api")

pytestmark = [
    # The live server runs in another thread: data must be committed. Serialized rollback brings back the
    # migrations' reference data (regions, categories, outcomes) that the flush after a transactional test removes.
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian's Chromium is not installed"),
]


def street_photo(path: Path) -> Path:
    return camera_photo(path, ground=(90, 110, 130), stripes=(200, 180, 60), band=(200, 900, 100, 1100))


def shoot(page, name: str) -> None:
    shoot_page(page, name, folder_variable="REPORT_SCREENSHOTS")


@pytest.fixture
def phone_options() -> dict:
    """How the phone's browser is set up beyond the defaults; a test parametrizes it (the language, the worker)."""
    return {}


@pytest.fixture
def phone(live_server, volunteer, district, phone_options):
    """Chromium at a phone's size, near the district's centre, with the volunteer signed in."""
    base = f"http://localhost:{live_server.thread.port}"
    here = {"latitude": district.centre.y + 0.01, "longitude": district.centre.x + 0.01, "accuracy": 12}
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
            **{"locale": "ru-RU", **phone_options},
        )
        context.set_default_timeout(20000)
        page = context.new_page()
        errors = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        # The app's own Content Security Policy applies (blob: photo previews, the service worker): no violations.
        context.on(
            "console",
            lambda message: errors.append(message.text) if "Content Security Policy" in message.text else None,
        )
        page.goto("/accounts/login/")
        page.fill("#id_username", volunteer.username)
        page.fill("#id_password", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url(f"{base}/")
        yield SimpleNamespace(base=base, here=here, browser=browser, context=context, page=page, errors=errors)
        browser.close()
        # The ORM calls made beside Playwright's event loop got their own connection: close it before the teardown.
        connections.close_all()


def open_form(page) -> None:
    # Waits are written as functions: Playwright compiles a function once, but re-evaluates a bare expression
    # with eval() on every poll, which the page's Content Security Policy refuses once the first check fails.
    page.goto("/reports/new/")
    assert page.evaluate("navigator.serviceWorker.ready.then((registration) => Boolean(registration.active))")
    page.wait_for_function("() => navigator.serviceWorker.controller !== null")
    page.wait_for_function("() => document.getElementById('id_lat').value !== ''")


def test_a_report_filed_offline_arrives_once_when_the_network_returns(phone, volunteer, tmp_path):
    page, context, here = phone.page, phone.context, phone.here
    photo = street_photo(tmp_path / "street.jpg")

    # Online: the form opens and the service worker installs with the form's shell in its cache.
    open_form(page)
    shoot(page, "report-form-online.png")
    # The pin and its shadow come from Leaflet's own files, not from an address beside the page's.
    shadow = page.wait_for_selector("#report-map .leaflet-marker-shadow", state="attached")
    assert shadow.get_attribute("src").startswith("/static/leaflet/images/marker-shadow")

    # No signal from here on, for the page and the service worker alike; the form opens from the cache.
    context.set_offline(True)
    worker = context.service_workers[0]
    assert worker.evaluate("fetch('/healthz').then(() => 'reached', () => 'offline')") == "offline"
    assert page.reload().from_service_worker
    page.wait_for_selector("#report-form")
    assert page.evaluate("typeof L === 'object' && typeof gettext === 'function' && typeof Outbox === 'object'")
    page.check("input[name=outcome][value=prevented]")
    page.select_option("#id_category", "public_drinking")
    page.wait_for_function("() => document.getElementById('id_lat').value !== ''")
    page.fill("#id_description", "Аялдамада ішімдік ішіп отырған екі адамға ескерту жасадық, тарап кетті.")
    page.set_input_files("#id_photo", str(photo))
    page.wait_for_selector("[data-thumbs] img")
    shoot(page, "report-form-filled.png")
    page.click("button.send")

    page.wait_for_selector('#outbox-banner[data-count="1"]')
    assert "1" in page.inner_text("#outbox-banner [data-outbox-text]")
    assert page.is_visible("[data-outbox-warning]")
    shoot(page, "report-form-waiting.png")
    # The photo waits on the phone already shrunk: at most 1600 px on the longest side.
    size = page.evaluate(
        "Outbox.all().then((records) => createImageBitmap(records[0].photos[0].blob))"
        ".then((bitmap) => [bitmap.width, bitmap.height])"
    )
    assert size == [1600, 1067]
    time.sleep(1)
    assert Report.objects.count() == 0, "nothing reaches the server while offline"

    # The network returns: the report and its photo arrive, once.
    context.set_offline(False)
    assert wait_for(lambda: ReportPhoto.objects.count() == 1), "the report and its photo arrive within seconds"
    page.wait_for_selector('#outbox-banner[data-count="0"]', state="attached")
    link = page.wait_for_selector("[data-outbox-sent] a")
    report = Report.objects.select_related("outcome", "category").get()
    assert link.get_attribute("href") == f"/reports/{report.pk}/"
    shoot(page, "report-form-sent.png")

    page.reload()
    page.wait_for_selector('#outbox-banner[data-count="0"]', state="attached")
    assert page.is_hidden("#outbox-banner")
    time.sleep(1)
    assert Report.objects.count() == 1
    assert ReportPhoto.objects.filter(report=report).count() == 1
    assert report.reporter == volunteer.volunteer
    assert (report.outcome.code, report.category.code) == ("prevented", "public_drinking")
    assert report.description.startswith("Аялдамада")
    assert abs(report.location.y - here["latitude"]) < 1e-5
    assert abs(report.location.x - here["longitude"]) < 1e-5
    assert max(report.photos.get().width, report.photos.get().height) == 1600
    assert phone.errors == []


def test_a_report_the_server_refuses_is_kept_to_be_corrected(phone):
    page = phone.page
    open_form(page)
    page.check("input[name=outcome][value=solved]")
    page.select_option("#id_category", "theft")
    page.fill("#id_description", "Ұрыны ұстауға көмектестік, полицияға тапсырдық.")
    page.fill("#id_case_number", "12345")
    page.click("button.send")

    # A 400 is not dropped: the report stays on the phone, said to be refused, with the server's message.
    problem = page.wait_for_selector("[data-outbox-problems] > li")
    assert problem.get_attribute("data-state") == "refused"
    assert problem.query_selector(".state").inner_text() == page.evaluate("() => gettext('Refused')")
    assert "15" in problem.inner_text()
    assert page.get_attribute("#outbox-banner", "data-count") == "1"
    assert Report.objects.count() == 0
    shoot(page, "report-form-refused.png")

    # Corrected in the form, it goes out under the same id.
    client_uuid = problem.get_attribute("data-client-uuid")
    problem.query_selector("button:not(.danger)").click()
    page.wait_for_function("() => document.getElementById('id_case_number').value === '12345'")
    assert page.input_value("#id_description").startswith("Ұрыны")
    page.fill("#id_case_number", "123456789012345")
    page.click("button.send")
    page.wait_for_selector("[data-outbox-sent] a")
    page.wait_for_selector('#outbox-banner[data-count="0"]', state="attached")
    assert page.query_selector("[data-outbox-problems] > li") is None
    report = Report.objects.get()
    assert (str(report.client_uuid), report.case_number) == (client_uuid, "123456789012345")
    assert phone.errors == []


CACHED_PATHS = """async () => {
  const paths = [];
  for (const name of await caches.keys()) {
    const cache = await caches.open(name);
    for (const request of await cache.keys()) { paths.push(new URL(request.url).pathname); }
  }
  return paths;
}"""


def test_signing_out_on_a_shared_phone_forgets_the_pages_kept_for_offline_use(phone):
    page, context = phone.page, phone.context
    open_form(page)
    page.goto("/reports/")
    kept = page.evaluate(CACHED_PATHS)
    assert {"/reports/new/", "/reports/"} <= set(kept)

    page.click("form.logout button")
    page.wait_for_selector("body[data-offline-pages-forgotten]", state="attached")
    kept = page.evaluate(CACHED_PATHS)
    assert "/reports/" not in kept and "/reports/new/" not in kept
    # The static files stay: the next volunteer's form still opens with no signal once they have signed in.
    assert any(path.startswith("/static/") for path in kept)

    # With no signal, the next person on this phone opens nobody's report list.
    context.set_offline(True)
    with pytest.raises(sync_api.Error):
        page.goto("/reports/")
    assert phone.errors == []


def in_words(page, msgid: str) -> str:
    """What the page's JavaScript catalogue makes of a message: the words a state is shown in."""
    return page.evaluate("(msgid) => gettext(msgid)", msgid)


def fill_report(page, description: str, *, occurred: datetime.datetime | None = None) -> None:
    page.check("input[name=outcome][value=prevented]")
    page.select_option("#id_category", "public_drinking")
    if occurred:
        page.fill("#id_occurred_at", occurred.strftime("%Y-%m-%dT%H:%M"))
    page.fill("#id_description", description)


@pytest.mark.parametrize("phone_options", [{"locale": "kk-KZ"}])
def test_on_a_kazakh_phone_a_waiting_report_reads_its_time_and_state_in_words(phone):
    page, context = phone.page, phone.context
    yesterday = timezone.localtime() - datetime.timedelta(days=1)
    occurred = yesterday.replace(hour=19, minute=30)
    open_form(page)
    assert page.evaluate("() => document.documentElement.lang") == "kk"

    context.set_offline(True)
    fill_report(page, "Кешке аялдамада жанжалды тоқтаттық.", occurred=occurred)
    page.click("button.send")

    # Waiting, in words, with the time as Kazakhstan writes it (Chromium's ICU alone would say 2026-12-03 19:30).
    waiting = page.wait_for_selector("[data-outbox-items] > li[data-state=waiting]")
    assert waiting.query_selector(".state").inner_text() == in_words(page, "Waiting to be sent")
    about = waiting.query_selector(".about").inner_text()
    assert about.startswith(occurred.strftime("%d.%m.%Y 19:30 · Кешке")), about
    # Headless Chromium does not promise to keep the site's data: the page says what that means.
    assert page.is_visible("[data-outbox-persist]")
    shoot(page, "report-waiting-kk.png")

    # Back online, the same report reads "sent", still named by its time.
    context.set_offline(False)
    sent = page.wait_for_selector("[data-outbox-sent] > li[data-state=sent]")
    assert sent.query_selector(".state").inner_text() == in_words(page, "Sent")
    assert occurred.strftime("%d.%m.%Y 19:30") in sent.inner_text()
    assert page.query_selector("[data-outbox-items] > li") is None
    assert Report.objects.get().occurred_at == occurred.replace(second=0, microsecond=0)
    assert phone.errors == []


def test_when_the_browser_keeps_the_storage_the_page_does_not_warn(phone):
    page, context = phone.page, phone.context
    open_form(page)
    # What a browser grants a site it trusts (an installed app, a bookmark): the storage is kept.
    target = context.new_cdp_session(page).send("Target.getTargetInfo")["targetInfo"]
    phone.browser.new_browser_cdp_session().send(
        "Browser.grantPermissions",
        {"permissions": ["durableStorage"], "origin": phone.base, "browserContextId": target["browserContextId"]},
    )
    context.set_offline(True)
    fill_report(page, "Саябақта жоғалған баланы ата-анасына тапсырдық.")
    page.click("button.send")
    page.wait_for_selector("[data-outbox-items] > li[data-state=waiting]")
    assert page.evaluate("() => navigator.storage.persisted()") is True
    assert page.is_hidden("[data-outbox-persist]")
    assert phone.errors == []


# The reminder looks at the outbox when the page loads; this waits until it has looked.
LOOKED_AGAIN = "() => OutboxUI.remind()"
AGE_BY_TWO_DAYS = """async () => {
  const [record] = await Outbox.all();
  record.created_at = Date.now() - 2 * 24 * 3600 * 1000;
  await Outbox.put(record);
  return record.created_at;
}"""


# No service worker here: the API is out of reach for the page alone (a weak connection), and nothing sends behind it.
@pytest.mark.parametrize("phone_options", [{"locale": "kk-KZ", "service_workers": "block"}])
def test_a_report_waiting_more_than_a_day_is_recalled_on_the_other_pages(phone, volunteer):
    page, context = phone.page, phone.context
    context.route("**/api/v1/reports/", lambda route: route.abort())
    page.goto("/reports/new/")
    page.wait_for_function("() => document.getElementById('id_lat').value !== ''")
    fill_report(page, "Түнде дүкен жанында төбелесті тоқтаттық.")
    page.click("button.send")
    page.wait_for_selector("[data-outbox-items] > li[data-state=waiting]")

    # A fresh report is no reason to nag.
    page.goto("/")
    page.evaluate(LOOKED_AGAIN)
    assert page.is_hidden("#outbox-reminder")

    # Two days later it still waits: every page says so, with when it was saved and the way to send it.
    saved = page.evaluate(AGE_BY_TWO_DAYS)
    page.goto("/shifts/")
    reminder = page.wait_for_selector("#outbox-reminder [data-reminder=reports]")
    assert reminder.is_visible()
    since = timezone.localtime(datetime.datetime.fromtimestamp(saved / 1000, tz=datetime.UTC))
    assert since.strftime("%d.%m.%Y %H:%M") in reminder.inner_text()
    assert page.is_hidden("#outbox-reminder [data-reminder=meetings]")
    shoot(page, "reminder-kk.png")

    # Its outbox marks it too, in words as well as by its edge.
    reminder.query_selector("a").click()
    page.wait_for_url(f"{phone.base}/reports/")
    # (The page tries to send it as it opens: a list item is rebuilt when its state changes, so it is looked up anew.)
    stale = page.locator("[data-outbox-items] > li.stale[data-state=waiting]")
    sync_api.expect(stale.locator(".stale-note")).to_be_visible()
    assert page.is_hidden("#outbox-reminder"), "the outbox page lists it itself"

    # With the connection back it goes out, and the reminder is gone.
    context.unroute("**/api/v1/reports/")
    page.click("[data-outbox-send]")
    page.wait_for_selector("[data-outbox-sent] > li[data-state=sent]")
    assert Report.objects.filter(reporter=volunteer.volunteer).count() == 1
    page.goto("/")
    page.evaluate(LOOKED_AGAIN)
    assert page.is_hidden("#outbox-reminder")
    assert phone.errors == []


def pump_until(page, condition, seconds: float = 30.0) -> bool:
    """`wait_for` for a test with route handlers: they run only while Playwright is waiting, not while Python sleeps."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        page.wait_for_timeout(100)
    return condition()


# The page alone sends (no Background Sync behind it), so the test knows which requests are the phone's.
@pytest.mark.parametrize("phone_options", [{"service_workers": "block"}])
def test_a_connection_lost_while_sending_leaves_every_report_once_in_the_order_written(phone, volunteer, tmp_path):
    page, context = phone.page, phone.context
    pictures = [
        camera_photo(
            tmp_path / f"{n}.jpg", ground=(30 * n, 110, 130), stripes=(200, 180, 60), band=(150 + 20 * n, 900, 90, 1100)
        )
        for n in range(6)
    ]
    page.goto("/reports/new/")
    page.wait_for_function("() => document.getElementById('id_lat').value !== ''")
    context.set_offline(True)
    for number in (1, 2, 3):
        fill_report(page, f"Отчёт {number}: предупредили двоих у остановки.")
        page.set_input_files("#id_photo", [str(path) for path in pictures[2 * number - 2 : 2 * number]])
        page.wait_for_function("() => document.getElementById('report-form').dataset.photos === '2'")
        page.click("button.send")
        page.wait_for_selector(f'#outbox-banner[data-count="{number}"]', state="attached")
    written = page.evaluate("() => Outbox.all().then((records) => records.map((record) => record.client_uuid))")

    # The server takes the second report, and later the fifth photo, but the connection drops before its answer
    # reaches the phone: to the phone they failed, and it sends them again when the network is back.
    posts = {"report": 0, "photo": 0}
    lost, answers = [], []

    def drop_one_answer(route):
        kind = "photo" if route.request.url.endswith("/photos/") else "report"
        posts[kind] += 1
        if (kind, posts[kind]) in (("report", 2), ("photo", 5)):
            route.fetch()
            lost.append(kind)
            route.abort("internetdisconnected")
        else:
            route.continue_()

    context.route("**/api/v1/reports/**", drop_one_answer)
    page.on("response", lambda response: answers.append(response.status) if response.request.method == "POST" else None)
    context.set_offline(False)
    for drops in (1, 2):
        assert pump_until(page, lambda drops=drops: len(lost) == drops), f"drop {drops} happens"
        context.set_offline(True)
        context.set_offline(False)
    page.wait_for_selector('#outbox-banner[data-count="0"]', state="attached")

    assert lost == ["report", "photo"]
    # Each was sent again and the server answered with what it already had (200), not a second one.
    assert answers.count(201) == 3 + 6 - 2 and answers.count(200) == 2
    reports = list(Report.objects.filter(reporter=volunteer.volunteer).order_by("created_at", "pk"))
    assert [str(report.client_uuid) for report in reports] == written
    assert [report.photos.count() for report in reports] == [2, 2, 2]
    assert reports[1].description.startswith("Отчёт 2")
    assert phone.errors == []
