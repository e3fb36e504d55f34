"""Web forms. Field names are the API's; choices are cut to the user's scope; saving is the services' job."""

from collections.abc import Callable
from typing import TypeVar

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from ..choices import GroupKind, Role
from ..models import District, Group, Settlement, User, Volunteer
from ..scope import manageable_districts

T = TypeVar("T")


def add_service_errors(form: forms.Form, error: ValidationError, aliases: dict[str, str] | None = None) -> None:
    """Show a service's ValidationError on the form: on its field when the form has it, else on top.

    `aliases` names the form field that stands for a service's field (a shift's `starts_at` is typed as a time).
    """
    if hasattr(error, "error_dict"):
        for field, messages in error.message_dict.items():
            field = (aliases or {}).get(field, field)
            form.add_error(field if field in form.fields else None, messages)
    else:
        form.add_error(None, error.messages)


def saved(form: forms.Form, write: Callable[[dict], T], aliases: dict[str, str] | None = None) -> T | None:
    """What `write` makes of a valid form's data; None when the form is not valid or the service refused, saying why."""
    if not form.is_valid():
        return None
    try:
        return write(form.cleaned_data)
    except ValidationError as error:
        add_service_errors(form, error, aliases)
        return None


# What a person typed into a small form that failed and sent them back to its page (a redirect): the page shows it
# again, once (`patrols.context_processors.typed` for the template, `typed_back` for a form the view builds), so a
# long answer or reason is not lost to a wrong number.
TYPED = "typed_back"
TYPED_LIMIT = 5000


def keep_typed(request, form: str, pk: int, fields: tuple[str, ...]) -> None:
    """Keep the POSTed `fields` of the form `form` for record `pk` until the next page is drawn."""
    request.session[TYPED] = {"form": form, "pk": pk, **{f: request.POST.get(f, "")[:TYPED_LIMIT] for f in fields}}


def typed_back(request, form: str, pk: int) -> dict[str, str]:
    """What `keep_typed` kept for the form `form` of record `pk`, taken out of the session (a form the view builds
    gets it as `initial`); nothing when it was kept for another form."""
    kept = request.session.get(TYPED)
    if not kept or kept.get("form") != form or kept.get("pk") != pk:
        return {}
    del request.session[TYPED]
    return {name: value for name, value in kept.items() if name not in ("form", "pk")}


class DateInput(forms.DateInput):
    input_type = "date"


class CodeChoiceField(forms.ModelChoiceField):
    """Choose a place by its code (as the API does), shown by its name in the active language."""

    def label_from_instance(self, obj) -> str:
        return obj.name


class GroupForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=200)
    kind = forms.ChoiceField(label=_("Kind"), choices=GroupKind.choices)
    district = CodeChoiceField(label=_("District"), queryset=District.objects.none(), to_field_name="code")
    settlement = CodeChoiceField(
        label=_("Settlement"),
        queryset=Settlement.objects.none(),
        to_field_name="code",
        required=False,
        help_text=_("Required for Sakshy and Sarbaz village groups."),
    )
    institution = forms.CharField(
        label=_("Institution"), max_length=200, required=False, help_text=_("Required for a student squad.")
    )
    leader = forms.ModelChoiceField(label=_("Leader"), queryset=Volunteer.objects.none(), required=False)
    inspector = forms.ModelChoiceField(
        label=_("Supervising inspector"), queryset=User.objects.none(), to_field_name="username", required=False
    )
    is_active = forms.BooleanField(label=_("Active"), required=False, initial=True)

    def __init__(self, *args, user: User, group: Group | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        districts = manageable_districts(user)
        self.fields["district"].queryset = districts
        self.fields["settlement"].queryset = Settlement.objects.filter(district__in=districts).order_by("name_kk")
        leaders = Volunteer.objects.manageable_by(user)
        if group is not None:
            leaders = leaders.filter(memberships__group=group, memberships__left_on=None).distinct()
            self.fields["district"].disabled = True
        self.fields["leader"].queryset = leaders
        self.fields["inspector"].queryset = User.objects.filter(
            role=Role.INSPECTOR, is_active=True, inspector_districts__in=districts
        ).distinct()
        if len(districts) == 1 and group is None:
            self.fields["district"].initial = districts[0].code


class VolunteerCreateForm(forms.Form):
    district = CodeChoiceField(label=_("District"), queryset=District.objects.none(), to_field_name="code")
    last_name = forms.CharField(label=_("Last name"), max_length=100)
    first_name = forms.CharField(label=_("First name"), max_length=100)
    patronymic = forms.CharField(label=_("Patronymic"), max_length=100, required=False)
    iin = forms.CharField(
        label=_("IIN"), max_length=12, min_length=12, widget=forms.TextInput({"inputmode": "numeric"})
    )
    phone = forms.CharField(label=_("Phone"), max_length=32, widget=forms.TextInput({"inputmode": "tel"}))
    birth_date = forms.DateField(
        label=_("Date of birth"), required=False, widget=DateInput, help_text=_("Taken from the IIN when left empty.")
    )
    applied_on = forms.DateField(label=_("Application date"), required=False, widget=DateInput)
    groups = forms.ModelMultipleChoiceField(
        label=_("Groups"), queryset=Group.objects.none(), required=False, widget=forms.CheckboxSelectMultiple
    )
    consent = forms.BooleanField(
        label=_("The applicant signed the consent to personal data processing"),
        error_messages={"required": _("The applicant's consent to personal data processing is required.")},
    )

    def __init__(self, *args, user: User, **kwargs):
        super().__init__(*args, **kwargs)
        districts = manageable_districts(user)
        self.fields["district"].queryset = districts
        self.fields["groups"].queryset = Group.objects.manageable_by(user).filter(is_active=True)
        if len(districts) == 1:
            self.fields["district"].initial = districts[0].code

    def application(self) -> dict:
        """The application's fields as `roster.volunteer_apply` takes them (the consent is the form's own check)."""
        data = {key: value for key, value in self.cleaned_data.items() if key != "consent"}
        return {**data, "groups": list(data["groups"])}


class VolunteerEditForm(forms.Form):
    last_name = forms.CharField(label=_("Last name"), max_length=100)
    first_name = forms.CharField(label=_("First name"), max_length=100)
    patronymic = forms.CharField(label=_("Patronymic"), max_length=100, required=False)
    phone = forms.CharField(label=_("Phone"), max_length=32, widget=forms.TextInput({"inputmode": "tel"}))
    birth_date = forms.DateField(label=_("Date of birth"), widget=DateInput)
    medical_check_passed = forms.NullBooleanField(label=_("Medical checks passed"), required=False)


class StatusForm(forms.Form):
    """One lifecycle move; which fields matter depends on the move."""

    ACTIONS = ("vet", "register", "refuse", "suspend", "reinstate", "retire", "issue_documents")

    action = forms.ChoiceField(choices=[(a, a) for a in ACTIONS], widget=forms.HiddenInput)
    on_date = forms.DateField(label=_("Date"), required=False, widget=DateInput)
    number = forms.CharField(label=_("Akimat registration number"), max_length=40, required=False)
    reason = forms.CharField(label=_("Reason"), required=False, widget=forms.Textarea({"rows": 2}))
    note = forms.CharField(label=_("Note"), required=False)
    medical_check_passed = forms.NullBooleanField(label=_("Medical checks passed"), required=False)
    id_card_number = forms.CharField(label=_("ID card number"), max_length=40, required=False)
    badge_number = forms.CharField(label=_("Badge number"), max_length=40, required=False)


class MemberForm(forms.Form):
    volunteer = forms.ModelChoiceField(label=_("Volunteer"), queryset=Volunteer.objects.none())
    date = forms.DateField(label=_("Date"), required=False, widget=DateInput)

    def __init__(self, *args, user: User, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["volunteer"].queryset = Volunteer.objects.manageable_by(user)


class RosterUploadForm(forms.Form):
    district = CodeChoiceField(label=_("District"), queryset=District.objects.none(), to_field_name="code")
    file = forms.FileField(label=_("Roster file (XLSX or CSV)"))
    import_valid_rows = forms.BooleanField(
        label=_("Import the rows without errors and give me the others back as a file to fix"),
        required=False,
        help_text=_("When unticked, a file with any error imports nothing."),
    )

    def __init__(self, *args, user: User, **kwargs):
        super().__init__(*args, **kwargs)
        districts = manageable_districts(user)
        self.fields["district"].queryset = districts
        if len(districts) == 1:
            self.fields["district"].initial = districts[0].code
