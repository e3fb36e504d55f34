"""Recognition of volunteers' work: the ledger of verified service per month, the district's quarterly nomination to
the akimat's commission with its decision, the money it may spend, and certificates of service anyone can check."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from ..choices import NominationStatus, RewardDecision, RewardKind
from ..scope import CertificateQuerySet, NominationQuerySet
from .geo import District
from .people import Volunteer


class LedgerMonth(models.Model):
    """One figure of one volunteer's verified service in one month (Asia/Almaty): `measure` is "shifts", "minutes",
    "no_shows", "meetings", "callouts" or "report:<outcome code>". Kept in the transaction of each change, like the
    dashboard's tallies, and recountable (`manage.py rebuild_ledger`)."""

    volunteer = models.ForeignKey(
        Volunteer, on_delete=models.CASCADE, related_name="ledger_months", verbose_name=_("volunteer")
    )
    year = models.PositiveSmallIntegerField(_("year"))
    month = models.PositiveSmallIntegerField(_("month"))
    measure = models.CharField(_("measure"), max_length=40)
    amount = models.BigIntegerField(_("amount"), default=0)

    class Meta:
        verbose_name = _("ledger figure")
        verbose_name_plural = _("ledger figures")
        constraints = [
            models.UniqueConstraint(fields=["volunteer", "year", "month", "measure"], name="one_ledger_figure"),
        ]
        indexes = [models.Index(fields=["year", "month", "measure"])]

    def __str__(self) -> str:
        return f"{self.volunteer_id} {self.year}-{self.month:02d} {self.measure}={self.amount}"


class RecognitionRules(models.Model):
    """What the district asks of a volunteer to be proposed for a reward in a quarter."""

    district = models.OneToOneField(
        District, on_delete=models.CASCADE, related_name="recognition_rules", verbose_name=_("district")
    )
    min_hours = models.PositiveIntegerField(_("at least this many patrol hours"), default=24)
    min_prevented = models.PositiveIntegerField(_("at least this many verified prevented offenses"), default=1)
    max_no_shows = models.PositiveIntegerField(_("at most this many no-shows"), default=1)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("district's rules for rewards")
        verbose_name_plural = _("districts' rules for rewards")

    def __str__(self) -> str:
        return str(self.district)


class McIValue(models.Model):
    """The monthly calculation index (МРП/АЕК) of a year in tenge, set by an administrator from the budget law."""

    year = models.PositiveSmallIntegerField(_("year"), unique=True)
    tenge = models.DecimalField(_("tenge"), max_digits=10, decimal_places=2)

    class Meta:
        ordering = ["-year"]
        verbose_name = _("monthly calculation index")
        verbose_name_plural = _("monthly calculation indices")

    def __str__(self) -> str:
        return f"{self.year}: {self.tenge}"


class RewardBudget(models.Model):
    """What the maslikhat gave a district for cash rewards in one quarter, in tenge."""

    district = models.ForeignKey(
        District, on_delete=models.CASCADE, related_name="reward_budgets", verbose_name=_("district")
    )
    year = models.PositiveSmallIntegerField(_("year"))
    quarter = models.PositiveSmallIntegerField(_("quarter"))
    tenge = models.DecimalField(_("budget (tenge)"), max_digits=14, decimal_places=2)

    class Meta:
        verbose_name = _("reward budget")
        verbose_name_plural = _("reward budgets")
        constraints = [
            models.UniqueConstraint(fields=["district", "year", "quarter"], name="one_budget_per_quarter"),
            models.CheckConstraint(condition=models.Q(quarter__gte=1, quarter__lte=4), name="budget_quarter_1_to_4"),
        ]

    def __str__(self) -> str:
        return f"{self.district} {self.year}-Q{self.quarter}"


class Nomination(models.Model):
    """A district's proposal to the commission for one quarter. Submitted, it is frozen: a change makes a new
    version (the old one stays, superseded)."""

    district = models.ForeignKey(
        District, on_delete=models.PROTECT, related_name="nominations", verbose_name=_("district")
    )
    year = models.PositiveSmallIntegerField(_("year"))
    quarter = models.PositiveSmallIntegerField(_("quarter"))
    version = models.PositiveSmallIntegerField(_("version"), default=1)
    status = models.CharField(
        _("status"), max_length=12, choices=NominationStatus.choices, default=NominationStatus.DRAFT
    )
    supersedes = models.OneToOneField(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="superseded_by",
        verbose_name=_("replaces version"),
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+", verbose_name=_("opened by")
    )
    created_at = models.DateTimeField(_("opened at"), auto_now_add=True)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("submitted by"),
    )
    submitted_at = models.DateTimeField(_("submitted at"), null=True, blank=True)
    protocol_number = models.CharField(_("commission's protocol number"), max_length=40, blank=True)
    protocol_date = models.DateField(_("commission's protocol date"), null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("decision recorded by"),
    )
    decided_at = models.DateTimeField(_("decision recorded at"), null=True, blank=True)

    objects = NominationQuerySet.as_manager()

    class Meta:
        ordering = ["-year", "-quarter", "district_id", "-version"]
        verbose_name = _("nomination for rewards")
        verbose_name_plural = _("nominations for rewards")
        constraints = [
            models.UniqueConstraint(fields=["district", "year", "quarter", "version"], name="one_nomination_version"),
            models.CheckConstraint(
                condition=models.Q(quarter__gte=1, quarter__lte=4), name="nomination_quarter_1_to_4"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.district} {self.period} v{self.version}"

    @property
    def period(self) -> str:
        return f"{self.year}-Q{self.quarter}"


class NominationItem(models.Model):
    """One volunteer on a nomination: the proposed reward, the line of merit, the facts as they were when it was
    submitted, and the commission's decision about them."""

    nomination = models.ForeignKey(
        Nomination, on_delete=models.CASCADE, related_name="items", verbose_name=_("nomination")
    )
    volunteer = models.ForeignKey(
        Volunteer, on_delete=models.PROTECT, related_name="nomination_items", verbose_name=_("volunteer")
    )
    kind = models.CharField(_("proposed reward"), max_length=12, choices=RewardKind.choices)
    amount_mci = models.DecimalField(_("proposed amount (MCI)"), max_digits=5, decimal_places=2, null=True, blank=True)
    merit = models.CharField(_("merit"), max_length=500, blank=True)
    proposed_by_rules = models.BooleanField(_("proposed by the district's rules"), default=False)
    facts = models.JSONField(_("facts of the quarter"), default=dict, blank=True)
    decision = models.CharField(_("decision"), max_length=10, choices=RewardDecision.choices, blank=True)
    decided_kind = models.CharField(_("reward granted"), max_length=12, choices=RewardKind.choices, blank=True)
    decided_amount_mci = models.DecimalField(
        _("amount granted (MCI)"), max_digits=5, decimal_places=2, null=True, blank=True
    )
    decided_tenge = models.DecimalField(
        _("amount granted (tenge)"), max_digits=14, decimal_places=2, null=True, blank=True
    )
    decision_note = models.CharField(_("decision note"), max_length=500, blank=True)

    class Meta:
        ordering = ["nomination", "volunteer__last_name", "volunteer__first_name", "pk"]
        verbose_name = _("nominated volunteer")
        verbose_name_plural = _("nominated volunteers")
        constraints = [
            models.UniqueConstraint(fields=["nomination", "volunteer"], name="one_item_per_volunteer"),
        ]

    def __str__(self) -> str:
        return f"{self.nomination_id} {self.volunteer_id} {self.kind}"


class Certificate(models.Model):
    """A certificate of service for a period, with what it shows frozen at issue. Its code is random and signed
    (services/certificates.py), so it cannot be guessed or altered; a revoked one says so on the check page."""

    code = models.CharField(_("code"), max_length=32, unique=True)
    volunteer = models.ForeignKey(
        Volunteer, on_delete=models.PROTECT, related_name="certificates", verbose_name=_("volunteer")
    )
    period_start = models.DateField(_("from"))
    period_end = models.DateField(_("to"))
    holder = models.CharField(_("holder (initials and surname)"), max_length=200)
    issuer = models.CharField(_("issued by"), max_length=300)
    figures = models.JSONField(_("figures shown"), default=dict)
    language = models.CharField(_("language"), max_length=5)
    issued_at = models.DateTimeField(_("issued at"), auto_now_add=True)
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+", verbose_name=_("issued by")
    )
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)
    revoked_reason = models.CharField(_("reason for revoking"), max_length=300, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("revoked by"),
    )

    objects = CertificateQuerySet.as_manager()

    class Meta:
        ordering = ["-issued_at", "-pk"]
        verbose_name = _("certificate of service")
        verbose_name_plural = _("certificates of service")

    def __str__(self) -> str:
        return self.code
