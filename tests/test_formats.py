"""Dates and numbers as Kazakhstan writes them, in every language and on every page.

Django has no formats for Kazakh, so the kk pages used to print "12/03/2026" and "7784.7". The format modules in
`coordination/formats/` give kk, ru and en the country's forms. Every page each demo login can reach from its home
is read in the three languages (by `american_dates`, in tests/test_seed_demo.py, on the seeded demo country) and
must show no English month name (kk, ru), no AM/PM and no date with slashes.
"""

import datetime
import re
from html.parser import HTMLParser
from urllib.parse import urlsplit

import pytest
from django.test import Client
from django.urls import Resolver404, resolve
from django.utils import formats, translation

MOMENT = datetime.datetime(2026, 12, 4, 19, 30)


@pytest.mark.parametrize(
    ("language", "long", "short", "number"),
    [
        ("kk", "2026 жылғы 4 желтоқсан, 19:30", "04.12.2026 19:30", "7\xa0784,7"),
        ("ru", "4 декабря 2026, 19:30", "04.12.2026 19:30", "7\xa0784,7"),
        ("en", "4 December 2026, 19:30", "04.12.2026 19:30", "7,784.7"),
    ],
)
def test_each_language_writes_dates_and_numbers_the_countrys_way(language, long, short, number):
    with translation.override(language):
        assert formats.date_format(MOMENT, "DATETIME_FORMAT") == long
        assert formats.date_format(MOMENT, "SHORT_DATETIME_FORMAT") == short
        assert formats.number_format(7784.7, decimal_pos=1, force_grouping=True) == number
        assert formats.get_format("FIRST_DAY_OF_WEEK") == 1


def test_kazakh_names_are_spelled_and_cased_as_in_a_sentence():
    with translation.override("kk"):
        assert formats.date_format(MOMENT, "l") == "Жұма"
        assert formats.date_format(MOMENT, "YEAR_MONTH_FORMAT") == "2026 жылғы желтоқсан"
        assert formats.date_format(datetime.date(2026, 4, 11), "MONTH_DAY_FORMAT") == "11 сәуір"


# Every page of every role


ENGLISH_MONTHS = re.compile(
    r"\b(January|February|March|April|May|June|July|August|September|October|November|December)\b"
)
AM_PM = re.compile(r"\b\d{1,2}(:\d\d)?\s?(AM|PM|a\.m\.|p\.m\.)(?=\W|$)", re.IGNORECASE)
SLASHED_DATE = re.compile(r"\b\d{1,2}/\d{1,2}/\d{2,4}\b")
# Links that are not pages: files, feeds, sign-out, the language switch, one-time reply links, the admin site.
NOT_PAGES = re.compile(
    r"(logout|/static/|/media/|/api/|/admin/|/export/|\.pdf|\.ics|\.csv|\.xlsx|sw\.js|/reply/|/i18n/)"
)


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


def _name_of(path: str) -> str | None:
    try:
        return resolve(urlsplit(path).path).url_name
    except Resolver404:
        return None


def walk(client: Client) -> dict[str, str]:
    """Every kind of page reachable from the home page by links, once each: {path: visible text}."""
    seen_names: set[str] = set()
    pages: dict[str, str] = {}
    queue = ["/"]
    while queue:
        path = queue.pop(0)
        name = _name_of(path)
        if name is None or name in seen_names or NOT_PAGES.search(path):
            continue
        seen_names.add(name)
        response = client.get(path)
        if response.status_code != 200 or "text/html" not in response.get("Content-Type", ""):
            continue
        page = _Page()
        page.feed(response.content.decode())
        pages[path] = " ".join(" ".join(page.text).split())
        queue.extend(link for link in page.links if link not in pages)
    return pages


def american_dates(client: Client, language: str) -> tuple[int, list[str]]:
    """Walk every page a signed-in client reaches in a language: how many, and each date or time written the
    American way (or an English month name outside English pages), with the words around it."""
    problems = []
    pages = walk(client)
    checks = [AM_PM, SLASHED_DATE] + ([ENGLISH_MONTHS] if language != "en" else [])
    for path, text in pages.items():
        for pattern in checks:
            found = pattern.search(text)
            if found:
                problems.append(f"{path}: «{text[max(0, found.start() - 40) : found.end() + 40]}»")
    return len(pages), problems


# Words seen on the way


def test_a_wrong_password_is_told_wholly_in_kazakh(db, volunteer):
    client = Client(HTTP_ACCEPT_LANGUAGE="kk")
    client.cookies["django_language"] = "kk"
    page = client.post("/accounts/login/", {"username": volunteer.username, "password": "wrong"}).content.decode()
    assert "Пайдаланушы аты немесе құпиясөз қате" in page
    assert "Please enter" not in page


def test_a_volunteer_sees_the_size_of_their_group_not_only_their_own_row(db, web, volunteer, leader, group):
    page = web(volunteer).get(f"/groups/{group.pk}/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "(2)" in page and "The group has 2 members" in page


def test_a_reports_place_reads_as_coordinates_in_every_language(db, web, inspector, volunteer):
    from tests.support.reports import file_report

    report = file_report(volunteer)
    for language in ("ru", "kk"):
        page = web(inspector).get(f"/reports/{report.pk}/", HTTP_ACCEPT_LANGUAGE=language).content.decode()
        assert f"{report.location.y:.5f}, {report.location.x:.5f}" in page
