"""Phone numbers as people read them, +7 701 234 56 78 without a line break inside; `tel:` links and the API keep
the stored E.164 form, and no log line carries a whole number (issue 15)."""

import logging

import pytest
from django.template import Context, Template

from patrols.services.channels import ConsoleSmsBackend
from patrols.validators import format_phone
from tests.factories import MembershipFactory, VolunteerFactory

NBSP = "\u00a0"
SPACED = NBSP.join(["+7", "701", "555", "01", "01"])


@pytest.mark.parametrize(
    "stored, shown",
    [
        ("+77015550101", SPACED),
        ("+74951234567", "+74951234567"),
        ("+1 202 555 0101", "+1 202 555 0101"),
        ("7015550101", "7015550101"),
        ("", ""),
    ],
)
def test_a_kazakh_mobile_is_spaced_and_anything_else_is_shown_as_stored(stored, shown):
    assert format_phone(stored) == shown
    rendered = Template("{% load patrols %}{{ value|phone }}").render(Context({"value": stored}))
    assert rendered == shown


@pytest.mark.django_db
def test_the_inspector_sees_the_spaced_number_with_a_tel_link_and_the_api_keeps_its_plain_spaces(
    web, api, inspector, group
):
    person = VolunteerFactory(district=group.district, phone="+77015550101")
    MembershipFactory(volunteer=person, group=group)
    html = web(inspector).get(f"/volunteers/{person.pk}/").content.decode()
    assert f'<a href="tel:+77015550101">{SPACED}</a>' in html
    listed = web(inspector).get("/volunteers/").content.decode()
    assert SPACED in listed and "+7 701 555 01 01" not in listed
    group_page = web(inspector).get(f"/groups/{group.pk}/").content.decode()
    assert f'<a href="tel:+77015550101">{SPACED}</a>' in group_page
    # The API gives what its clients have always read: plain spaces, no no-break ones.
    assert api(inspector).get(f"/api/v1/volunteers/{person.pk}/").json()["phone"] == "+7 701 555 01 01"


def test_the_console_sms_backend_logs_no_whole_phone_number(caplog):
    caplog.set_level(logging.INFO)
    ConsoleSmsBackend().send(phone="+77015550101", text="Патруль 20:00")
    assert "Патруль 20:00" in caplog.text
    assert "+77015550101" not in caplog.text and "5550101" not in caplog.text
    assert "01" in caplog.text
