"""People and formations: accounts with roles, volunteer groups, volunteers, memberships, roster imports."""

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db import models
from django.db.models import F, Q, Value
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from ..choices import AutoReason, GroupKind, Role, RosterImportStatus, VolunteerStatus
from ..reasons import note_text
from ..scope import GroupQuerySet, RosterImportQuerySet, VolunteerQuerySet
from ..validators import format_phone, validate_iin, validate_phone
from .geo import District, Region, Settlement


class User(AbstractUser):
    """An account. `role` decides scope; inspectors are bound to districts, chiefs to a region."""

    role = models.CharField(_("role"), max_length=20, choices=Role.choices, default=Role.VOLUNTEER)
    inspector_districts = models.ManyToManyField(
        District, blank=True, related_name="inspectors", verbose_name=_("districts (for an inspector)")
    )
    chief_region = models.ForeignKey(
        Region,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="chiefs",
        verbose_name=_("region (for a chief)"),
    )
    language = models.CharField(_("language"), max_length=5, choices=settings.LANGUAGES, default=settings.LANGUAGE_CODE)
    # A volunteer's phone is on their profile; a police account's own (for an SOS by SMS) is kept here.
    phone = models.CharField(
        _("phone for urgent SMS"), max_length=16, blank=True, validators=[validate_phone], help_text="+77XXXXXXXXX"
    )
    credentials_version = models.PositiveIntegerField(
        _("credentials version"),
        default=0,
        editable=False,
        help_text=_("Raised when the password, role, two-factor device or activity changes: older sessions end."),
    )

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")

    def _get_session_auth_hash(self, secret=None) -> str:
        """Django's session check, over the credentials version as well as the password: a raised version (a role
        or two-factor change, "sign out everywhere") ends every session made before it, as a new password does."""
        return salted_hmac(
            "django.contrib.auth.models.AbstractBaseUser.get_session_auth_hash",
            f"{self.password}:{self.credentials_version}",
            secret=secret,
            algorithm="sha256",
        ).hexdigest()

    @property
    def roles(self) -> list[str]:
        """The account's role plus what follows from its volunteer profile (volunteer, group leader)."""
        roles = [Role.ADMIN.value if self.is_superuser and self.role != Role.ADMIN else self.role]
        volunteer = getattr(self, "volunteer", None)
        if volunteer is not None:
            if Role.VOLUNTEER not in roles:
                roles.append(Role.VOLUNTEER.value)
            if Role.LEADER not in roles and volunteer.led_groups.filter(is_active=True).exists():
                roles.append(Role.LEADER.value)
        return roles


class Volunteer(models.Model):
    """A person in one or more groups, with the registration lifecycle of the law on public order."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="volunteer",
        verbose_name=_("account"),
    )
    district = models.ForeignKey(
        District,
        on_delete=models.PROTECT,
        related_name="volunteers",
        verbose_name=_("district"),
        help_text=_("The district where the application is handled."),
    )
    last_name = models.CharField(_("last name"), max_length=100)
    first_name = models.CharField(_("first name"), max_length=100)
    patronymic = models.CharField(_("patronymic"), max_length=100, blank=True)
    iin = models.CharField(_("IIN"), max_length=12, unique=True, validators=[validate_iin])
    phone = models.CharField(_("phone"), max_length=16, validators=[validate_phone])
    birth_date = models.DateField(_("date of birth"))
    status = models.CharField(
        _("status"), max_length=12, choices=VolunteerStatus.choices, default=VolunteerStatus.APPLICANT
    )
    applied_on = models.DateField(_("application date"))
    vetted_on = models.DateField(_("police check date"), null=True, blank=True)
    registration_number = models.CharField(_("akimat registration number"), max_length=40, blank=True)
    registered_on = models.DateField(_("akimat registration date"), null=True, blank=True)
    refusal_reason = models.TextField(_("reason for refusal"), blank=True)
    id_card_number = models.CharField(_("ID card number"), max_length=40, blank=True)
    badge_number = models.CharField(_("badge number"), max_length=40, blank=True)
    medical_check_passed = models.BooleanField(_("medical checks passed"), null=True, blank=True)
    consent_at = models.DateTimeField(_("consent to personal data processing given at"))
    consent_version = models.CharField(_("consent text version"), max_length=20)
    anonymised_at = models.DateTimeField(
        _("anonymised at"),
        null=True,
        blank=True,
        help_text=_("Personal data replaced with neutral values after the retention period."),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    objects = VolunteerQuerySet.as_manager()

    class Meta:
        ordering = ["last_name", "first_name", "id"]
        verbose_name = _("volunteer")
        verbose_name_plural = _("volunteers")
        constraints = [
            models.CheckConstraint(
                condition=~Q(status=VolunteerStatus.REFUSED) | ~Q(refusal_reason=""),
                name="volunteer_refusal_has_reason",
                violation_error_message=_("A refusal needs a written reason."),
            ),
            models.CheckConstraint(
                condition=~Q(status=VolunteerStatus.REGISTERED)
                | (~Q(registration_number="") & Q(registered_on__isnull=False)),
                name="volunteer_registration_complete",
                violation_error_message=_("A registered volunteer needs the akimat's number and date."),
            ),
            models.CheckConstraint(
                condition=Q(vetted_on__isnull=True) | Q(vetted_on__gte=F("applied_on")),
                name="volunteer_vetted_after_applying",
                violation_error_message=_("The police check date cannot be before the application date."),
            ),
            models.CheckConstraint(
                condition=Q(registered_on__isnull=True)
                | (
                    Q(registered_on__gte=F("applied_on"))
                    & (Q(vetted_on__isnull=True) | Q(registered_on__gte=F("vetted_on")))
                ),
                name="volunteer_registered_after_vetting",
                violation_error_message=_("The registration date cannot be before the police check date."),
            ),
            models.UniqueConstraint(
                fields=["badge_number"],
                condition=~Q(badge_number=""),
                name="volunteer_badge_unique",
                violation_error_message=_("This badge number is already given to another volunteer."),
            ),
            models.UniqueConstraint(
                fields=["id_card_number"],
                condition=~Q(id_card_number=""),
                name="volunteer_id_card_unique",
                violation_error_message=_("This ID card number is already given to another volunteer."),
            ),
        ]
        indexes = [models.Index(fields=["district", "status"])]

    def __str__(self) -> str:
        return self.full_name

    @property
    def full_name(self) -> str:
        if self.anonymised_at is not None:
            return gettext("Anonymised volunteer #%(id)d") % {"id": self.pk}
        return " ".join(part for part in (self.last_name, self.first_name, self.patronymic) if part)

    @property
    def phone_display(self) -> str:
        return format_phone(self.phone)


class Group(models.Model):
    """A volunteer formation of one of the four kinds, in one district, with a leader and a supervising inspector."""

    name = models.CharField(_("name"), max_length=200)
    kind = models.CharField(_("kind"), max_length=20, choices=GroupKind.choices)
    district = models.ForeignKey(District, on_delete=models.PROTECT, related_name="groups", verbose_name=_("district"))
    settlement = models.ForeignKey(
        Settlement,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="groups",
        verbose_name=_("settlement"),
        help_text=_("Required for Sakshy and Sarbaz village groups."),
    )
    institution = models.CharField(
        _("institution"), max_length=200, blank=True, help_text=_("Required for a student squad.")
    )
    leader = models.ForeignKey(
        Volunteer,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="led_groups",
        verbose_name=_("leader"),
    )
    inspector = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="supervised_groups",
        verbose_name=_("supervising inspector"),
    )
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    objects = GroupQuerySet.as_manager()

    class Meta:
        ordering = ["district__code", "name"]
        verbose_name = _("group")
        verbose_name_plural = _("groups")
        constraints = [
            models.UniqueConstraint(
                fields=["district", "name"],
                name="group_name_unique_in_district",
                violation_error_message=_("A group with this name already exists in the district."),
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Membership(models.Model):
    """A volunteer's time in a group: from the day they joined to the day they left (open while active)."""

    volunteer = models.ForeignKey(
        Volunteer, on_delete=models.CASCADE, related_name="memberships", verbose_name=_("volunteer")
    )
    group = models.ForeignKey(Group, on_delete=models.CASCADE, related_name="memberships", verbose_name=_("group"))
    joined_on = models.DateField(_("joined on"))
    left_on = models.DateField(_("left on"), null=True, blank=True)

    class Meta:
        ordering = ["-joined_on"]
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")
        constraints = [
            models.UniqueConstraint(
                fields=["volunteer", "group"],
                condition=Q(left_on__isnull=True),
                name="membership_one_active_per_group",
                violation_error_message=_("The volunteer is already a member of this group."),
            ),
            models.CheckConstraint(
                condition=Q(left_on__isnull=True) | Q(left_on__gte=models.F("joined_on")),
                name="membership_left_after_joined",
                violation_error_message=_("A member cannot leave before joining."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.volunteer} — {self.group}"


class VolunteerStatusChange(models.Model):
    """One step of a volunteer's registration lifecycle: who moved it, when, and why."""

    volunteer = models.ForeignKey(
        Volunteer, on_delete=models.CASCADE, related_name="status_changes", verbose_name=_("volunteer")
    )
    from_status = models.CharField(_("from"), max_length=12, choices=VolunteerStatus.choices, blank=True)
    to_status = models.CharField(_("to"), max_length=12, choices=VolunteerStatus.choices)
    note = models.TextField(_("note"), blank=True, help_text=_("What the person wrote."))
    # The app's own reason (an import), as facts told in the reader's language (patrols/reasons.py).
    reason = models.CharField(
        _("automatic reason"), max_length=20, choices=AutoReason.choices, blank=True, default="", db_default=""
    )
    reason_params = models.JSONField(
        _("facts of the reason"), default=dict, blank=True, db_default=Value({}, output_field=models.JSONField())
    )
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, verbose_name=_("by")
    )
    at = models.DateTimeField(_("at"), auto_now_add=True)

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name = _("volunteer status change")
        verbose_name_plural = _("volunteer status changes")

    def __str__(self) -> str:
        return f"{self.volunteer_id}: {self.from_status or '—'} → {self.to_status}"

    @property
    def note_text(self) -> str:
        """The app's reason in the active language, then what the person wrote."""
        return note_text(reason=self.reason, params=self.reason_params, note=self.note)


class RosterImport(models.Model):
    """An uploaded roster file (XLSX or CSV): checked row by row, written all at once or not at all."""

    district = models.ForeignKey(
        District, on_delete=models.PROTECT, related_name="roster_imports", verbose_name=_("district")
    )
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, verbose_name=_("uploaded by")
    )
    file = models.FileField(_("file"), upload_to="roster-imports/%Y/%m/")
    original_name = models.CharField(_("file name"), max_length=255)
    language = models.CharField(_("language of messages"), max_length=5, default=settings.LANGUAGE_CODE)
    status = models.CharField(
        _("status"), max_length=10, choices=RosterImportStatus.choices, default=RosterImportStatus.PENDING
    )
    total_rows = models.PositiveIntegerField(_("rows"), default=0)
    processed_rows = models.PositiveIntegerField(_("rows checked"), default=0)
    errors = models.JSONField(_("errors"), default=list, blank=True)
    import_valid_rows = models.BooleanField(
        _("import the valid rows"),
        default=False,
        help_text=_("Write the rows without errors and give the others back as a file to fix; otherwise all or none."),
    )
    created_count = models.PositiveIntegerField(_("volunteers added"), default=0)
    updated_count = models.PositiveIntegerField(_("memberships added"), default=0)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    heartbeat_at = models.DateTimeField(
        _("last sign of work"),
        null=True,
        blank=True,
        help_text=_("Set as rows are checked: a stale one means the worker died."),
    )
    attempts = models.PositiveSmallIntegerField(_("runs started"), default=0)

    objects = RosterImportQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("roster import")
        verbose_name_plural = _("roster imports")

    def __str__(self) -> str:
        return self.original_name

    @property
    def percent(self) -> int:
        return int(100 * self.processed_rows / self.total_rows) if self.total_rows else 0

    @property
    def is_finished(self) -> bool:
        return self.status in {RosterImportStatus.FAILED, RosterImportStatus.DONE, RosterImportStatus.PARTIAL}

    @property
    def has_rows_to_fix(self) -> bool:
        """Whether the rows with errors can come back as a file: an import of the valid rows, its file still kept."""
        return (
            self.import_valid_rows
            and bool(self.file)
            and self.is_finished
            and any(error.get("row") and error["row"] > 1 for error in self.errors)
        )
