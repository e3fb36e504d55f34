"""The district's quarterly nomination of volunteers for rewards to the akimat's commission, and its decision.

Each quarter the district's inspector opens the nomination: the app proposes the district's registered volunteers
who meet the district's rules (RecognitionRules) by their ledger for the quarter, with the facts beside each name;
the inspector adds and removes people, proposes the kind of reward (with the amount in MCI for cash) and a line of
merit, and submits. A submitted nomination is frozen, its facts with it: a change makes a new version, and the old
one stays as it was, superseded. The commission's decision is recorded per person with its protocol; cash is limited
to 15 MCI a person and to the district's budget for the quarter (RewardBudget), at the year's MCI value (McIValue).
Each volunteer is told of the decision about them.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Exists, OuterRef, Q, QuerySet, Sum
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from ..choices import NominationStatus, NotificationKind, RewardDecision, RewardKind, VolunteerStatus
from ..clock import local_today
from ..models import (
    District,
    McIValue,
    Membership,
    Nomination,
    NominationItem,
    RecognitionRules,
    RewardBudget,
    User,
    Volunteer,
)
from ..scope import manageable_districts
from ..validators import SHORT_TEXT, text_within
from .ledger import Ledger, ledgers_for, quarter_bounds
from .notifications import notify

# The law on public order caps a cash reward to one person at 15 monthly calculation indices.
MAX_CASH_MCI = Decimal("15")
CENT = Decimal("0.01")
PROTOCOL_NUMBER_LIMIT = 40
QUARTER_PATTERN = re.compile(r"^(\d{4})-Q([1-4])$")
ROMAN = {1: "I", 2: "II", 3: "III", 4: "IV"}
GRANTED = (RewardDecision.GRANTED, RewardDecision.CHANGED)
# The first year the app keeps nominations for (its ledger starts later still).
FIRST_YEAR = 2020


# Quarters


def current_quarter(today: datetime.date | None = None) -> tuple[int, int]:
    """The year and quarter of a day (today in Almaty by default)."""
    today = today or local_today()
    return today.year, (today.month - 1) // 3 + 1


def parse_quarter(text: str, *, field: str = "quarter") -> tuple[int, int]:
    """`2026-Q4` → (2026, 4); a clear error on `field` for anything else."""
    found = QUARTER_PATTERN.match((text or "").strip().upper())
    if found is None:
        raise ValidationError({field: _("Give the quarter as YYYY-Qn, for example 2026-Q4.")})
    return int(found.group(1)), int(found.group(2))


def quarter_code(year: int, quarter: int) -> str:
    return f"{year}-Q{quarter}"


def period_label(year: int, quarter: int) -> str:
    """The quarter as people write it: "IV quarter of 2026" in the active language."""
    return _("%(quarter)s quarter of %(year)s") % {"quarter": ROMAN[quarter], "year": year}


def _check_quarter(year: int, quarter: int) -> None:
    """A quarter that exists and has begun (a nomination is about work done)."""
    if not 1 <= quarter <= 4:
        raise ValidationError({"quarter": _("A year has quarters 1 to 4.")})
    if year < FIRST_YEAR or (year, quarter) > current_quarter():
        raise ValidationError(
            {"quarter": _("Nominate for a quarter that has begun, from %(year)d on.") % {"year": FIRST_YEAR}}
        )


# The district's rules


def rules_for(district: District) -> RecognitionRules:
    """The district's rules, or the defaults (24 hours, one prevented offense, at most one no-show; not saved)."""
    return RecognitionRules.objects.filter(district=district).first() or RecognitionRules(district=district)


def _manageable(district_id: int, by: User, message: str) -> None:
    if not manageable_districts(by).filter(pk=district_id).exists():
        raise ValidationError(message)


@transaction.atomic
def recognition_rules_set(
    *, district: District, by: User, min_hours: int, min_prevented: int, max_no_shows: int
) -> RecognitionRules:
    """The district's inspector sets what a volunteer must do in a quarter to be proposed for a reward."""
    _manageable(district.pk, by, _("Only the district's inspector sets its rules for rewards."))
    values = {"min_hours": min_hours, "min_prevented": min_prevented, "max_no_shows": max_no_shows}
    for name, value in values.items():
        if value is None or not 0 <= int(value) <= 10_000:
            raise ValidationError({name: _("Give a whole number from 0 to 10,000.")})
    rules = RecognitionRules.objects.select_for_update().filter(district=district).first()
    rules = rules or RecognitionRules(district=district)
    for name, value in values.items():
        setattr(rules, name, int(value))
    rules.updated_by = by
    rules.full_clean()
    rules.save()
    return rules


def meets_rules(ledger: Ledger, rules: RecognitionRules) -> bool:
    return (
        ledger.minutes >= rules.min_hours * 60
        and ledger.prevented >= rules.min_prevented
        and ledger.no_shows <= rules.max_no_shows
    )


# Who may be nominated, and the facts beside each name


def district_volunteers(district: District) -> QuerySet[Volunteer]:
    """The district's registered volunteers: those it registered, and the members (today) of its groups."""
    member_here = Membership.objects.filter(volunteer=OuterRef("pk"), left_on=None, group__district=district)
    return Volunteer.objects.filter(status=VolunteerStatus.REGISTERED).filter(
        Q(district=district) | Exists(member_here)
    )


def _groups(volunteer_ids: list[int], district_id: int) -> dict[int, str]:
    """The names of each volunteer's groups in the district today, in one query."""
    names: dict[int, list[str]] = {}
    rows = (
        Membership.objects.filter(volunteer_id__in=volunteer_ids, left_on=None, group__district_id=district_id)
        .order_by("group__name")
        .values_list("volunteer_id", "group__name")
    )
    for volunteer_id, name in rows:
        names.setdefault(volunteer_id, []).append(name)
    return {pk: ", ".join(found) for pk, found in names.items()}


def _facts(volunteer_ids: list[int], nomination: Nomination) -> dict[int, dict]:
    """Each volunteer's ledger of the nomination's quarter (`Ledger.as_dict`) with their groups: two queries."""
    start, end = quarter_bounds(nomination.year, nomination.quarter)
    ledgers = ledgers_for(volunteer_ids, start, end)
    groups = _groups(volunteer_ids, nomination.district_id)
    return {pk: {**ledgers[pk].as_dict(), "group": groups.get(pk, "")} for pk in volunteer_ids}


def proposal(district: District, year: int, quarter: int) -> list[tuple[int, dict]]:
    """(volunteer id, facts) of the district's registered volunteers who meet its rules in the quarter, in three
    queries whatever their number."""
    rules = rules_for(district)
    ids = list(district_volunteers(district).order_by("last_name", "first_name", "pk").values_list("pk", flat=True))
    start, end = quarter_bounds(year, quarter)
    ledgers = ledgers_for(ids, start, end)
    chosen = [pk for pk in ids if meets_rules(ledgers[pk], rules)]
    groups = _groups(chosen, district.pk)
    return [(pk, {**ledgers[pk].as_dict(), "group": groups.get(pk, "")}) for pk in chosen]


# The nomination


def current_nomination(district: District, year: int, quarter: int) -> Nomination | None:
    """The quarter's current version (not superseded), if the district has opened one."""
    return (
        Nomination.objects.filter(district=district, year=year, quarter=quarter)
        .exclude(status=NominationStatus.SUPERSEDED)
        .order_by("-version")
        .first()
    )


def _lock_district(district_id: int) -> None:
    """Opening a nomination and granting cash from a quarter's budget wait for each other, district by district."""
    list(District.objects.select_for_update().filter(pk=district_id).order_by().values_list("pk", flat=True))


def _refresh_facts(nomination: Nomination) -> None:
    """Bring a draft's facts up to date; only the items whose facts changed are written."""
    items = list(NominationItem.objects.filter(nomination=nomination).order_by().only("pk", "volunteer_id", "facts"))
    facts = _facts([item.volunteer_id for item in items], nomination)
    changed = [item for item in items if item.facts != facts[item.volunteer_id]]
    for item in changed:
        item.facts = facts[item.volunteer_id]
    NominationItem.objects.bulk_update(changed, ["facts"], batch_size=500)


@transaction.atomic
def nomination_open(*, district: District, year: int, quarter: int, by: User) -> Nomination:
    """The district's nomination for the quarter: the current version when there is one (a draft's facts brought up
    to date), else a new draft proposing everyone who meets the district's rules, each for a letter of thanks."""
    _manageable(district.pk, by, _("Only the district's inspector opens its nominations for rewards."))
    _check_quarter(year, quarter)
    _lock_district(district.pk)
    nomination = current_nomination(district, year, quarter)
    if nomination is not None:
        if nomination.status == NominationStatus.DRAFT:
            _refresh_facts(nomination)
        return nomination
    nomination = Nomination(district=district, year=year, quarter=quarter, version=1, created_by=by)
    nomination.full_clean()
    nomination.save()
    NominationItem.objects.bulk_create(
        [
            NominationItem(
                nomination=nomination, volunteer_id=pk, kind=RewardKind.THANKS, proposed_by_rules=True, facts=facts
            )
            for pk, facts in proposal(district, year, quarter)
        ],
        batch_size=1000,
    )
    return nomination


def _locked(nomination: Nomination) -> Nomination:
    return Nomination.objects.select_for_update(of=("self",)).select_related("district").get(pk=nomination.pk)


def _draft(nomination: Nomination, by: User) -> Nomination:
    """The nomination, locked, when it is a draft `by` may change; else a clear refusal."""
    nomination = _locked(nomination)
    _manageable(nomination.district_id, by, _("Only the district's inspector changes its nominations."))
    if nomination.status != NominationStatus.DRAFT:
        raise ValidationError(
            _("This nomination was submitted and cannot be changed: make a new version of it to change it.")
        )
    return nomination


def _amount(value) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        raise ValidationError({"amount_mci": _("Give the amount in MCI as a number, for example 10.")}) from None
    if not amount.is_finite():
        raise ValidationError({"amount_mci": _("Give the amount in MCI as a number, for example 10.")})
    return amount


def clean_reward(kind: str, amount_mci, *, kind_field: str = "kind", amount_field: str = "amount_mci"):
    """(kind, amount) when they make a reward: a cash reward needs an amount over 0 and at most 15 MCI, in
    hundredths; the other kinds take none."""
    if kind not in RewardKind.values:
        raise ValidationError({kind_field: _("Choose the kind of reward.")})
    try:
        amount = _amount(amount_mci)
    except ValidationError:
        raise ValidationError({amount_field: _("Give the amount in MCI as a number, for example 10.")}) from None
    if kind != RewardKind.CASH:
        if amount is not None:
            raise ValidationError({amount_field: _("An amount in MCI is given only for a cash reward.")})
        return kind, None
    if amount is None:
        raise ValidationError(
            {amount_field: _("Give the amount of the cash reward in MCI (at most %(most)s).") % {"most": MAX_CASH_MCI}}
        )
    if amount <= 0 or amount > MAX_CASH_MCI:
        raise ValidationError(
            {
                amount_field: _(
                    "A cash reward is more than 0 and at most %(most)s MCI a person (asked: %(amount)s MCI)."
                )
                % {"most": MAX_CASH_MCI, "amount": formats.number_format(amount)}
            }
        )
    if amount != amount.quantize(CENT):
        raise ValidationError({amount_field: _("Give the amount in MCI to hundredths at most, for example 7.5.")})
    return kind, amount.quantize(CENT)


@transaction.atomic
def nomination_item_add(
    *,
    nomination: Nomination,
    volunteer: Volunteer,
    by: User,
    kind: str = RewardKind.THANKS,
    amount_mci=None,
    merit: str = "",
) -> NominationItem:
    """Put one of the district's registered volunteers on a draft, with the facts of their quarter."""
    nomination = _draft(nomination, by)
    if not district_volunteers(nomination.district).filter(pk=volunteer.pk).exists():
        raise ValidationError({"volunteer": _("Only the district's registered volunteers can be nominated.")})
    if nomination.items.filter(volunteer=volunteer).exists():
        raise ValidationError(
            {"volunteer": _("%(name)s is already on this nomination.") % {"name": volunteer.full_name}}
        )
    kind, amount = clean_reward(kind, amount_mci)
    item = NominationItem(
        nomination=nomination,
        volunteer=volunteer,
        kind=kind,
        amount_mci=amount,
        merit=text_within(merit, field="merit", limit=SHORT_TEXT),
        facts=_facts([volunteer.pk], nomination)[volunteer.pk],
    )
    item.full_clean()
    item.save()
    return item


@transaction.atomic
def nomination_item_set(
    *, item: NominationItem, by: User, kind: str, amount_mci=None, merit: str = ""
) -> NominationItem:
    """The proposed reward of one person on a draft: its kind, the amount in MCI for cash, the line of merit."""
    _draft(item.nomination, by)
    item = NominationItem.objects.select_for_update().get(pk=item.pk)
    item.kind, item.amount_mci = clean_reward(kind, amount_mci)
    item.merit = text_within(merit, field="merit", limit=SHORT_TEXT)
    item.full_clean()
    item.save(update_fields=["kind", "amount_mci", "merit"])
    return item


@transaction.atomic
def nomination_item_remove(*, item: NominationItem, by: User) -> None:
    """Take a person off a draft."""
    _draft(item.nomination, by)
    NominationItem.objects.filter(pk=item.pk).delete()


@transaction.atomic
def nomination_submit(*, nomination: Nomination, by: User) -> Nomination:
    """Send the draft to the commission: its facts are taken as they are now and frozen with it."""
    nomination = _draft(nomination, by)
    if not nomination.items.exists():
        raise ValidationError(_("Put at least one volunteer on the nomination before submitting it."))
    missing = nomination.items.filter(kind=RewardKind.CASH, amount_mci__isnull=True).select_related("volunteer")
    if missing:
        names = ", ".join(item.volunteer.full_name for item in missing)
        raise ValidationError(_("Give the amount of the cash reward in MCI for: %(names)s.") % {"names": names})
    _refresh_facts(nomination)
    nomination.status = NominationStatus.SUBMITTED
    nomination.submitted_by, nomination.submitted_at = by, timezone.now()
    nomination.full_clean()
    nomination.save(update_fields=["status", "submitted_by", "submitted_at"])
    return nomination


@transaction.atomic
def nomination_revise(*, nomination: Nomination, by: User) -> Nomination:
    """A new version of a submitted nomination, a draft with the same people and proposals; the submitted one stays
    as it was, superseded."""
    nomination = _locked(nomination)
    _manageable(nomination.district_id, by, _("Only the district's inspector changes its nominations."))
    if nomination.status == NominationStatus.DRAFT:
        raise ValidationError(_("This nomination is still a draft: change it as it is."))
    if nomination.status == NominationStatus.DECIDED:
        raise ValidationError(_("The commission has decided on this nomination: it can no longer be revised."))
    if nomination.status == NominationStatus.SUPERSEDED:
        raise ValidationError(_("A newer version of this nomination exists: revise that one."))
    nomination.status = NominationStatus.SUPERSEDED
    nomination.save(update_fields=["status"])
    revision = Nomination(
        district=nomination.district,
        year=nomination.year,
        quarter=nomination.quarter,
        version=nomination.version + 1,
        supersedes=nomination,
        created_by=by,
    )
    revision.full_clean()
    revision.save()
    NominationItem.objects.bulk_create(
        [
            NominationItem(
                nomination=revision,
                volunteer_id=item.volunteer_id,
                kind=item.kind,
                amount_mci=item.amount_mci,
                merit=item.merit,
                proposed_by_rules=item.proposed_by_rules,
                facts=item.facts,
            )
            for item in nomination.items.all()
        ],
        batch_size=1000,
    )
    return revision


# The budget


@dataclass
class Budget:
    """The district's money for cash rewards in a quarter, in tenge: given, granted by decided nominations, left;
    `proposed` is the cash a nomination asks for (at the year's MCI value, when it is set)."""

    year: int
    quarter: int
    mci: Decimal | None
    tenge: Decimal | None
    granted: Decimal
    proposed: Decimal | None = None

    @property
    def left(self) -> Decimal | None:
        return None if self.tenge is None else self.tenge - self.granted

    @property
    def overrun(self) -> bool:
        """Whether the proposed cash is more than what is left."""
        return self.proposed is not None and self.proposed > (self.left or Decimal(0))


def mci_value(year: int) -> Decimal | None:
    return McIValue.objects.filter(year=year).values_list("tenge", flat=True).first()


def _granted(district_id: int, year: int, quarter: int, *, excluding: int | None = None) -> Decimal:
    decided = NominationItem.objects.filter(
        nomination__district_id=district_id,
        nomination__year=year,
        nomination__quarter=quarter,
        nomination__status=NominationStatus.DECIDED,
        decision__in=GRANTED,
        decided_kind=RewardKind.CASH,
    )
    if excluding is not None:
        decided = decided.exclude(nomination_id=excluding)
    return decided.aggregate(total=Sum("decided_tenge"))["total"] or Decimal(0)


def budget_for(district: District, year: int, quarter: int) -> Budget:
    """The quarter's budget for cash rewards, what decided nominations granted of it, and what is left."""
    budget = RewardBudget.objects.filter(district=district, year=year, quarter=quarter).first()
    return Budget(
        year=year,
        quarter=quarter,
        mci=mci_value(year),
        tenge=budget.tenge if budget else None,
        granted=_granted(district.pk, year, quarter),
    )


def nomination_budget(nomination: Nomination, items: Iterable[NominationItem] | None = None) -> Budget:
    """The quarter's budget beside the nomination: what it proposes in cash (or, decided, what it was granted)."""
    budget = budget_for(nomination.district, nomination.year, nomination.quarter)
    items = list(nomination.items.all() if items is None else items)
    if nomination.status == NominationStatus.DECIDED:
        budget.proposed = sum((item.decided_tenge or Decimal(0) for item in items), Decimal(0))
    elif budget.mci is not None:
        cash = sum((item.amount_mci or Decimal(0) for item in items if item.kind == RewardKind.CASH), Decimal(0))
        budget.proposed = tenge(cash, budget.mci)
    return budget


def tenge(amount_mci: Decimal, mci: Decimal) -> Decimal:
    return (amount_mci * mci).quantize(CENT, rounding=ROUND_HALF_UP)


def money(value: Decimal | None) -> str:
    """Tenge as people read them: grouped thousands, no trailing zeros for whole amounts."""
    if value is None:
        return "—"
    whole = value == value.to_integral_value()
    return formats.number_format(value, decimal_pos=0 if whole else 2, force_grouping=True)


# The commission's decision


@dataclass
class Decision:
    """The commission's word on one person of the nomination: granted as proposed, changed (to `kind` and, for
    cash, `amount_mci`), or refused."""

    item_id: int
    decision: str
    kind: str = ""
    amount_mci: Decimal | str | None = None
    note: str = ""


def _protocol(number: str, date: datetime.date | None, nomination: Nomination) -> tuple[str, datetime.date]:
    number = text_within(number, field="protocol_number", limit=PROTOCOL_NUMBER_LIMIT)
    if not number:
        raise ValidationError({"protocol_number": _("Give the number of the commission's protocol.")})
    if date is None:
        raise ValidationError({"protocol_date": _("Give the date of the commission's protocol.")})
    if date > local_today():
        raise ValidationError({"protocol_date": _("The protocol's date cannot be in the future.")})
    submitted = timezone.localdate(nomination.submitted_at) if nomination.submitted_at else None
    if submitted is not None and date < submitted:
        raise ValidationError(
            {
                "protocol_date": _("The protocol cannot be dated before the nomination was submitted (%(date)s).")
                % {"date": formats.date_format(submitted, "d.m.Y")}
            }
        )
    return number, date


def _apply(item: NominationItem, decision: Decision) -> None:
    field = "decisions"
    if decision.decision not in RewardDecision.values:
        raise ValidationError(
            {field: _("%(name)s: choose granted, changed or refused.") % {"name": item.volunteer.full_name}}
        )
    item.decision = decision.decision
    item.decision_note = text_within(decision.note, field=field, limit=SHORT_TEXT)
    if decision.decision == RewardDecision.GRANTED:
        item.decided_kind, item.decided_amount_mci = item.kind, item.amount_mci
    elif decision.decision == RewardDecision.CHANGED:
        try:
            item.decided_kind, item.decided_amount_mci = clean_reward(decision.kind, decision.amount_mci)
        except ValidationError as error:
            messages = [message for messages in error.message_dict.values() for message in messages]
            raise ValidationError(
                {field: [_("%(name)s: %(error)s") % {"name": item.volunteer.full_name, "error": m} for m in messages]}
            ) from None
    else:
        item.decided_kind, item.decided_amount_mci = "", None


@transaction.atomic
def nomination_decide(
    *,
    nomination: Nomination,
    by: User,
    protocol_number: str,
    protocol_date: datetime.date | None,
    decisions: Iterable[Decision],
) -> Nomination:
    """Record the commission's decision on a submitted nomination, person by person, with its protocol. Cash is at
    most 15 MCI a person and, with the other decided nominations of the quarter, within the district's budget;
    each volunteer is then told what was decided about them."""
    _manageable(nomination.district_id, by, _("Only the district's inspector records the commission's decision."))
    _lock_district(nomination.district_id)
    nomination = _locked(nomination)
    if nomination.status != NominationStatus.SUBMITTED:
        raise ValidationError(
            _("The commission decides on a submitted nomination (this one is: %(status)s).")
            % {"status": nomination.get_status_display()}
        )
    number, date = _protocol(protocol_number, protocol_date, nomination)
    items = {item.pk: item for item in nomination.items.select_related("volunteer__user")}
    given: dict[int, Decision] = {}
    for decision in decisions:
        if decision.item_id not in items:
            raise ValidationError({"decisions": _("A decision names someone who is not on this nomination.")})
        if decision.item_id in given:
            raise ValidationError({"decisions": _("Each person gets one decision.")})
        given[decision.item_id] = decision
    missing = [item.volunteer.full_name for pk, item in items.items() if pk not in given]
    if missing:
        raise ValidationError(
            {
                "decisions": _("Record the commission's decision for every person: %(names)s.")
                % {"names": ", ".join(missing)}
            }
        )
    for pk, item in items.items():
        _apply(item, given[pk])
    cash = [item for item in items.values() if item.decision in GRANTED and item.decided_kind == RewardKind.CASH]
    mci = mci_value(nomination.year)
    if cash and mci is None:
        raise ValidationError(
            {
                "decisions": _(
                    "The MCI value of %(year)d is not set, so a cash reward cannot be counted in tenge: an "
                    "administrator sets it (Monthly calculation indices)."
                )
                % {"year": nomination.year}
            }
        )
    for item in items.values():
        granted_cash = item in cash
        item.decided_tenge = tenge(item.decided_amount_mci, mci) if granted_cash else None
    _within_budget(nomination, sum((item.decided_tenge for item in cash), Decimal(0)))
    NominationItem.objects.bulk_update(
        items.values(), ["decision", "decided_kind", "decided_amount_mci", "decided_tenge", "decision_note"]
    )
    nomination.status = NominationStatus.DECIDED
    nomination.protocol_number, nomination.protocol_date = number, date
    nomination.decided_by, nomination.decided_at = by, timezone.now()
    nomination.full_clean()
    nomination.save(update_fields=["status", "protocol_number", "protocol_date", "decided_by", "decided_at"])
    for item in items.values():
        _tell(nomination, item)
    return nomination


def _within_budget(nomination: Nomination, cash: Decimal) -> None:
    if not cash:
        return
    period = period_label(nomination.year, nomination.quarter)
    budget = RewardBudget.objects.filter(
        district_id=nomination.district_id, year=nomination.year, quarter=nomination.quarter
    ).first()
    if budget is None:
        raise ValidationError(
            {
                "decisions": _(
                    "No budget for cash rewards is set for %(period)s, so no cash can be granted: an administrator "
                    "sets it (Reward budgets)."
                )
                % {"period": period}
            }
        )
    left = budget.tenge - _granted(nomination.district_id, nomination.year, nomination.quarter, excluding=nomination.pk)
    if cash > left:
        raise ValidationError(
            {
                "decisions": _(
                    "The cash granted, %(cash)s tenge, is more than is left of the budget for %(period)s: "
                    "%(left)s tenge of %(budget)s."
                )
                % {
                    "cash": money(cash),
                    "period": period,
                    "left": money(max(left, Decimal(0))),
                    "budget": money(budget.tenge),
                }
            }
        )


def _tell(nomination: Nomination, item: NominationItem) -> None:
    user = item.volunteer.user
    if user is None:
        return
    notify(
        users=[user],
        kind=NotificationKind.REWARD_DECIDED,
        nomination=nomination.pk,
        item=item.pk,
        volunteer=item.volunteer_id,
        year=nomination.year,
        quarter=nomination.quarter,
        decision=item.decision,
        reward=item.decided_kind,
        amount_mci=str(item.decided_amount_mci) if item.decided_amount_mci is not None else "",
        tenge=str(item.decided_tenge) if item.decided_tenge is not None else "",
        protocol_number=nomination.protocol_number,
        protocol_date=nomination.protocol_date.isoformat(),
    )


def reward_words(details: dict) -> tuple[str, str]:
    """(subject, body) of the message telling a volunteer the commission's decision, in the active language."""
    year, quarter = details.get("year"), details.get("quarter")
    words = {
        "period": period_label(year, quarter) if year and quarter in ROMAN else "",
        "number": details.get("protocol_number", ""),
        "date": "",
    }
    if details.get("protocol_date"):
        words["date"] = formats.date_format(datetime.date.fromisoformat(details["protocol_date"]), "d.m.Y")
    if details.get("decision") not in GRANTED:
        return (
            _("The commission's decision on your reward"),
            _(
                "The akimat's commission (protocol No. %(number)s of %(date)s) did not grant the reward proposed "
                "for your service in the %(period)s."
            )
            % words,
        )
    kind = details.get("reward", "")
    words["reward"] = str(RewardKind(kind).label) if kind in RewardKind.values else ""
    if kind == RewardKind.CASH and details.get("amount_mci"):
        words["amount"] = formats.number_format(Decimal(details["amount_mci"]).normalize())
        words["tenge"] = money(Decimal(details["tenge"])) if details.get("tenge") else "—"
        body = _(
            "The akimat's commission (protocol No. %(number)s of %(date)s) granted you a cash reward of %(amount)s "
            "MCI (%(tenge)s tenge) for your service in the %(period)s. Thank you!"
        )
    else:
        body = _(
            "The akimat's commission (protocol No. %(number)s of %(date)s) granted you: %(reward)s, for your "
            "service in the %(period)s. Thank you!"
        )
    return _("You were granted a reward"), body % words


def rewards_of(volunteer: Volunteer) -> QuerySet[NominationItem]:
    """What the commission granted a volunteer, newest quarter first (their profile shows it)."""
    return (
        NominationItem.objects.filter(
            volunteer=volunteer, nomination__status=NominationStatus.DECIDED, decision__in=GRANTED
        )
        .select_related("nomination__district")
        .defer("nomination__district__boundary", "nomination__district__centre")
        .order_by("-nomination__year", "-nomination__quarter", "-pk")
    )
