"""Checks on Kazakh personal identifiers: IIN, mobile phone, adult age."""

import datetime
import re

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

MINIMUM_AGE = 18
# The years any date of the data can fall in: figures, filters and plans outside them are refused.
FIRST_YEAR, LAST_YEAR = 2000, 2100

_IIN_WEIGHTS = (tuple(range(1, 12)), (3, 4, 5, 6, 7, 8, 9, 10, 11, 1, 2))
_CENTURY = {1: 1800, 2: 1800, 3: 1900, 4: 1900, 5: 2000, 6: 2000}


def iin_check_digit(first_eleven: str) -> int | None:
    """The IIN check digit for eleven digits, or None when no digit is valid (both passes give 10)."""
    digits = [int(c) for c in first_eleven]
    for weights in _IIN_WEIGHTS:
        remainder = sum(d * w for d, w in zip(digits, weights, strict=True)) % 11
        if remainder != 10:
            return remainder
    return None


def iin_birth_date(iin: str) -> datetime.date | None:
    """The date of birth written in an IIN (YYMMDD and the century digit), or None when it is not a date."""
    century = _CENTURY.get(int(iin[6]))
    if century is None:
        return None
    try:
        return datetime.date(century + int(iin[0:2]), int(iin[2:4]), int(iin[4:6]))
    except ValueError:
        return None


def validate_iin(value: str) -> None:
    """An IIN has 12 digits, a real date of birth with its century digit, and a valid check digit."""
    if not re.fullmatch(r"\d{12}", value or ""):
        raise ValidationError(_("An IIN has exactly 12 digits."), code="iin_format")
    if iin_birth_date(value) is None:
        raise ValidationError(_("This IIN does not start with a valid date of birth."), code="iin_date")
    if iin_check_digit(value[:11]) != int(value[11]):
        raise ValidationError(_("This IIN's check digit is wrong: please check the number."), code="iin_checksum")


_PHONE_RE = re.compile(r"^(?:\+7|8|7)?(7\d{9})$")


def normalise_phone(value: str) -> str:
    """A Kazakh mobile number as +77XXXXXXXXX; a leading domestic 8 means +7. Raises ValidationError."""
    compact = re.sub(r"[\s\-()]", "", value or "")
    match = _PHONE_RE.fullmatch(compact)
    if not match:
        raise ValidationError(_("Enter a Kazakh mobile number, for example +7 701 234 56 78."), code="phone_format")
    return "+7" + match.group(1)


def validate_phone(value: str) -> None:
    normalise_phone(value)


NBSP = "\u00a0"


def format_phone(value: str, *, space: str = NBSP) -> str:
    """+77012345678 as +7 701 234 56 78, with no-break spaces on pages so it never wraps (the API passes a plain
    space); any other value as stored."""
    if not re.fullmatch(r"\+77\d{9}", value or ""):
        return value
    d = value[2:]
    return space.join(["+7", d[0:3], d[3:6], d[6:8], d[8:10]])


def age_on(birth_date: datetime.date, day: datetime.date) -> int:
    return day.year - birth_date.year - ((day.month, day.day) < (birth_date.month, birth_date.day))


def validate_adult(birth_date: datetime.date) -> None:
    """A volunteer is at least 18 years old today."""
    today = timezone.localdate()
    if birth_date > today:
        raise ValidationError(_("The date of birth is in the future."), code="birth_date_future")
    if age_on(birth_date, today) < MINIMUM_AGE:
        raise ValidationError(
            _("A volunteer must be at least %(age)d years old.") % {"age": MINIMUM_AGE}, code="under_age"
        )


def mask_iin(value: str) -> str:
    return value[:2] + "•" * 8 + value[-2:] if value else ""


def mask_phone(value: str) -> str:
    return value[:4] + " ••• •• " + value[-2:] if value else ""


def build_iin(birth_date: datetime.date, *, female: bool, serial: int) -> str:
    """A valid IIN for a date of birth and sex, trying serials upward from `serial` until a check digit exists."""
    century_digit = {1800: 1, 1900: 3, 2000: 5}[birth_date.year // 100 * 100] + (1 if female else 0)
    prefix = birth_date.strftime("%y%m%d") + str(century_digit)
    for attempt in range(serial, serial + 10_000):
        first_eleven = prefix + f"{attempt % 10_000:04d}"
        check = iin_check_digit(first_eleven)
        if check is not None:
            return first_eleven + str(check)
    raise ValueError("no valid IIN for this date")


KATO_LENGTH = 9


def validate_kato(value: str) -> None:
    """A KATO code (the classifier of administrative-territorial objects) is nine digits."""
    if not (isinstance(value, str) and len(value) == KATO_LENGTH and value.isascii() and value.isdigit()):
        raise ValidationError(_("A KATO code is 9 digits, for example 196800000."), code="kato")


def kato_of_region(iso_code: str) -> str | None:
    """The KATO code of a region from its ISO 3166-2:KZ code: both begin with the same two digits (KZ-19: 19…)."""
    digits = iso_code.removeprefix("KZ-")
    return f"{digits}0000000" if len(digits) == 2 and digits.isdigit() else None


# Free text a person types: a line, a paragraph, an account of what happened. Longer input is refused, not cut.
SHORT_TEXT = 500
NOTE_TEXT = 2000
LONG_TEXT = 5000


def text_within(value: str | None, *, field: str, limit: int) -> str:
    """The text stripped, or a clear error on `field` when it is longer than `limit` characters."""
    text = (value or "").strip()
    if len(text) > limit:
        raise ValidationError(
            {field: _("Keep this within %(limit)d characters (now %(count)d).") % {"limit": limit, "count": len(text)}}
        )
    return text
