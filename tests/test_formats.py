"""Dates and numbers as Kazakhstan writes them, in every language and on every page.

Django has no formats for Kazakh, so the kk pages used to print "12/03/2026" and "7784.7". The format modules in
`coordination/formats/` give kk, ru and en the country's forms. Every page each demo login can reach from its home
is read in the three languages (tests/support/page_walk.py, run in tests/test_seed_demo.py on the seeded demo country:
kk and ru in Chromium on a phone, en through the test client) and must show no English month name (kk, ru), no AM/PM
and no date with slashes.
"""

import datetime

import pytest
from django.test import Client
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


# Every page of every role: tests/support/page_walk.py, run on the demo country in tests/test_seed_demo.py


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
