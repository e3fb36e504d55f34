"""Forms of the patrol plan: zones drawn on a map, one-off shifts, weekly series, cancelling and attendance.

They only turn what people type into the values the services take (a local date and times into aware datetimes);
every rule stays in `services.scheduling`, whose errors come back onto these forms.
"""

import datetime

from django import forms
from django.contrib.gis import forms as gis_forms
from django.core.exceptions import ValidationError
from django.utils.dates import WEEKDAYS
from django.utils.translation import gettext_lazy as _
from leaflet.forms.widgets import LeafletWidget
from leaflet.templatetags.leaflet_tags import leaflet_map

from ..choices import AssignmentStatus, Role, ZoneKind
from ..clock import LOCAL_TZ
from ..models import District, Group, User, Volunteer, Zone
from ..scope import manageable_districts
from ..services.geometry import geometry_from_geojson
from ..templatetags.patrols import MAP_OVERRIDES
from .forms import CodeChoiceField, DateInput

# ISO weekdays, Monday first, named in the active language.
ISO_WEEKDAYS = [(number + 1, name) for number, name in sorted(WEEKDAYS.items())]


class TimeInput(forms.TimeInput):
    input_type = "time"

    def __init__(self, attrs=None):
        super().__init__(attrs, format="%H:%M")


class ZoneMapWidget(LeafletWidget):
    """django-leaflet's drawing widget without its inline script: static/js/maps.js starts the map from data-*
    attributes, so the page works under a Content Security Policy without 'unsafe-inline'."""

    template_name = "patrols/widgets/zone_map.html"

    def get_context(self, name, value, attrs):
        context = super().get_context(name, value, attrs)
        overrides = {**MAP_OVERRIDES, **(self.settings_overrides or {})}
        context["djoptions"] = leaflet_map(context["id_map"], settings_overrides=overrides)["djoptions"]
        return context


class InspectorChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj) -> str:
        return obj.get_full_name() or obj.username


class ZoneChoiceField(forms.ModelChoiceField):
    """Zones by name; with the district when the planner keeps several."""

    def __init__(self, *args, with_district: bool = False, **kwargs):
        self.with_district = with_district
        super().__init__(*args, **kwargs)

    def label_from_instance(self, obj) -> str:
        return f"{obj.name} · {obj.district.name}" if self.with_district else obj.name


def _inspectors_for(districts):
    return User.objects.filter(role=Role.INSPECTOR, is_active=True, inspector_districts__in=districts).distinct()


class PlanFields(forms.Form):
    """What a shift and a weekly series both say: where, how many people, who is invited, the briefing."""

    zone = ZoneChoiceField(label=_("Zone"), queryset=Zone.objects.none())
    min_volunteers = forms.IntegerField(label=_("Minimum volunteers"), min_value=0, max_value=500, initial=2)
    max_volunteers = forms.IntegerField(label=_("Maximum volunteers"), min_value=0, max_value=500, initial=6)
    groups = forms.ModelMultipleChoiceField(
        label=_("Groups invited"),
        queryset=Group.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("None ticked invites every active group of the zone's district."),
    )
    briefing = forms.CharField(label=_("Briefing note"), required=False, widget=forms.Textarea({"rows": 3}))

    def __init__(self, *args, user: User, **kwargs):
        super().__init__(*args, **kwargs)
        districts = manageable_districts(user)
        several = districts.count() > 1
        self.fields["zone"].queryset = (
            Zone.objects.manageable_by(user).filter(is_archived=False).select_related("district").order_by("name")
        )
        self.fields["zone"].with_district = several
        zones = list(self.fields["zone"].queryset[:2])
        if len(zones) == 1 and not self.is_bound and "zone" not in self.initial:
            self.initial["zone"] = zones[0].pk
        self.fields["groups"].queryset = Group.objects.manageable_by(user).filter(is_active=True).order_by("name")
        if not several and not self.is_bound and "groups" not in self.initial:
            self.initial["groups"] = list(self.fields["groups"].queryset)
        self.districts = districts


class ShiftForm(PlanFields):
    """A one-off shift: a day, a start and an end time (an end at or before the start is the next day)."""

    field_order = [
        "zone",
        "date",
        "start_time",
        "end_time",
        "min_volunteers",
        "max_volunteers",
        "groups",
        "inspector",
        "briefing",
    ]

    date = forms.DateField(label=_("Date"), widget=DateInput)
    start_time = forms.TimeField(label=_("Start time"), widget=TimeInput)
    end_time = forms.TimeField(
        label=_("End time"), widget=TimeInput, help_text=_("An end at or before the start means the next day.")
    )
    inspector = InspectorChoiceField(label=_("Responsible inspector"), queryset=User.objects.none(), required=False)

    # Where the services' errors about computed values are shown on this form.
    error_aliases = {"starts_at": "start_time", "ends_at": "end_time"}

    def __init__(self, *args, user: User, **kwargs):
        super().__init__(*args, user=user, **kwargs)
        self.fields["inspector"].queryset = _inspectors_for(self.districts)
        if user.role == Role.INSPECTOR and "inspector" not in self.initial:
            self.initial["inspector"] = user.pk

    def clean(self):
        data = super().clean()
        day, start, end = data.get("date"), data.get("start_time"), data.get("end_time")
        if day and start and end:
            end_day = day + datetime.timedelta(days=1) if end <= start else day
            data["starts_at"] = datetime.datetime.combine(day, start, tzinfo=LOCAL_TZ)
            data["ends_at"] = datetime.datetime.combine(end_day, end, tzinfo=LOCAL_TZ)
        return data

    def plan(self) -> dict:
        """The values `shift_create` and `shift_update` take."""
        data = self.cleaned_data
        return {
            "zone": data["zone"],
            "starts_at": data["starts_at"],
            "ends_at": data["ends_at"],
            "min_volunteers": data["min_volunteers"],
            "max_volunteers": data["max_volunteers"],
            "groups": list(data["groups"]),
            "inspector": data["inspector"],
            "briefing": data["briefing"],
        }


class SeriesForm(PlanFields):
    """A weekly rule: weekdays, times, the first and (optionally) last day."""

    field_order = [
        "zone",
        "weekdays",
        "start_time",
        "end_time",
        "starts_on",
        "ends_on",
        "min_volunteers",
        "max_volunteers",
        "groups",
        "briefing",
    ]

    weekdays = forms.TypedMultipleChoiceField(
        label=_("Weekdays"), choices=ISO_WEEKDAYS, coerce=int, required=False, widget=forms.CheckboxSelectMultiple
    )
    start_time = forms.TimeField(label=_("Start time"), widget=TimeInput)
    end_time = forms.TimeField(
        label=_("End time"), widget=TimeInput, help_text=_("An end at or before the start means the next day.")
    )
    starts_on = forms.DateField(label=_("First day"), widget=DateInput)
    ends_on = forms.DateField(
        label=_("Last day"), widget=DateInput, required=False, help_text=_("Leave empty to repeat until stopped.")
    )

    def plan(self) -> dict:
        """The values `series_create` takes."""
        data = dict(self.cleaned_data)
        data["groups"] = list(data["groups"])
        return data


class CancelShiftForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason"),
        required=False,
        widget=forms.Textarea({"rows": 3}),
        help_text=_("The volunteers on the shift read it."),
    )


class AttendanceForm(forms.Form):
    status = forms.ChoiceField(
        choices=[(status.value, status.label) for status in (AssignmentStatus.NO_SHOW, AssignmentStatus.EXCUSED)]
    )
    note = forms.CharField(label=_("Note"), required=False, max_length=500)


class ConfirmCheckInForm(forms.Form):
    """The inspector's word on a doubtful check-in."""

    CONFIRM, DECLINE = "confirm", "decline"
    decision = forms.ChoiceField(choices=[(CONFIRM, _("Confirm")), (DECLINE, _("Do not confirm"))])
    reason = forms.CharField(label=_("Reason"), required=False, max_length=500)


class CorrectHoursForm(forms.Form):
    """The inspector sets the hours of a completed patrol, with a reason."""

    hours = forms.DecimalField(label=_("Hours on patrol"), min_value=0, max_value=24, decimal_places=2)
    reason = forms.CharField(label=_("Reason for the correction"), max_length=500)


class MemberSignupForm(forms.Form):
    """A leader (or the inspector) puts a member of an invited group on the shift."""

    volunteer = forms.ModelChoiceField(label=_("Volunteer"), queryset=Volunteer.objects.none())

    def __init__(self, *args, members, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["volunteer"].queryset = members


class GeoJSONGeometryField(gis_forms.GeometryField):
    """The map's shape, read as GeoJSON with GEOS only (services.geometry.geometry_from_geojson): no GDAL."""

    def to_python(self, value):
        if value in self.empty_values:
            return None
        try:
            return geometry_from_geojson(value)
        except ValidationError as error:
            raise forms.ValidationError(error.messages, code="invalid_geom") from error


class ZoneForm(forms.Form):
    district = CodeChoiceField(label=_("District"), queryset=District.objects.none(), to_field_name="code")
    name = forms.CharField(label=_("Name"), max_length=200)
    kind = forms.ChoiceField(label=_("Kind"), choices=ZoneKind.choices, initial=ZoneKind.AREA)
    geometry = GeoJSONGeometryField(
        label=_("Shape on the map"),
        srid=4326,
        required=False,
        widget=ZoneMapWidget,
        help_text=_("A patrol zone is a polygon, a patrol route a line. Draw it with the tools on the map."),
    )
    description = forms.CharField(label=_("Description"), required=False, widget=forms.Textarea({"rows": 3}))

    def __init__(self, *args, user: User, zone: Zone | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        districts = manageable_districts(user).defer("boundary")
        self.fields["district"].queryset = districts
        if zone is not None:
            del self.fields["district"]
            self.district = zone.district
        elif districts.count() == 1:
            self.district = districts.first()
            self.fields["district"].initial = self.district.code
            self.fields["district"].widget = forms.HiddenInput()
        else:
            self.district = None
        if self.district is not None:
            centre = self.district.centre
            self.fields["geometry"].widget.settings_overrides = {
                "DEFAULT_CENTER": (centre.y, centre.x),
                "DEFAULT_ZOOM": 12,
            }
