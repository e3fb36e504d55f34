"""Server-rendered pages. Reads come from `scope`, writes from `services`; out of scope is 404."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, Prefetch, Q
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from ..choices import AccessChannel, Role, VolunteerStatus
from ..filters import GroupFilter, VolunteerFilter
from ..models import Group, Membership, RosterImport, Volunteer
from ..scope import can_manage_people, role_of, sees_personal_data
from ..selectors import home as home_selectors
from ..selectors.channels import channel_health
from ..services import audit, overview, reminders, reporting, roster, roster_import
from ..services.nominations import rewards_of
from ..services.roster import ALLOWED_TRANSITIONS
from . import forms
from .dashboard import home_figures

PAGE_SIZE = 50
# The lifecycle buttons on a volunteer's page: the next step forward first, refusal last.
_STEP_ORDER = (
    VolunteerStatus.VETTED,
    VolunteerStatus.REGISTERED,
    VolunteerStatus.SUSPENDED,
    VolunteerStatus.RETIRED,
    VolunteerStatus.REFUSED,
)


def _require_manager(user) -> None:
    if not can_manage_people(user):
        raise PermissionDenied


def _visible_group(user, pk: int) -> Group:
    return get_object_or_404(Group.objects.visible_to(user).select_related("district", "settlement", "leader"), pk=pk)


def _visible_volunteer(user, pk: int) -> Volunteer:
    return get_object_or_404(Volunteer.objects.visible_to(user).select_related("district", "user"), pk=pk)


def _managed_or_404(queryset, user, pk: int):
    """For writes: an object the user may not change is treated as missing (no existence leaks)."""
    return get_object_or_404(queryset.manageable_by(user), pk=pk)


def _page(request, queryset):
    return Paginator(queryset, PAGE_SIZE).get_page(request.GET.get("page"))


@login_required
def home(request):
    """The start page for the user's role."""
    user = request.user
    role = role_of(user)
    context = {"role": role, "volunteer": getattr(user, "volunteer", None)}
    if context["volunteer"] is not None:
        context["my_memberships"] = (
            context["volunteer"]
            .memberships.filter(left_on=None)
            .select_related("group", "group__leader", "group__district", "group__settlement")
        )
        context["led_groups"] = (
            Group.objects.visible_to(user)
            .filter(leader=context["volunteer"], is_active=True)
            .prefetch_related(
                Prefetch(
                    "memberships",
                    queryset=Membership.objects.filter(left_on=None).select_related("volunteer"),
                    to_attr="active_members",
                )
            )
        )
    now = timezone.now()
    if context["volunteer"] is not None:
        context["next"] = home_selectors.next_assignment(context["volunteer"], user, now)
        led = context["led_groups"]
        context["tonight_groups"] = [(group, home_selectors.tonight_for_leader(group, now)) for group in led]
    if role in {Role.INSPECTOR, Role.CHIEF, Role.ANALYST, Role.ADMIN}:
        context["areas"] = overview.areas_for(user)
        context["totals"] = overview.totals_for(user)
        context["recent_imports"] = RosterImport.objects.visible_to(user).select_related("district")[:5]
    if role in {Role.INSPECTOR, Role.ADMIN}:
        context["reports_waiting"] = reporting.reports_waiting(user)
        context["failed_deliveries"] = list(reminders.failed_deliveries_for(user)[:10])
    if role == Role.INSPECTOR:
        context["tonight"] = home_selectors.tonight_for_inspector(user, now)
    if role in {Role.CHIEF, Role.ANALYST}:
        context["figures"] = home_figures(user)
    return render(request, "patrols/home.html", context)


@login_required
def group_list(request):
    queryset = (
        Group.objects.visible_to(request.user)
        .select_related("district", "settlement", "leader")
        .annotate(member_count=Count("memberships", filter=Q(memberships__left_on=None)))
        .order_by("district__code", "name")
    )
    filterset = GroupFilter(request.GET, queryset=queryset, request=request)
    return render(
        request,
        "patrols/group_list.html",
        {"filter": filterset, "page": _page(request, filterset.qs), "can_manage": can_manage_people(request.user)},
    )


@login_required
def group_detail(request, pk: int):
    group = _visible_group(request.user, pk)
    members = (
        Volunteer.objects.visible_to(request.user)
        .filter(memberships__group=group, memberships__left_on=None)
        .select_related("district")
        .distinct()
    )
    can_manage = Group.objects.manageable_by(request.user).filter(pk=group.pk).exists()
    rows = [(v, sees_personal_data(request.user, v, scoped=True)) for v in members]
    return render(
        request,
        "patrols/group_detail.html",
        {
            "group": group,
            "rows": rows,
            # The group's size, not the rows this viewer may see (a volunteer sees only their own).
            "member_count": group.memberships.filter(left_on=None).count(),
            "can_manage": can_manage,
            "member_form": forms.MemberForm(user=request.user) if can_manage else None,
        },
    )


@login_required
def group_create(request):
    _require_manager(request.user)
    form = forms.GroupForm(request.POST or None, user=request.user)
    group = forms.saved(form, lambda data: roster.group_create(by=request.user, **data))
    if group is not None:
        messages.success(request, _("The group “%(name)s” was created.") % {"name": group.name})
        return redirect("group-detail", pk=group.pk)
    return render(request, "patrols/group_form.html", {"form": form, "group": None})


@login_required
def group_edit(request, pk: int):
    group = _managed_or_404(Group.objects.select_related("district"), request.user, pk)
    initial = {
        "name": group.name,
        "kind": group.kind,
        "district": group.district.code,
        "settlement": group.settlement.code if group.settlement_id else None,
        "institution": group.institution,
        "leader": group.leader_id,
        "inspector": group.inspector.username if group.inspector_id else None,
        "is_active": group.is_active,
    }
    form = forms.GroupForm(request.POST or None, user=request.user, group=group, initial=initial)

    def save(data: dict) -> Group:
        changes = {key: value for key, value in data.items() if key != "district"}
        return roster.group_update(group=group, by=request.user, **changes)

    if forms.saved(form, save):
        messages.success(request, _("The group was saved."))
        return redirect("group-detail", pk=group.pk)
    return render(request, "patrols/group_form.html", {"form": form, "group": group})


@login_required
@require_POST
def group_member(request, pk: int, change: str):
    """Add a volunteer to a group, or end their membership."""
    group = _managed_or_404(Group.objects, request.user, pk)
    form = forms.MemberForm(request.POST, user=request.user)
    if form.is_valid():
        service = roster.membership_add if change == "add" else roster.membership_end
        date_key = "joined_on" if change == "add" else "left_on"
        try:
            service(
                volunteer=form.cleaned_data["volunteer"],
                group=group,
                by=request.user,
                **{date_key: form.cleaned_data["date"]},
            )
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(request, _("The roster was updated."))
    else:
        messages.error(request, " ".join(str(m) for errors in form.errors.values() for m in errors))
    return redirect("group-detail", pk=group.pk)


@login_required
def volunteer_list(request):
    queryset = (
        Volunteer.objects.visible_to(request.user)
        .select_related("district")
        .prefetch_related(
            Prefetch("memberships", queryset=Membership.objects.filter(left_on=None).select_related("group"))
        )
    )
    filterset = VolunteerFilter(request.GET, queryset=queryset, request=request)
    page = _page(request, filterset.qs)
    rows = [(v, sees_personal_data(request.user, v, scoped=True)) for v in page]
    for v, personal in rows:
        if personal:
            audit.volunteer_iin_shown(request, v, how=AccessChannel.WEB)
    return render(
        request,
        "patrols/volunteer_list.html",
        {
            "filter": filterset,
            "page": page,
            "rows": rows,
            "statuses": VolunteerStatus.choices,
            "can_manage": can_manage_people(request.user),
        },
    )


@login_required
def volunteer_detail(request, pk: int):
    volunteer = _visible_volunteer(request.user, pk)
    can_manage = Volunteer.objects.manageable_by(request.user).filter(pk=volunteer.pk).exists()
    personal = sees_personal_data(request.user, volunteer)
    if personal:
        audit.volunteer_iin_shown(request, volunteer, how=AccessChannel.WEB)
    return render(
        request,
        "patrols/volunteer_detail.html",
        {
            "v": volunteer,
            "personal": personal,
            "memberships": volunteer.memberships.select_related("group").order_by("-joined_on"),
            "history": volunteer.status_changes.select_related("by"),
            "can_manage": can_manage,
            "next_statuses": [s for s in _STEP_ORDER if s in ALLOWED_TRANSITIONS[volunteer.status]]
            if can_manage
            else [],
            "status_form": forms.StatusForm(),
            "channels": channel_health(volunteer.user) if can_manage else [],
            "rewards": rewards_of(volunteer),
        },
    )


@login_required
def volunteer_create(request):
    _require_manager(request.user)
    form = forms.VolunteerCreateForm(request.POST or None, user=request.user)
    volunteer = forms.saved(form, lambda data: roster.volunteer_apply(by=request.user, **form.application()))
    if volunteer is not None:
        messages.success(request, _("The application of %(name)s was recorded.") % {"name": volunteer.full_name})
        return redirect("volunteer-detail", pk=volunteer.pk)
    return render(request, "patrols/volunteer_form.html", {"form": form, "v": None})


@login_required
def volunteer_edit(request, pk: int):
    volunteer = _managed_or_404(Volunteer.objects.select_related("district"), request.user, pk)
    initial = {
        "last_name": volunteer.last_name,
        "first_name": volunteer.first_name,
        "patronymic": volunteer.patronymic,
        "phone": volunteer.phone_display,
        "birth_date": volunteer.birth_date,
        "medical_check_passed": volunteer.medical_check_passed,
    }
    form = forms.VolunteerEditForm(request.POST or None, initial=initial)
    if forms.saved(form, lambda data: roster.volunteer_update(volunteer=volunteer, by=request.user, **data)):
        messages.success(request, _("The profile was saved."))
        return redirect("volunteer-detail", pk=volunteer.pk)
    return render(request, "patrols/volunteer_form.html", {"form": form, "v": volunteer})


def _status_call(action: str, volunteer: Volunteer, by, data: dict) -> Volunteer:
    """Route a lifecycle form to its service with the fields that move needs."""
    if action == "vet":
        return roster.volunteer_vet(
            volunteer=volunteer, by=by, on_date=data["on_date"], medical_check_passed=data["medical_check_passed"]
        )
    if action == "register":
        if data["on_date"] is None:
            raise ValidationError({"on_date": _("Enter the registration date.")})
        return roster.volunteer_register(volunteer=volunteer, by=by, number=data["number"], on_date=data["on_date"])
    if action == "refuse":
        return roster.volunteer_refuse(volunteer=volunteer, by=by, reason=data["reason"])
    if action == "suspend":
        return roster.volunteer_suspend(volunteer=volunteer, by=by, reason=data["reason"])
    if action == "reinstate":
        return roster.volunteer_reinstate(volunteer=volunteer, by=by, note=data["note"])
    if action == "retire":
        return roster.volunteer_retire(volunteer=volunteer, by=by, note=data["note"])
    return roster.volunteer_issue_documents(
        volunteer=volunteer, by=by, id_card_number=data["id_card_number"], badge_number=data["badge_number"]
    )


@login_required
@require_POST
def volunteer_status(request, pk: int):
    volunteer = _managed_or_404(Volunteer.objects, request.user, pk)
    form = forms.StatusForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Check the form: some values are not valid."))
        return redirect("volunteer-detail", pk=volunteer.pk)
    try:
        _status_call(form.cleaned_data["action"], volunteer, request.user, form.cleaned_data)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, _("Saved."))
    return redirect("volunteer-detail", pk=volunteer.pk)


@login_required
def roster_upload(request):
    _require_manager(request.user)
    form = forms.RosterUploadForm(request.POST or None, request.FILES or None, user=request.user)
    job = forms.saved(
        form,
        lambda data: roster_import.roster_import_start(
            by=request.user,
            district=data["district"],
            upload=data["file"],
            import_valid_rows=data["import_valid_rows"],
        ),
    )
    if job is not None:
        return redirect("roster-import", pk=job.pk)
    imports = RosterImport.objects.visible_to(request.user).select_related("district", "uploaded_by")[:10]
    return render(request, "patrols/roster_upload.html", {"form": form, "imports": imports})


@login_required
def roster_import_detail(request, pk: int):
    job = get_object_or_404(RosterImport.objects.visible_to(request.user).select_related("district"), pk=pk)
    errors = roster_import.problems_shown(job.errors)
    return render(request, "patrols/roster_import.html", {"job": job, "errors": errors})


@login_required
@require_GET
def roster_import_rows_to_fix(request, pk: int):
    """The rows an import of the valid rows left out, as a workbook to fix: for the import's own scope only."""
    return rows_to_fix_download(get_object_or_404(RosterImport.objects.visible_to(request.user), pk=pk))


def rows_to_fix_download(job: RosterImport) -> HttpResponse:
    """The workbook of the rows to fix as a private download (the web page's link and the API's); 404 when none."""
    if not job.has_rows_to_fix:
        raise Http404
    try:
        workbook = roster_import.roster_rows_to_fix_xlsx(job)
    except ValidationError as error:
        raise Http404 from error
    response = HttpResponse(workbook, content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    response["Content-Disposition"] = f'attachment; filename="roster-{job.pk}-rows-to-fix.xlsx"'
    response["Cache-Control"] = "private, no-store"
    return response


@login_required
@require_GET
def roster_import_progress(request, pk: int):
    """What the import page polls: status and rows checked so far."""
    job = get_object_or_404(RosterImport.objects.visible_to(request.user), pk=pk)
    return JsonResponse(
        {
            "status": job.status,
            "status_label": job.get_status_display(),
            "total_rows": job.total_rows,
            "processed_rows": job.processed_rows,
            "percent": job.percent,
            "finished": job.is_finished,
            "error_count": len(job.errors),
        }
    )


@login_required
@require_GET
def roster_template(request):
    _require_manager(request.user)
    response = HttpResponse(
        roster_import.roster_template_xlsx(),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    response["Content-Disposition"] = 'attachment; filename="roster-template.xlsx"'
    return response
