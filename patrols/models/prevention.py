"""Prevention work with residents: the inspectors' meetings, the villages' initiatives, and the registered crimes
that show whether a village stays crime-free."""

import uuid

from django.conf import settings
from django.contrib.gis.db import models
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from ..choices import InitiativeStatus, MeetingEventKind, MeetingKind, MeetingStatus
from ..scope import InitiativeQuerySet, MeetingQuerySet, SettlementCrimeCountQuerySet
from .base import CheckedPhoto, ManagedList
from .geo import District, Settlement
from .people import Group, Volunteer

# No meeting in a village hall or a school gathers more people than this; a bigger number is a typo.
MAX_RESIDENTS = 100_000


class Topic(ManagedList):
    """What a meeting was about, from the managed list (alcohol, domestic violence, internet fraud, ...)."""

    class Meta(ManagedList.Meta):
        verbose_name = _("meeting topic")
        verbose_name_plural = _("meeting topics")


class InitiativeKind(ManagedList):
    """A kind of village commitment, from the managed list (alcohol refusal first; drug-free, safe yard, ...)."""

    class Meta(ManagedList.Meta):
        verbose_name = _("kind of initiative")
        verbose_name_plural = _("kinds of initiative")


class Meeting(models.Model):
    """A meeting of inspectors (or chiefs) with the residents of a settlement; it counts once it is held."""

    client_uuid = models.UUIDField(_("device's meeting id"), unique=True, default=uuid.uuid4)
    district = models.ForeignKey(
        District, on_delete=models.PROTECT, related_name="meetings", verbose_name=_("district")
    )
    settlement = models.ForeignKey(
        Settlement, on_delete=models.PROTECT, related_name="meetings", verbose_name=_("settlement")
    )
    location = models.PointField(_("where"), srid=4326)
    held_at = models.DateTimeField(
        _("when"), help_text=_("When it is planned, and once it is held, when it took place.")
    )
    duration_minutes = models.PositiveSmallIntegerField(
        _("how long (minutes)"),
        default=60,
        validators=[MinValueValidator(5), MaxValueValidator(12 * 60)],
        help_text=_("The volunteers who took part get these minutes in their hours."),
    )
    kind = models.CharField(_("kind"), max_length=20, choices=MeetingKind.choices)
    status = models.CharField(_("status"), max_length=10, choices=MeetingStatus.choices, default=MeetingStatus.PLANNED)
    officers = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        related_name="meetings_held",
        blank=True,
        verbose_name=_("held by"),
        help_text=_("The inspectors and chiefs who held it."),
    )
    akimat_representatives = models.CharField(
        _("akimat representatives"),
        max_length=500,
        blank=True,
        help_text=_("Who came from the akimat (names and posts): kept as long as the details of other people."),
    )
    groups = models.ManyToManyField(
        Group, related_name="meetings", blank=True, verbose_name=_("volunteer groups that took part")
    )
    residents = models.PositiveIntegerField(
        _("residents who came"), null=True, blank=True, validators=[MaxValueValidator(MAX_RESIDENTS)]
    )
    topics = models.ManyToManyField(Topic, related_name="meetings", blank=True, verbose_name=_("topics"))
    decisions = models.TextField(_("decisions taken"), blank=True)
    notes = models.TextField(_("notes"), blank=True)
    cancel_reason = models.CharField(_("why it was cancelled"), max_length=500, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+", verbose_name=_("logged by")
    )
    created_at = models.DateTimeField(_("logged at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    objects = MeetingQuerySet.as_manager()

    class Meta:
        ordering = ["-held_at", "-id"]
        verbose_name = _("meeting with residents")
        verbose_name_plural = _("meetings with residents")
        constraints = [
            models.CheckConstraint(
                condition=~Q(status=MeetingStatus.HELD) | Q(residents__isnull=False),
                name="held_meeting_has_residents",
                violation_error_message=_("Say how many residents came to the meeting."),
            ),
        ]
        indexes = [
            models.Index(fields=["district", "status", "held_at"]),
            models.Index(fields=["settlement", "held_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.settlement} · {self.held_at:%Y-%m-%d}"

    @property
    def counts(self) -> bool:
        """Whether the meeting counts in the totals: only a held one does."""
        return self.status == MeetingStatus.HELD


class MeetingAttendee(models.Model):
    """A volunteer who took part in a meeting: once it is held, its minutes go to their hours."""

    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="attendees", verbose_name=_("meeting"))
    volunteer = models.ForeignKey(
        Volunteer, on_delete=models.CASCADE, related_name="meetings_attended", verbose_name=_("volunteer")
    )
    minutes = models.PositiveSmallIntegerField(
        _("minutes"),
        default=0,
        validators=[MaxValueValidator(12 * 60)],
        help_text=_("The meeting's length once it is held; 0 while it is planned or if it was cancelled."),
    )

    class Meta:
        ordering = ["meeting", "volunteer"]
        verbose_name = _("volunteer at a meeting")
        verbose_name_plural = _("volunteers at meetings")
        constraints = [models.UniqueConstraint(fields=["meeting", "volunteer"], name="attendee_once_per_meeting")]


def meeting_photo_path(instance: "MeetingPhoto", filename: str) -> str:
    meeting = instance.meeting
    return f"meeting-photos/{meeting.created_at:%Y/%m}/{meeting.client_uuid}/{uuid.uuid4().hex}.jpg"


class MeetingPhoto(CheckedPhoto):
    """A photo of a meeting, checked and cleaned like a report's (services/photos.py)."""

    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="photos", verbose_name=_("meeting"))
    image = models.ImageField(_("image"), upload_to=meeting_photo_path)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = _("meeting photo")
        verbose_name_plural = _("meeting photos")
        constraints = [models.UniqueConstraint(fields=["meeting", "sha256"], name="photo_once_per_meeting")]


class MeetingEvent(models.Model):
    """History of a meeting: planned, changed, held, cancelled, photos added."""

    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="events", verbose_name=_("meeting"))
    kind = models.CharField(_("what happened"), max_length=20, choices=MeetingEventKind.choices)
    changes = models.JSONField(_("what changed"), default=dict, blank=True)
    note = models.TextField(_("note"), blank=True)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, verbose_name=_("by")
    )
    at = models.DateTimeField(_("at"), auto_now_add=True)

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name = _("meeting event")
        verbose_name_plural = _("meeting events")


def initiative_document_path(instance: "Initiative", filename: str) -> str:
    return f"initiative-documents/{instance.adopted_on:%Y}/{uuid.uuid4().hex}.jpg"


class Initiative(models.Model):
    """A settlement's public commitment adopted at a meeting, such as refusing alcohol; one active of a kind at once."""

    settlement = models.ForeignKey(
        Settlement, on_delete=models.PROTECT, related_name="initiatives", verbose_name=_("settlement")
    )
    district = models.ForeignKey(
        District, on_delete=models.PROTECT, related_name="initiatives", verbose_name=_("district")
    )
    kind = models.ForeignKey(
        InitiativeKind, on_delete=models.PROTECT, related_name="initiatives", verbose_name=_("kind")
    )
    adopted_on = models.DateField(_("adopted on"))
    meeting = models.ForeignKey(
        Meeting,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="initiatives",
        verbose_name=_("adopted at the meeting"),
    )
    document = models.ImageField(
        _("the protocol"), upload_to=initiative_document_path, blank=True, help_text=_("A scan or photo of it.")
    )
    status = models.CharField(
        _("status"), max_length=10, choices=InitiativeStatus.choices, default=InitiativeStatus.ACTIVE
    )
    lapsed_on = models.DateField(_("lapsed on"), null=True, blank=True)
    lapse_reason = models.CharField(_("why it lapsed"), max_length=500, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+", verbose_name=_("recorded by")
    )
    created_at = models.DateTimeField(_("recorded at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    objects = InitiativeQuerySet.as_manager()

    class Meta:
        ordering = ["-adopted_on", "-id"]
        verbose_name = _("village initiative")
        verbose_name_plural = _("village initiatives")
        constraints = [
            models.UniqueConstraint(
                fields=["settlement", "kind"],
                condition=Q(status=InitiativeStatus.ACTIVE),
                name="one_active_initiative_of_a_kind",
                violation_error_message=_("This settlement already has an active initiative of this kind."),
            ),
            models.CheckConstraint(
                condition=Q(status=InitiativeStatus.ACTIVE, lapsed_on__isnull=True)
                | Q(status=InitiativeStatus.LAPSED, lapsed_on__isnull=False),
                name="lapsed_initiative_has_a_date",
                violation_error_message=_("A lapsed initiative needs the date it lapsed."),
            ),
            models.CheckConstraint(
                condition=Q(lapsed_on__isnull=True) | Q(lapsed_on__gte=models.F("adopted_on")),
                name="initiative_lapses_after_adoption",
                violation_error_message=_("An initiative cannot lapse before it was adopted."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.settlement} · {self.kind} · {self.adopted_on:%Y-%m-%d}"


class SettlementCrimeCount(models.Model):
    """Crimes registered (ЕРДР) in a settlement in one month, from the police statistics: the evidence a village is
    crime-free. A month without a row is "no data", never zero."""

    settlement = models.ForeignKey(
        Settlement, on_delete=models.PROTECT, related_name="crime_counts", verbose_name=_("settlement")
    )
    district = models.ForeignKey(
        District, on_delete=models.PROTECT, related_name="crime_counts", verbose_name=_("district")
    )
    month = models.DateField(_("month"), help_text=_("The first day of the month."))
    registered = models.PositiveIntegerField(_("crimes registered"), validators=[MaxValueValidator(100_000)])
    source = models.CharField(_("source"), max_length=200, blank=True, help_text=_("Where the figure comes from."))
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+", verbose_name=_("recorded by")
    )
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    objects = SettlementCrimeCountQuerySet.as_manager()

    class Meta:
        ordering = ["settlement", "-month"]
        verbose_name = _("registered crimes of a month")
        verbose_name_plural = _("registered crimes by month")
        constraints = [
            models.UniqueConstraint(fields=["settlement", "month"], name="one_crime_count_a_month"),
            models.CheckConstraint(condition=Q(month__day=1), name="crime_count_month_starts_on_the_first"),
        ]
        indexes = [models.Index(fields=["district", "month"])]

    def __str__(self) -> str:
        return f"{self.settlement} · {self.month:%Y-%m}: {self.registered}"
