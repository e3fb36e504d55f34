"""Patrols in time and space: zones, weekly series, shifts, and who is on them (assignments)."""

import uuid

from django.conf import settings
from django.contrib.gis.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from ..choices import AssignmentStatus, CheckInConfirmation, CheckInDoubt, ShiftEventKind, ShiftStatus, ZoneKind
from ..scope import AssignmentQuerySet, ShiftQuerySet, ShiftSeriesQuerySet, ZoneQuerySet
from .geo import District
from .people import Group, Volunteer


class Zone(models.Model):
    """A patrol zone (polygon) or route (line) in a district, drawn on the map."""

    district = models.ForeignKey(District, on_delete=models.PROTECT, related_name="zones", verbose_name=_("district"))
    name = models.CharField(_("name"), max_length=200)
    kind = models.CharField(_("kind"), max_length=10, choices=ZoneKind.choices, default=ZoneKind.AREA)
    geometry = models.GeometryField(_("shape on the map"), srid=4326)
    description = models.TextField(_("description"), blank=True)
    is_archived = models.BooleanField(_("archived"), default=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, verbose_name=_("created by")
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    objects = ZoneQuerySet.as_manager()

    class Meta:
        ordering = ["district__code", "name"]
        verbose_name = _("zone")
        verbose_name_plural = _("zones")
        constraints = [
            models.UniqueConstraint(
                fields=["district", "name"],
                condition=Q(is_archived=False),
                name="zone_name_unique_in_district",
                violation_error_message=_("A zone with this name already exists in the district."),
            ),
        ]

    def __str__(self) -> str:
        return self.name


class ShiftSeries(models.Model):
    """A weekly rule (e.g. every Friday and Saturday 20:00–02:00 until a date) that shifts are generated from."""

    district = models.ForeignKey(
        District, on_delete=models.PROTECT, related_name="shift_series", verbose_name=_("district")
    )
    zone = models.ForeignKey(Zone, on_delete=models.PROTECT, related_name="series", verbose_name=_("zone"))
    weekdays = models.JSONField(_("weekdays"), help_text=_("ISO weekdays: 1 is Monday, 7 is Sunday."))
    start_time = models.TimeField(_("start time"))
    end_time = models.TimeField(_("end time"), help_text=_("An end at or before the start means the next day."))
    starts_on = models.DateField(_("first day"))
    ends_on = models.DateField(_("last day"), null=True, blank=True)
    min_volunteers = models.PositiveSmallIntegerField(_("minimum volunteers"), default=2)
    max_volunteers = models.PositiveSmallIntegerField(_("maximum volunteers"), default=6)
    groups = models.ManyToManyField(Group, blank=True, related_name="shift_series", verbose_name=_("groups invited"))
    inspector = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="shift_series",
        verbose_name=_("responsible inspector"),
    )
    briefing = models.TextField(_("briefing note"), blank=True)
    reminder_leads = models.JSONField(
        _("reminder lead times (hours)"),
        null=True,
        blank=True,
        help_text=_("Hours before each shift; empty means 24 and 2."),
    )
    is_active = models.BooleanField(_("active"), default=True)
    generated_until = models.DateField(_("shifts generated until"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    objects = ShiftSeriesQuerySet.as_manager()

    class Meta:
        ordering = ["district__code", "starts_on", "start_time"]
        verbose_name = _("shift series")
        verbose_name_plural = _("shift series")
        constraints = [
            models.CheckConstraint(
                condition=Q(max_volunteers__gte=F("min_volunteers")),
                name="series_max_at_least_min",
                violation_error_message=_("The maximum cannot be below the minimum."),
            ),
            models.CheckConstraint(
                condition=Q(ends_on__isnull=True) | Q(ends_on__gte=F("starts_on")),
                name="series_ends_after_start",
                violation_error_message=_("The last day cannot be before the first day."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.zone} {self.start_time:%H:%M}–{self.end_time:%H:%M}"


class Shift(models.Model):
    """One patrol: a zone, a start and an end (which may cross midnight), how many people, who is invited."""

    district = models.ForeignKey(District, on_delete=models.PROTECT, related_name="shifts", verbose_name=_("district"))
    zone = models.ForeignKey(Zone, on_delete=models.PROTECT, related_name="shifts", verbose_name=_("zone"))
    series = models.ForeignKey(
        ShiftSeries,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="shifts",
        verbose_name=_("series"),
    )
    starts_at = models.DateTimeField(_("starts at"))
    ends_at = models.DateTimeField(_("ends at"))
    min_volunteers = models.PositiveSmallIntegerField(_("minimum volunteers"), default=2)
    max_volunteers = models.PositiveSmallIntegerField(_("maximum volunteers"), default=6)
    groups = models.ManyToManyField(Group, blank=True, related_name="shifts", verbose_name=_("groups invited"))
    inspector = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="shifts",
        verbose_name=_("responsible inspector"),
    )
    briefing = models.TextField(_("briefing note"), blank=True)
    status = models.CharField(_("status"), max_length=12, choices=ShiftStatus.choices, default=ShiftStatus.SCHEDULED)
    cancel_reason = models.TextField(_("reason for cancelling"), blank=True)
    understaffed_at = models.DateTimeField(_("flagged as understaffed at"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    ok_interval_minutes = models.PositiveSmallIntegerField(
        _('"I\'m OK" check-ins every (minutes)'),
        null=True,
        blank=True,
        help_text=_("Empty: no check-ins asked. Shifts that end after midnight ask every 60 minutes by default."),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    objects = ShiftQuerySet.as_manager()

    class Meta:
        ordering = ["starts_at", "id"]
        verbose_name = _("shift")
        verbose_name_plural = _("shifts")
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__gt=F("starts_at")),
                name="shift_ends_after_start",
                violation_error_message=_("A shift must end after it starts."),
            ),
            models.CheckConstraint(
                condition=Q(max_volunteers__gte=F("min_volunteers")),
                name="shift_max_at_least_min",
                violation_error_message=_("The maximum cannot be below the minimum."),
            ),
            models.CheckConstraint(
                condition=Q(min_volunteers__gte=1),
                name="shift_min_at_least_one",
                violation_error_message=_("A shift needs at least one volunteer."),
            ),
            models.UniqueConstraint(
                fields=["series", "starts_at"],
                name="shift_once_per_series_start",
                violation_error_message=_("This series already has a shift at this time."),
            ),
        ]
        indexes = [models.Index(fields=["district", "starts_at"]), models.Index(fields=["status", "ends_at"])]

    def __str__(self) -> str:
        return f"{self.zone} · {self.starts_at:%Y-%m-%d %H:%M}"


class Assignment(models.Model):
    """A volunteer on a shift: signed up (or waiting), checked in and out, or cancelled, no-show, excused."""

    shift = models.ForeignKey(Shift, on_delete=models.CASCADE, related_name="assignments", verbose_name=_("shift"))
    volunteer = models.ForeignKey(
        Volunteer, on_delete=models.CASCADE, related_name="assignments", verbose_name=_("volunteer")
    )
    status = models.CharField(
        _("status"), max_length=12, choices=AssignmentStatus.choices, default=AssignmentStatus.SIGNED_UP
    )
    signed_up_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("signed up by"),
    )
    created_at = models.DateTimeField(_("signed up at"), auto_now_add=True)
    check_in_at = models.DateTimeField(_("checked in at"), null=True, blank=True)
    check_in_point = models.PointField(_("check-in position"), srid=4326, null=True, blank=True)
    check_in_distance_m = models.PositiveIntegerField(_("check-in distance from the zone (m)"), null=True, blank=True)
    check_in_outside = models.BooleanField(_("checked in outside the zone"), default=False)
    check_in_accuracy_m = models.PositiveIntegerField(_("check-in position accuracy (m)"), null=True, blank=True)
    check_in_attempts = models.PositiveSmallIntegerField(_("check-ins refused for an imprecise position"), default=0)
    confirmation = models.CharField(
        _("confirmation of the check-in"),
        max_length=12,
        choices=CheckInConfirmation.choices,
        default=CheckInConfirmation.NOT_NEEDED,
    )
    confirmation_doubt = models.CharField(
        _("why the check-in needs confirmation"), max_length=16, choices=CheckInDoubt.choices, blank=True
    )
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("confirmed or declined by"),
    )
    confirmed_at = models.DateTimeField(_("confirmed or declined at"), null=True, blank=True)
    ok_at = models.DateTimeField(_('last said "I\'m OK" at'), null=True, blank=True)
    check_out_at = models.DateTimeField(_("checked out at"), null=True, blank=True)
    check_out_point = models.PointField(_("check-out position"), srid=4326, null=True, blank=True)
    check_out_distance_m = models.PositiveIntegerField(_("check-out distance from the zone (m)"), null=True, blank=True)
    check_out_outside = models.BooleanField(_("checked out outside the zone"), default=False)
    check_out_reason = models.TextField(_("reason for leaving before the end"), blank=True)
    closed_automatically = models.BooleanField(_("closed automatically"), default=False)
    corrected_minutes = models.PositiveIntegerField(
        _("patrol minutes set by the inspector"),
        null=True,
        blank=True,
        help_text=_("Empty: the minutes follow from the check-in and check-out times."),
    )
    credited_minutes = models.PositiveIntegerField(
        _("patrol minutes that count"),
        default=0,
        help_text=_(
            "Kept by the attendance rules: clipped to the shift, zero while a check-in waits for confirmation."
        ),
    )
    cancelled_at = models.DateTimeField(_("cancelled at"), null=True, blank=True)
    cancelled_late = models.BooleanField(_("cancelled late"), default=False)
    note = models.TextField(_("note"), blank=True)
    # The volunteer's own "I'm coming" (a reply to a reminder); the inspector's word on a check-in is `confirmed_at`.
    coming_at = models.DateTimeField(_("said they are coming at"), null=True, blank=True)

    objects = AssignmentQuerySet.as_manager()

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = _("assignment")
        verbose_name_plural = _("assignments")
        constraints = [
            models.UniqueConstraint(
                fields=["shift", "volunteer"],
                condition=~Q(status="cancelled"),
                name="assignment_once_per_shift",
                violation_error_message=_("This volunteer is already on this shift."),
            ),
        ]
        indexes = [models.Index(fields=["volunteer", "status"]), models.Index(fields=["shift", "status"])]

    def __str__(self) -> str:
        return f"{self.volunteer} · {self.shift}"

    @property
    def patrol_hours(self) -> float:
        """The hours that count (kept by `services/attendance.py`), 0 until checked out."""
        return round(self.credited_minutes / 60, 2)


class ShiftEvent(models.Model):
    """History of a shift: who created, changed, cancelled, assigned or marked whom, and when."""

    shift = models.ForeignKey(Shift, on_delete=models.CASCADE, related_name="events", verbose_name=_("shift"))
    kind = models.CharField(_("what happened"), max_length=30, choices=ShiftEventKind.choices)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, verbose_name=_("by")
    )
    volunteer = models.ForeignKey(
        Volunteer, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("volunteer")
    )
    details = models.JSONField(_("details"), default=dict, blank=True)
    at = models.DateTimeField(_("at"), auto_now_add=True)

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name = _("shift event")
        verbose_name_plural = _("shift events")

    def __str__(self) -> str:
        return f"{self.shift_id} {self.kind}"


def new_feed_token() -> str:
    return uuid.uuid4().hex


class CalendarFeed(models.Model):
    """A volunteer's private iCal address of their shifts; a new token revokes the old address."""

    volunteer = models.OneToOneField(
        Volunteer, on_delete=models.CASCADE, related_name="calendar_feed", verbose_name=_("volunteer")
    )
    token = models.CharField(_("token"), max_length=64, unique=True, default=new_feed_token)
    created_at = models.DateTimeField(_("created at"), auto_now=True)

    class Meta:
        verbose_name = _("calendar feed")
        verbose_name_plural = _("calendar feeds")

    def __str__(self) -> str:
        return str(self.volunteer)
