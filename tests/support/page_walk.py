"""Walking every page a signed-in person reaches from their home, by the links on the pages, one page of each kind.

Two walkers share the rules: `walk` reads pages through Django's test client (fast, for the words on them), and
`walk_in_phones` opens them in Chromium at 360 px, several people and languages side by side, and checks each page
for sideways scrolling, axe-core's serious and critical violations, and dates or times written the American way.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.staticfiles.handlers import StaticFilesHandler
from django.test import Client
from django.test.testcases import LiveServerThread
from django.urls import Resolver404, resolve

from .browser import CHROMIUM, CHROMIUM_ARGS, PHONE

ENGLISH_MONTHS = re.compile(
    r"\b(January|February|March|April|May|June|July|August|September|October|November|December)\b"
)
AM_PM = re.compile(r"\b\d{1,2}(:\d\d)?\s?(AM|PM|a\.m\.|p\.m\.)(?=\W|$)", re.IGNORECASE)
SLASHED_DATE = re.compile(r"\b\d{1,2}/\d{1,2}/\d{2,4}\b")
# Links that are not pages: files, feeds, sign-out, the language switch, one-time reply links, the admin site.
NOT_PAGES = re.compile(
    r"(logout|/static/|/media/|/api/|/admin/|/export/|\.pdf|\.ics|\.csv|\.xlsx|sw\.js|/reply/|/i18n/)"
)

# axe-core from the npm registry (package.json; `make test` installs it).
AXE = Path(settings.BASE_DIR) / "node_modules" / "axe-core" / "axe.min.js"
# Serious and critical violations only, found with less work than a plain `axe.run` and the same answer:
# - a rule's violation has the impact set on the rule, else the worst impact of its failing checks (axe-core's
#   aggregateChecks and finalizeRuleResult), so a rule whose every impact is below "serious" can never be one of
#   them: it is not run;
# - the first run leaves out what only describes the nodes (their CSS selectors and HTML); only when it finds a
#   violation does a second run, with the selectors, say where.
AXE_RUN = """async () => {
  const impacts = ["minor", "moderate", "serious", "critical"];
  const checks = axe._audit.data.checks;
  const worst = (rule) => rule.impact ? impacts.indexOf(rule.impact)
    : Math.max(-1, ...[...rule.any, ...rule.all, ...rule.none].map(c => impacts.indexOf((checks[c.id] || {}).impact)));
  const rules = Object.fromEntries(axe._audit.rules.filter(r => worst(r) < 2).map(r => [r.id, {enabled: false}]));
  const serious = (v) => v.impact === "serious" || v.impact === "critical";
  axe.configure({noHtml: true});
  const quick = await axe.run(document, {resultTypes: ["violations"], rules, selectors: false});
  if (!quick.violations.some(serious)) {
    return [];
  }
  const result = await axe.run(document, {resultTypes: ["violations"], rules});
  return result.violations
    .filter(serious)
    .map(v => ({id: v.id, impact: v.impact, help: v.help,
                nodes: v.nodes.slice(0, 3).map(n => n.target.join(" ") + " :: " + n.failureSummary.split("\\n")[1])}));
}"""
NO_TILES = "--host-resolver-rules=MAP tile.openstreetmap.org ~NOTFOUND"
LINKS = """() => Array.from(document.querySelectorAll("a[href^='/']"))
                .map(a => a.getAttribute("href")).filter(h => !h.startsWith("//"))"""
WIDE = """(limit) => Array.from(document.querySelectorAll("body *"))
            .filter(e => e.getBoundingClientRect().right > limit + 0.5)
            .slice(0, 3).map(e => e.tagName.toLowerCase() + (e.className ? "." + e.className : ""))"""


def date_problems(text: str, language: str) -> list[str]:
    """Each date or time in a page's text written the American way, or an English month outside English pages."""
    checks = [AM_PM, SLASHED_DATE] + ([ENGLISH_MONTHS] if language != "en" else [])
    return [
        f"«{text[max(0, found.start() - 40) : found.end() + 40]}»"
        for pattern in checks
        if (found := pattern.search(text))
    ]


def name_of(path: str) -> str | None:
    try:
        return resolve(urlsplit(path).path).url_name
    except Resolver404:
        return None


class _Page(HTMLParser):
    """The visible text of a page (no scripts, no styles) and its same-site links."""

    def __init__(self) -> None:
        super().__init__()
        self.text: list[str] = []
        self.links: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag, attrs):
        if tag in {"script", "style", "template"}:
            self._skip += 1
        href = dict(attrs).get("href") if tag == "a" else None
        if href and href.startswith("/") and not href.startswith("//"):
            self.links.append(href)

    def handle_endtag(self, tag):
        if tag in {"script", "style", "template"} and self._skip:
            self._skip -= 1

    def handle_data(self, data):
        if not self._skip:
            self.text.append(data)


class _Walk:
    """The queue of a walk: every kind of page (URL name) once, in the order links reach them."""

    def __init__(self) -> None:
        self.seen_names: set[str] = set()
        self.queue: list[tuple[str, str]] = [("/", "")]

    def next(self) -> tuple[str, str] | None:
        while self.queue:
            path, linked_from = self.queue.pop(0)
            name = name_of(path)
            if name is None or name in self.seen_names or NOT_PAGES.search(path):
                continue
            self.seen_names.add(name)
            return path, linked_from
        return None

    def add(self, links: list[str], *, on: str) -> None:
        self.queue.extend((link, on) for link in links)


def walk(client: Client) -> dict[str, str]:
    """Every kind of page reachable from the home page by links, once each: {path: visible text}."""
    pages: dict[str, str] = {}
    queue = _Walk()
    while step := queue.next():
        path, _linked_from = step
        response = client.get(path)
        if response.status_code != 200 or "text/html" not in response.get("Content-Type", ""):
            continue
        page = _Page()
        page.feed(response.content.decode())
        pages[path] = " ".join(" ".join(page.text).split())
        queue.add([link for link in page.links if link not in pages], on=path)
    return pages


def american_dates(client: Client, language: str) -> tuple[int, list[str]]:
    """Walk every page a signed-in client reaches in a language: how many, and each date or time written the
    American way (or an English month name outside English pages), with the words around it."""
    pages = walk(client)
    return len(pages), [f"{path}: {found}" for path, text in pages.items() for found in date_problems(text, language)]


@dataclass
class PhoneWalk:
    """What walking one person's pages on a phone found."""

    pages: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


async def _walk_on_a_phone(page, origin: str, language: str) -> PhoneWalk:
    found = PhoneWalk()
    queue = _Walk()
    while step := queue.next():
        path, linked_from = step
        response = await page.goto(f"{origin}{path}", wait_until="load")
        if response is None or response.status != 200:
            status = response.status if response else "nothing"
            found.problems.append(f"{path}: answered {status} (linked from {linked_from or 'nowhere'})")
            continue
        if "text/html" not in response.headers.get("content-type", ""):
            continue
        if urlsplit(page.url).path.startswith("/accounts/login"):
            found.problems.append(f"{path}: sent to the sign-in page")
            continue
        found.pages.append(path)
        width = await page.evaluate("() => document.documentElement.scrollWidth")
        if width > PHONE["width"]:
            wide = ", ".join(await page.evaluate(WIDE, PHONE["width"]))
            found.problems.append(f"{path}: {width} px wide ({wide})")
        for violation in await page.evaluate(AXE_RUN):
            found.problems.append(
                f"{path}: {violation['impact']} {violation['id']} ({violation['help']}) {violation['nodes']}"
            )
        text = " ".join((await page.evaluate("() => document.body.innerText")).split())
        found.problems += [f"{path}: {problem}" for problem in date_problems(text, language)]
        queue.add([link for link in await page.evaluate(LINKS) if link not in found.pages], on=path)
    return found


async def _walk_everyone(origin: str, sessions: dict[str, str], languages: tuple[str, ...], side_by_side: int):
    from playwright.async_api import async_playwright

    walks: dict[tuple[str, str], PhoneWalk] = {}
    async with async_playwright() as playwright:
        # Map tiles (the network here is closed) fail at once, as no such host: a `route` that aborted them would
        # also turn off the browser's HTTP cache, and every page would fetch and compile its CSS and scripts anew.
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=[*CHROMIUM_ARGS, NO_TILES])
        gate = asyncio.Semaphore(side_by_side)

        async def one(username: str, language: str) -> None:
            async with gate:
                # bypass_csp lets axe in; the pages' own policy is tested in tests/test_browser_csp.py.
                context = await browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True, bypass_csp=True)
                await context.add_init_script(path=str(AXE))
                await context.add_cookies(
                    [
                        {"name": settings.SESSION_COOKIE_NAME, "value": sessions[username], "url": origin},
                        {"name": "django_language", "value": language, "url": origin},
                    ]
                )
                walks[username, language] = await _walk_on_a_phone(await context.new_page(), origin, language)
                await context.close()

        await asyncio.gather(*(one(username, language) for username in sessions for language in languages))
        await browser.close()
    return walks


@contextmanager
def live_server() -> Iterator[str]:
    """The app served on a free port of loopback in a thread, static files included, for the length of a block.

    pytest-django's `live_server` fixture would do, but a test that asks for it is moved to the end of the run,
    away from the class whose seeded country it walks."""
    server = LiveServerThread("127.0.0.1", StaticFilesHandler, port=0)
    server.daemon = True
    server.start()
    server.is_ready.wait()
    if server.error:
        raise server.error
    try:
        yield f"http://127.0.0.1:{server.port}"
    finally:
        server.terminate()


def walk_in_phones(
    origin: str, sessions: dict[str, str], *, languages: tuple[str, ...] = ("kk", "ru"), side_by_side: int = 2
) -> dict[tuple[str, str], PhoneWalk]:
    """Walk each signed-in session's pages (`sessions`: username → session key) in each language on a 360 px phone;
    the caller allows Django's ORM beside the event loop (DJANGO_ALLOW_ASYNC_UNSAFE)."""
    return asyncio.run(_walk_everyone(origin, sessions, languages, side_by_side))
