"""Forms of the verification queue and the report page. Field names are the API's; the rules are reporting's."""

from django import forms
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from ..models import Category, District
from .forms import CodeChoiceField


class QueueFilterForm(forms.Form):
    """What the inspector narrows the queue to: a district, a category, only the flagged reports."""

    district = CodeChoiceField(
        label=_("District"),
        queryset=District.objects.none(),
        to_field_name="code",
        required=False,
        empty_label=_("All districts"),
    )
    category = CodeChoiceField(
        label=_("Category"),
        queryset=Category.objects.all(),
        to_field_name="code",
        required=False,
        empty_label=_("All categories"),
    )
    flagged = forms.BooleanField(label=_("Flagged only"), required=False)

    def __init__(self, *args, districts, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["district"].queryset = districts

    def apply(self, queryset):
        if not self.is_valid():
            return queryset
        data = self.cleaned_data
        if data["district"] is not None:
            # A report filed on a shift waits in the shift's district too (scope.ReportQuerySet).
            queryset = queryset.filter(Q(district=data["district"]) | Q(shift__district=data["district"]))
        if data["category"] is not None:
            queryset = queryset.filter(category=data["category"])
        if data["flagged"]:
            queryset = queryset.exclude(flags=[])
        return queryset


class ReportActionForm(forms.Form):
    """One inspector's decision on a report; which text it needs (reason, question, original) is the service's rule."""

    VERIFY, REJECT, REQUEST_INFO, DUPLICATE = "verify", "reject", "request_info", "duplicate"
    ACTIONS = (VERIFY, REJECT, REQUEST_INFO, DUPLICATE)

    action = forms.ChoiceField(choices=[(a, a) for a in ACTIONS], widget=forms.HiddenInput)
    reason = forms.CharField(label=_("Reason for rejection"), required=False, widget=forms.Textarea({"rows": 2}))
    question = forms.CharField(label=_("What is missing"), required=False, widget=forms.Textarea({"rows": 2}))
    original = forms.IntegerField(label=_("Original report No."), required=False, min_value=1)
    next = forms.CharField(required=False, widget=forms.HiddenInput)
