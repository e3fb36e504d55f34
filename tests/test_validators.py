"""IIN, phone and age rules, with the examples from the ministry's data notes."""

import datetime

import pytest
from django.core.exceptions import ValidationError

from patrols.validators import build_iin, format_phone, normalise_phone, validate_iin


@pytest.mark.parametrize("iin", ["061211600012", "791028302728"])
def test_it_accepts_valid_iins(iin):
    validate_iin(iin)


@pytest.mark.parametrize(
    "iin, code",
    [
        ("061211600013", "iin_checksum"),
        ("791028302720", "iin_checksum"),
        ("79102830272", "iin_format"),
        ("7910283027280", "iin_format"),
        ("79102830272a", "iin_format"),
        ("791328302728", "iin_date"),
        ("791028902728", "iin_date"),
    ],
)
def test_it_refuses_invalid_iins(iin, code):
    with pytest.raises(ValidationError) as caught:
        validate_iin(iin)
    assert caught.value.code == code


def test_built_iins_validate():
    for serial in range(0, 300, 7):
        validate_iin(build_iin(datetime.date(1988, 2, 29), female=serial % 2 == 0, serial=serial))


@pytest.mark.parametrize(
    "raw",
    ["+7 701 234 56 78", "87012345678", "8 (701) 234-56-78", "+77012345678", "7012345678", "77012345678"],
)
def test_it_normalises_kazakh_mobile_numbers(raw):
    assert normalise_phone(raw) == "+77012345678"
    assert format_phone(normalise_phone(raw)) == "+7\u00a0701\u00a0234\u00a056\u00a078"


@pytest.mark.parametrize("raw", ["+7 495 123 45 67", "12345", "+1 701 234 56 78", "", "+7 701 234 56 7"])
def test_it_refuses_other_numbers(raw):
    with pytest.raises(ValidationError):
        normalise_phone(raw)
