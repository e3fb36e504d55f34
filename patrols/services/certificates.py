"""Certificates of service that anyone can check: issued for a period by the volunteer (or the police who keep them),
with what they show frozen at issue, and checked by their code on a public page.

A code is a random part and a truncated HMAC of it under a key derived from SECRET_KEY, written in Crockford's
base32 (no I, L, O or U to misread) and grouped for reading aloud: `K7Q2-M9XP-4TZD-8W`. Codes are not sequential
and cannot be guessed; a code with any character changed fails its signature ("not genuine"), and a well-signed
code that was never issued "does not exist". Lower case, spaces, missing dashes and the letters Crockford reads as
digits (O for 0, I and L for 1) are all read as meant. A rotated SECRET_KEY kept in SECRET_KEY_FALLBACKS still
verifies the codes signed with it.
"""

from __future__ import annotations

import datetime
import hmac
import secrets
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext as _

from ..choices import RewardKind
from ..clock import LOCAL_TZ, local_today
from ..models import Certificate, District, Membership, Outcome, User, Volunteer
from ..scope import may_certify
from ..validators import FIRST_YEAR, text_within
from .ledger import OUTCOMES, Ledger, ledger_for, quarter_bounds
from .nominations import period_label, rewards_of

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
# What Crockford's base32 reads as a digit when someone types a letter that looks like one.
LOOKALIKES = str.maketrans({"O": "0", "I": "1", "L": "1"})
# 10 random characters are 50 bits; the signature's 4 are 20 bits (one forged code in a million passes it, and then
# has to be one of the few actually issued).
RANDOM_LENGTH, SIGNATURE_LENGTH, GROUP = 10, 4, 4
CODE_LENGTH = RANDOM_LENGTH + SIGNATURE_LENGTH
SALT = "patrols.certificates.code"
# Longer input is not a code: it is refused before any work is done on it.
MAX_TYPED = 40

# A certificate is written in Kazakh or Russian; each language is named in itself, as the language switcher does.
LANGUAGE_NAMES = (("kk", "Қазақша"), ("ru", "Русский"))
LANGUAGES = tuple(code for code, _name in LANGUAGE_NAMES)
MAX_MONTHS = 5 * 12
REASON_LIMIT = 300

GENUINE, REVOKED, NOT_GENUINE, NOT_FOUND = "genuine", "revoked", "not_genuine", "not_found"
CHECK_STATUSES = (GENUINE, REVOKED, NOT_GENUINE, NOT_FOUND)


# Codes


def _encode(value: int, length: int) -> str:
    chars = []
    for _position in range(length):
        chars.append(ALPHABET[value & 31])
        value >>= 5
    return "".join(reversed(chars))


def _signature(random_part: str, secret: str | bytes) -> str:
    digest = salted_hmac(SALT, random_part, secret=secret, algorithm="sha256").digest()
    bits = 5 * SIGNATURE_LENGTH
    return _encode(int.from_bytes(digest[:4], "big") >> (32 - bits), SIGNATURE_LENGTH)


def format_code(compact: str) -> str:
    """`K7Q2M9XP4TZD8W` → `K7Q2-M9XP-4TZD-8W`."""
    return "-".join(compact[i : i + GROUP] for i in range(0, len(compact), GROUP))


def new_code() -> str:
    """A fresh random code, signed, grouped for reading."""
    random_part = "".join(secrets.choice(ALPHABET) for _position in range(RANDOM_LENGTH))
    return format_code(random_part + _signature(random_part, settings.SECRET_KEY))


def normalise_code(typed: str) -> str | None:
    """The code as it is stored (grouped, upper case), or None when what was typed cannot be a code at all."""
    text = (typed or "")[: MAX_TYPED + 1]
    if len(text) > MAX_TYPED:
        return None
    compact = "".join(char for char in text.upper() if char not in " -\u2010\u2011\u2012\u2013\u2014\u00a0")
    compact = compact.translate(LOOKALIKES)
    if len(compact) != CODE_LENGTH or any(char not in ALPHABET for char in compact):
        return None
    return format_code(compact)


def signature_valid(code: str) -> bool:
    """Whether a normalised code carries the app's signature (under the current key or one it replaced)."""
    compact = code.replace("-", "")
    random_part, signature = compact[:RANDOM_LENGTH], compact[RANDOM_LENGTH:]
    keys = [settings.SECRET_KEY, *getattr(settings, "SECRET_KEY_FALLBACKS", [])]
    return any(hmac.compare_digest(_signature(random_part, key), signature) for key in keys)


def check_path(code: str) -> str:
    return reverse("certificate-check", kwargs={"code": code})


def check_url(code: str) -> str:
    """The public check page of a code, as the QR code and the printed line give it."""
    return settings.SITE_URL.rstrip("/") + check_path(code)


# Who and what a certificate names


def holder_name(volunteer: Volunteer) -> str:
    """Initials and surname, as the certificate and its check page show the holder: «Е. С. Нұрланов»."""
    initials = [f"{part.strip()[0].upper()}." for part in (volunteer.first_name, volunteer.patronymic) if part.strip()]
    return " ".join([*initials, volunteer.last_name.strip()])


# The name of a district's police unit agrees in grammar with the district's name, which a translation catalogue
# cannot do for every district: the words are put together here, per language, from the name in that language.
KAZAKH_UNIT = {" ауданы": "аудандық", " қаласы": "қалалық"}
RUSSIAN_GENITIVE = (("ский", "ского"), ("цкий", "цкого"), ("ный", "ного"), ("ной", "ного"), ("ий", "его"))


def _russian_unit(name: str) -> str:
    words = name.split()
    if len(words) >= 2 and words[-1] == "район":
        adjective = words[-2]
        for ending, genitive in RUSSIAN_GENITIVE:
            if adjective.endswith(ending):
                words[-2:] = [adjective[: -len(ending)] + genitive, "района"]
                return "Управление полиции " + " ".join(words)
    if words and words[0] == "район":
        return "Управление полиции " + " ".join(["района", *words[1:]])
    return f"Управление полиции ({name})"


def police_unit_name(district: District, language: str) -> str:
    """The district's police unit in the certificate's language: «Талғар аудандық полиция басқармасы», «Управление
    полиции Талгарского района»."""
    if language == "ru":
        return _russian_unit(district.name_ru.strip())
    name = district.name_kk.strip()
    for suffix, adjective in KAZAKH_UNIT.items():
        if name.endswith(suffix):
            return f"{name.removesuffix(suffix)} {adjective} полиция басқармасы"
    return f"{name} аудандық полиция басқармасы"


def _groups(volunteer: Volunteer, start: datetime.date, end: datetime.date) -> list[str]:
    """The groups the volunteer was a member of at some time in the period."""
    memberships = (
        Membership.objects.filter(volunteer=volunteer, joined_on__lte=end)
        .exclude(left_on__lt=start)
        .select_related("group")
        .order_by("group__name")
    )
    return list(dict.fromkeys(membership.group.name for membership in memberships))


def _rewards(volunteer: Volunteer, start: datetime.date, end: datetime.date) -> list[dict]:
    """What the commission granted for the quarters that lie wholly in the period, oldest first."""
    rewards = []
    for item in rewards_of(volunteer):
        nomination = item.nomination
        first, last = quarter_bounds(nomination.year, nomination.quarter)
        if first < start or last > end:
            continue
        kind = item.decided_kind or item.kind
        amount = item.decided_amount_mci if kind == RewardKind.CASH else None
        rewards.append(
            {
                "year": nomination.year,
                "quarter": nomination.quarter,
                "kind": kind,
                "amount_mci": format(amount.normalize(), "f") if amount is not None else "",
                "protocol_number": nomination.protocol_number,
                "protocol_date": nomination.protocol_date.isoformat() if nomination.protocol_date else "",
            }
        )
    return sorted(rewards, key=lambda reward: (reward["year"], reward["quarter"]))


def _figures(ledger: Ledger, groups: list[str], rewards: list[dict]) -> dict:
    return {
        "shifts": ledger.shifts,
        "minutes": ledger.minutes,
        "hours": ledger.hours,
        "reports": {code: ledger.reports.get(code, 0) for code in OUTCOMES},
        "meetings": ledger.meetings,
        "callouts": ledger.callouts,
        "groups": groups,
        "rewards": rewards,
    }


def _last_day(day: datetime.date) -> datetime.date:
    after = datetime.date(day.year + (day.month == 12), day.month % 12 + 1, 1)
    return after - datetime.timedelta(days=1)


def _check_period(start: datetime.date, end: datetime.date, today: datetime.date) -> None:
    """A period of whole months (the ledger counts per month) of service already done, at most five years."""
    if end < start:
        raise ValidationError({"period_end": _("The period ends before it starts.")})
    if end > today:
        raise ValidationError(
            {"period_end": _("A certificate is about service already done: end it today at the latest.")}
        )
    if start.year < FIRST_YEAR:
        raise ValidationError({"period_start": _("Start the period in %(year)d or later.") % {"year": FIRST_YEAR}})
    if start.day != 1:
        raise ValidationError(
            {"period_start": _("Service is counted by the month: start the period on the first day of a month.")}
        )
    if end != _last_day(end) and end != today:
        raise ValidationError(
            {"period_end": _("Service is counted by the month: end the period on the last day of a month, or today.")}
        )
    months = (end.year - start.year) * 12 + end.month - start.month + 1
    if months > MAX_MONTHS:
        raise ValidationError(
            {"period_end": _("A certificate covers at most %(years)d years.") % {"years": MAX_MONTHS // 12}}
        )


def _served(ledger: Ledger) -> bool:
    return bool(ledger.shifts or ledger.minutes or ledger.meetings or ledger.callouts or ledger.verified_reports)


# Writes


@transaction.atomic
def certificate_issue(
    *, volunteer: Volunteer, start: datetime.date, end: datetime.date, by: User, language: str
) -> Certificate:
    """Issue a certificate of `volunteer`'s verified service from `start` to `end` in `language` (kk or ru): the
    volunteer for themselves, or the police who keep them. What it shows is frozen now: later changes to the ledger
    or the person do not change a paper already given. The same request again (a double tap, a resent form) gives
    the certificate it already made rather than a second one."""
    if not may_certify(by, volunteer):
        raise ValidationError(
            _("A certificate is issued by the volunteer themselves or by the police of the volunteer's district.")
        )
    if volunteer.anonymised_at is not None:
        raise ValidationError(_("This volunteer's personal data was removed: no certificate can name them."))
    if language not in LANGUAGES:
        raise ValidationError({"language": _("Choose Kazakh or Russian for the certificate.")})
    _check_period(start, end, local_today())
    # One issue at a time per volunteer, so that a request sent twice finds the first one's certificate.
    Volunteer.objects.select_for_update().filter(pk=volunteer.pk).first()
    ledger = ledger_for(volunteer.pk, start, end)
    if not _served(ledger):
        raise ValidationError(_("There is no verified service in this period to certify."))
    shown = {
        "volunteer": volunteer,
        "period_start": start,
        "period_end": end,
        "holder": holder_name(volunteer),
        "issuer": police_unit_name(volunteer.district, language),
        "figures": _figures(ledger, _groups(volunteer, start, end), _rewards(volunteer, start, end)),
        "language": language,
    }
    same = [
        earlier
        for earlier in Certificate.objects.filter(
            volunteer=volunteer, period_start=start, period_end=end, language=language, revoked_at=None
        )
        if (earlier.holder, earlier.issuer, earlier.figures) == (shown["holder"], shown["issuer"], shown["figures"])
    ]
    if same:
        return same[0]
    code = new_code()
    while Certificate.objects.filter(code=code).exists():
        code = new_code()
    certificate = Certificate(code=code, issued_by=by, **shown)
    certificate.full_clean()
    certificate.save()
    return certificate


@transaction.atomic
def certificate_revoke(*, certificate: Certificate, by: User, reason: str) -> Certificate:
    """Revoke a certificate (the police of the holder's district): its check page says so from now on, with the
    date; the reason is kept for the police and never shown there."""
    if not Certificate.objects.manageable_by(by).filter(pk=certificate.pk).exists():
        raise ValidationError(_("Only the police of the volunteer's district revoke a certificate."))
    reason = text_within(reason, field="reason", limit=REASON_LIMIT)
    if not reason:
        raise ValidationError({"reason": _("Say why the certificate is revoked.")})
    certificate = Certificate.objects.select_for_update().get(pk=certificate.pk)
    if certificate.revoked_at is not None:
        raise ValidationError(
            _("This certificate was already revoked on %(date)s.")
            % {"date": formats.date_format(certificate.revoked_at.astimezone(LOCAL_TZ).date(), "DATE_FORMAT")}
        )
    certificate.revoked_at, certificate.revoked_reason, certificate.revoked_by = timezone.now(), reason, by
    certificate.full_clean()
    certificate.save(update_fields=["revoked_at", "revoked_reason", "revoked_by"])
    return certificate


# The check


@dataclass(frozen=True)
class CheckResult:
    """What a code turned out to be: genuine, revoked, not genuine (forged or mistyped) or not issued."""

    status: str
    code: str = ""
    certificate: Certificate | None = None


def certificate_check(code: str) -> CheckResult:
    """What a typed code is. A code the app stored is genuine (or revoked) whatever key it was signed with; one that
    was not stored is "not genuine" when its signature fails and "not found" when it holds."""
    normalised = normalise_code(code)
    if normalised is None:
        return CheckResult(NOT_GENUINE)
    certificate = Certificate.objects.filter(code=normalised).first()
    if certificate is not None:
        return CheckResult(REVOKED if certificate.revoked_at else GENUINE, normalised, certificate)
    return CheckResult(NOT_FOUND if signature_valid(normalised) else NOT_GENUINE, normalised)


# What a certificate shows, in the active language (the PDF in its own, the check page in the reader's)


def local_date(moment: datetime.datetime | None) -> datetime.date | None:
    return moment.astimezone(LOCAL_TZ).date() if moment else None


def _number(value: float | int) -> str:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return formats.number_format(value, force_grouping=True)


def figure_lines(figures: dict) -> list[tuple[str, str]]:
    """The patrols and meetings of a certificate as (label, value) lines."""
    return [
        (_("Patrol shifts completed"), _number(figures.get("shifts", 0))),
        (_("Hours on patrol"), _number(figures.get("hours", 0))),
        (_("Meetings with residents attended"), _number(figures.get("meetings", 0))),
        (_("Call-outs answered"), _number(figures.get("callouts", 0))),
    ]


def result_lines(figures: dict) -> list[tuple[str, str]]:
    """The verified reports of a certificate by outcome, named as the app names outcomes."""
    names = {outcome.code: outcome.name for outcome in Outcome.objects.filter(code__in=OUTCOMES)}
    reports = figures.get("reports") or {}
    return [(names.get(code, code), _number(reports.get(code, 0))) for code in OUTCOMES]


def reward_lines(figures: dict) -> list[str]:
    """The rewards of a certificate, one sentence each: «Cash reward, 10 MCI: I quarter of 2026 (protocol No. 7 of
    05.04.2026)»."""
    lines = []
    for reward in figures.get("rewards") or []:
        kind = reward.get("kind", "")
        words = {
            "reward": str(RewardKind(kind).label) if kind in RewardKind.values else kind,
            "period": period_label(reward["year"], reward["quarter"]),
            "number": reward.get("protocol_number", ""),
            "date": "",
        }
        if reward.get("protocol_date"):
            words["date"] = formats.date_format(
                datetime.date.fromisoformat(reward["protocol_date"]), "SHORT_DATE_FORMAT"
            )
        if reward.get("amount_mci"):
            words["amount"] = formats.number_format(reward["amount_mci"])
            line = _("%(reward)s, %(amount)s MCI: %(period)s (protocol No. %(number)s of %(date)s)") % words
        else:
            line = _("%(reward)s: %(period)s (protocol No. %(number)s of %(date)s)") % words
        lines.append(line)
    return lines


def public_data(certificate: Certificate) -> dict:
    """Everything the check page and the API may say about a certificate: what the paper itself shows (not the
    groups' people, the IIN, the phone or the full name), and for a revoked one the date, never the reason. Its
    figures are left out once revoked: nobody vouches for them any more."""
    revoked = certificate.revoked_at is not None
    figures = certificate.figures or {}
    return {
        "code": certificate.code,
        "holder": certificate.holder,
        "period_start": certificate.period_start,
        "period_end": certificate.period_end,
        "issuer": certificate.issuer,
        "issued_on": local_date(certificate.issued_at),
        "revoked_on": local_date(certificate.revoked_at),
        "figures": None
        if revoked
        else {
            "shifts": figures.get("shifts", 0),
            "hours": figures.get("hours", 0),
            "reports": {code: (figures.get("reports") or {}).get(code, 0) for code in OUTCOMES},
            "meetings": figures.get("meetings", 0),
            "callouts": figures.get("callouts", 0),
            "rewards": [
                {key: reward.get(key, "") for key in ("year", "quarter", "kind", "amount_mci", "protocol_number")}
                | {"protocol_date": reward.get("protocol_date") or None}
                for reward in figures.get("rewards") or []
            ],
        },
    }


def filename(certificate: Certificate) -> str:
    """Like `certificate-K7Q2-M9XP-4TZD-8W.pdf`."""
    return f"certificate-{certificate.code}.pdf"
