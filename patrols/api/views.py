"""API endpoints: querysets come from `scope`, writes go to `services`; nothing else happens here."""

from axes.helpers import get_cool_off
from django.conf import settings
from django.contrib.auth import authenticate
from django.db.models import Count, Prefetch, Q
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotAuthenticated, PermissionDenied, ValidationError
from rest_framework.generics import get_object_or_404
from rest_framework.permissions import SAFE_METHODS, AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework_gis.pagination import GeoJsonPagination

from ..auth import ApiTokenAuthentication, address_refused, address_refused_message, lockout_message
from ..filters import (
    DistrictFilter,
    GroupFilter,
    NotificationFilter,
    SettlementFilter,
    ShiftFilter,
    ShiftSeriesFilter,
    VolunteerFilter,
    ZoneFilter,
    window_start,
)
from ..models import (
    ApiToken,
    Assignment,
    District,
    Group,
    Membership,
    Notification,
    Region,
    Settlement,
    Shift,
    ShiftSeries,
    Volunteer,
    Zone,
)
from ..scope import can_manage_people, is_police, may_act_for, scoped_as_volunteer, shift_in_scope
from ..selectors.inbox import unread_count, unread_first_page
from ..selectors.schedule import (
    assignment_as_answered,
    attach_staffing,
    current_assignment,
    open_shifts_first_page,
    own_shifts_first_page,
    shift_rows,
    shifts_with_staffing,
)
from ..services import attendance, credentials, inbox, roster, scheduling, signin
from ..services.geometry import point_from
from . import ledger as ledger_api
from . import serializers as s
from .errors import TooManyRequests
from .pagination import first_page_response
from .throttles import SignupThrottle, TokenThrottle


class TokenView(APIView):
    """Exchange a username and password (and, for police and ministry accounts when two-factor sign-in is on, the
    `otp` code) for an API token. Repeated failures lock the username out from that address (429)."""

    permission_classes = [AllowAny]
    # Signing in reads no credentials but the ones in the body: a stale token in the header must not stand in the way.
    authentication_classes: list = []
    throttle_classes = [TokenThrottle]

    def get_authenticate_header(self, request) -> str:
        return "Token"

    @extend_schema(request=s.TokenRequestSerializer, responses={200: s.TokenResponseSerializer})
    def post(self, request):
        if address_refused(request):
            raise TooManyRequests(wait=settings.SIGNIN_ADDRESS_WINDOW_MINUTES * 60, detail=address_refused_message())
        data = s.TokenRequestSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        user = authenticate(request, username=data.validated_data["username"], password=data.validated_data["password"])
        # The lockout marks the request it was given; the web pages get its answer from the middleware.
        if getattr(request, "axes_locked_out", False):
            raise TooManyRequests(wait=get_cool_off().total_seconds(), detail=lockout_message())
        if user is None or not user.is_active:
            raise ValidationError({"non_field_errors": [_("The username or password is wrong.")]})
        with_code = signin.second_factor_required(user)
        if with_code:
            signin.second_factor_verify(user=user, code=data.validated_data.get("otp", ""))
        device = data.validated_data.get("device") or request.headers.get("User-Agent", "")
        token, secret = credentials.token_issue(user=user, device=device, with_second_factor=with_code)
        return Response({"token": secret, "expiry": token.expiry})

    @extend_schema(request=None, responses={204: None})
    def delete(self, request):
        """Revoke the token this request is signed with (the device signs out)."""
        user, token = _authenticated_by_token(request)
        credentials.token_revoke(token=token, by=user)
        return Response(status=status.HTTP_204_NO_CONTENT)


def _authenticated_by_token(request) -> tuple:
    """The user and the token of a request signed with one; 401 for anyone else (nothing to revoke)."""
    found = ApiTokenAuthentication().authenticate(request)
    if found is None:
        raise NotAuthenticated(_("Send the token to revoke in the Authorization header."))
    return found


class ApiTokenViewSet(mixins.ListModelMixin, mixins.DestroyModelMixin, viewsets.GenericViewSet):
    """Your devices' API tokens (an administrator sees every account's): list them, revoke one, or all."""

    serializer_class = s.ApiTokenSerializer
    queryset = ApiToken.objects.none()
    lookup_field = "token_key"
    filterset_fields = ["user__username"]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return ApiToken.objects.none()
        return credentials.tokens_visible_to(self.request.user).order_by("-created", "token_key")

    def perform_destroy(self, instance):
        credentials.token_revoke(token=instance, by=self.request.user)

    @extend_schema(request=None, responses=s.RevokedSerializer)
    @action(detail=False, methods=["post"], url_path="revoke-all")
    def revoke_all(self, request):
        """Sign out everywhere: every token of your account is revoked and every other session ends."""
        return Response({"revoked": credentials.sign_out_everywhere(request=request)})


class MeView(APIView):
    """The signed-in user: roles and the scope (district and region codes)."""

    @extend_schema(responses=s.MeSerializer)
    def get(self, request):
        return Response(s.MeSerializer(request.user).data)


class ScopedReadMixin:
    """Lists and details come only from `Model.objects.visible_to(user)`: out of scope is 404."""

    # Writes to one object are restricted here, once, as NetBox restricts each request: an unsafe method on an
    # object needs it in `Model.objects.manageable_by(user)` as well (403, since the user already sees it), unless
    # the action is one of `reader_actions`, which check their own, narrower rule in a service (a volunteer signing
    # up, the reporter adding a photo). A new write action is checked without anyone remembering to.
    # (A comment, not the docstring: the docstring is the description of every operation in the API's schema.)

    model = None
    reader_actions: frozenset[str] = frozenset()
    denied_message = gettext_lazy("You can see this but not change it.")

    def base_queryset(self):
        return self.model.objects.visible_to(self.request.user)

    def get_queryset(self):
        return self.base_queryset()

    def get_object(self):
        found = super().get_object()
        if self.request.method not in SAFE_METHODS and self.action not in self.reader_actions:
            writable = getattr(self.model.objects, "manageable_by", None)
            if writable is None or not writable(self.request.user).filter(pk=found.pk).exists():
                raise PermissionDenied(self.denied_message)
        return found


def _may_create_or_deny(user) -> None:
    if not can_manage_people(user):
        raise PermissionDenied(_("Only the district's inspector can add to its roster."))


# Lists and details in scope, created and changed through the services, writes only on what the user keeps
# (ScopedReadMixin.get_object). A comment, not a docstring: the schema would show a docstring on every operation.
class ScopedWriteViewSet(
    ScopedReadMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    pass


class RegionViewSet(ScopedReadMixin, viewsets.ReadOnlyModelViewSet):
    model = Region
    serializer_class = s.RegionSerializer
    lookup_field = "code"
    pagination_class = None


class DistrictViewSet(ScopedReadMixin, viewsets.ReadOnlyModelViewSet):
    model = District
    serializer_class = s.DistrictSerializer
    filterset_class = DistrictFilter
    lookup_field = "code"

    def get_queryset(self):
        return self.base_queryset().select_related("region")


class SettlementViewSet(ScopedReadMixin, viewsets.ReadOnlyModelViewSet):
    model = Settlement
    serializer_class = s.SettlementSerializer
    filterset_class = SettlementFilter
    lookup_field = "code"

    def get_queryset(self):
        return self.base_queryset().select_related("district")

    def get_serializer_class(self):
        return s.SettlementSerializer if self.action == "list" else s.SettlementDetailSerializer


@extend_schema_view(
    create=extend_schema(request=s.GroupInputSerializer, responses={201: s.GroupSerializer}),
    partial_update=extend_schema(request=s.GroupInputSerializer, responses=s.GroupSerializer),
    update=extend_schema(request=s.GroupInputSerializer, responses=s.GroupSerializer),
)
class GroupViewSet(ScopedWriteViewSet):
    model = Group
    serializer_class = s.GroupSerializer
    filterset_class = GroupFilter

    def get_queryset(self):
        return (
            self.base_queryset()
            .select_related("district", "settlement", "leader", "inspector")
            .annotate(member_count=Count("memberships", filter=Q(memberships__left_on=None)))
            .order_by("district__code", "name", "pk")
        )

    def _output(self, group, code=status.HTTP_200_OK):
        return Response(s.GroupSerializer(self.get_queryset().get(pk=group.pk)).data, status=code)

    def create(self, request, *args, **kwargs):
        _may_create_or_deny(request.user)
        data = s.GroupInputSerializer(data=request.data, context={"request": request})
        data.is_valid(raise_exception=True)
        group = roster.group_create(by=request.user, **data.validated_data)
        return self._output(group, status.HTTP_201_CREATED)

    def update(self, request, *args, **kwargs):
        group = self.get_object()
        data = s.GroupInputSerializer(data=request.data, context={"request": request}, partial=True)
        data.is_valid(raise_exception=True)
        changes = {key: value for key, value in data.validated_data.items() if key in request.data}
        if "district" in changes and changes.pop("district") != group.district:
            raise PermissionDenied(_("A group cannot move to another district."))
        group = roster.group_update(group=group, by=request.user, **changes)
        return self._output(group)

    @extend_schema(responses=s.VolunteerSerializer(many=True))
    @action(detail=True, methods=["get"], filter_backends=[])
    def members(self, request, pk=None):
        """The group's current roster (personal data masked as for the volunteers list)."""
        group = self.get_object()
        volunteers = (
            Volunteer.objects.visible_to(request.user)
            .filter(memberships__group=group, memberships__left_on=None)
            .select_related("district")
            .prefetch_related(_active_memberships())
            .distinct()
        )
        page = self.paginate_queryset(volunteers)
        serializer = s.VolunteerSerializer(page, many=True, context=self.get_serializer_context())
        return self.get_paginated_response(serializer.data)

    @extend_schema(request=s.MembershipInputSerializer, responses={201: s.GroupSerializer})
    @action(detail=True, methods=["post"], url_path="add-member")
    def add_member(self, request, pk=None):
        group = self.get_object()
        data = s.MembershipInputSerializer(data=request.data, context={"request": request})
        data.is_valid(raise_exception=True)
        roster.membership_add(
            volunteer=data.validated_data["volunteer"],
            group=group,
            by=request.user,
            joined_on=data.validated_data.get("date"),
        )
        return self._output(group, status.HTTP_201_CREATED)

    @extend_schema(request=s.MembershipInputSerializer, responses=s.GroupSerializer)
    @action(detail=True, methods=["post"], url_path="remove-member")
    def remove_member(self, request, pk=None):
        group = self.get_object()
        data = s.MembershipInputSerializer(data=request.data, context={"request": request})
        data.is_valid(raise_exception=True)
        roster.membership_end(
            volunteer=data.validated_data["volunteer"],
            group=group,
            by=request.user,
            left_on=data.validated_data.get("date"),
        )
        return self._output(group)


def _active_memberships() -> Prefetch:
    return Prefetch(
        "memberships", queryset=Membership.objects.filter(left_on=None).select_related("group").order_by("group__name")
    )


def _lifecycle_move(name: str, service, serializer_class, doc: str | None = None, url_path: str | None = None):
    """A POST action on one volunteer that runs one roster lifecycle service with the input its serializer checks."""

    def move(self, request, pk=None):
        return self._step(service, serializer_class)

    move.__name__ = move.__qualname__ = name
    move.__doc__ = doc
    move = action(detail=True, methods=["post"], url_path=url_path)(move)
    return extend_schema(request=serializer_class, responses=s.VolunteerSerializer)(move)


@extend_schema_view(
    create=extend_schema(request=s.VolunteerCreateSerializer, responses={201: s.VolunteerSerializer}),
    partial_update=extend_schema(request=s.VolunteerUpdateSerializer, responses=s.VolunteerSerializer),
    update=extend_schema(request=s.VolunteerUpdateSerializer, responses=s.VolunteerSerializer),
)
class VolunteerViewSet(ScopedWriteViewSet):
    """Volunteers in scope; the registration lifecycle as actions (vet, register, refuse, suspend, ...)."""

    model = Volunteer
    serializer_class = s.VolunteerSerializer
    filterset_class = VolunteerFilter

    def get_queryset(self):
        return self.base_queryset().select_related("district").prefetch_related(_active_memberships())

    def _output(self, volunteer, code=status.HTTP_200_OK):
        fresh = self.get_queryset().get(pk=volunteer.pk)
        return Response(s.VolunteerSerializer(fresh, context=self.get_serializer_context()).data, status=code)

    def _managed_object(self):
        return self.get_object()

    def _input(self, serializer_class):
        data = serializer_class(data=self.request.data, context={"request": self.request})
        data.is_valid(raise_exception=True)
        return data.validated_data

    def _step(self, service, serializer_class):
        """One lifecycle move: the volunteer must be manageable, the input valid; the service does the rest."""
        volunteer = self._managed_object()
        return self._output(service(volunteer=volunteer, by=self.request.user, **self._input(serializer_class)))

    def create(self, request, *args, **kwargs):
        _may_create_or_deny(request.user)
        data = self._input(s.VolunteerCreateSerializer)
        data.pop("consent")
        volunteer = roster.volunteer_apply(by=request.user, **data)
        return self._output(volunteer, status.HTTP_201_CREATED)

    def update(self, request, *args, **kwargs):
        volunteer = self._managed_object()
        data = self._input(s.VolunteerUpdateSerializer)
        volunteer = roster.volunteer_update(volunteer=volunteer, by=request.user, **data)
        return self._output(volunteer)

    vet = _lifecycle_move("vet", roster.volunteer_vet, s.VetSerializer, "The police check of records passed.")
    register = _lifecycle_move(
        "register",
        roster.volunteer_register,
        s.RegisterSerializer,
        "The akimat registered the volunteer (number and date).",
    )
    refuse = _lifecycle_move("refuse", roster.volunteer_refuse, s.ReasonSerializer)
    suspend = _lifecycle_move("suspend", roster.volunteer_suspend, s.ReasonSerializer)
    reinstate = _lifecycle_move("reinstate", roster.volunteer_reinstate, s.NoteSerializer)
    retire = _lifecycle_move("retire", roster.volunteer_retire, s.NoteSerializer)
    issue_documents = _lifecycle_move(
        "issue_documents",
        roster.volunteer_issue_documents,
        s.DocumentsSerializer,
        "Record the ID card and badge numbers of a registered volunteer.",
        url_path="issue-documents",
    )

    @extend_schema(responses=s.StatusChangeSerializer(many=True))
    @action(detail=True, methods=["get"], filter_backends=[], pagination_class=None)
    def history(self, request, pk=None):
        """Who moved the volunteer through the lifecycle, and when."""
        volunteer = self.get_object()
        changes = volunteer.status_changes.select_related("by")
        return Response(s.StatusChangeSerializer(changes, many=True).data)

    @extend_schema(parameters=ledger_api.PERIOD_PARAMETERS, responses=ledger_api.LedgerSerializer)
    @action(detail=True, methods=["get"], filter_backends=[], pagination_class=None)
    def ledger(self, request, pk=None):
        """The volunteer's verified service over a period (this year so far by default), by whole months, with the
        rewards granted for its quarters."""
        volunteer = get_object_or_404(self.base_queryset(), pk=pk)
        return Response(ledger_api.ledger_answer(volunteer, *ledger_api.period_from(request.query_params)))


def _may_plan_or_deny(user) -> None:
    if not can_manage_people(user):
        raise PermissionDenied(_("Only the district's inspector can plan patrols."))


class ZonePagination(GeoJsonPagination):
    """Pages of a FeatureCollection (`count`, `next`, `previous`, `features`)."""

    max_page_size = 500

    def get_paginated_response_schema(self, schema):
        # `schema` already describes the FeatureCollection; the page adds its counters beside `features`.
        page = super(GeoJsonPagination, self).get_paginated_response_schema(schema)
        counters = {key: value for key, value in page["properties"].items() if key != "results"}
        return {"allOf": [schema, {"type": "object", "required": ["count"], "properties": counters}]}


@extend_schema_view(
    create=extend_schema(request=s.ZoneInputSerializer, responses={201: s.ZoneSerializer}),
    partial_update=extend_schema(request=s.ZoneInputSerializer, responses=s.ZoneSerializer),
    update=extend_schema(request=s.ZoneInputSerializer, responses=s.ZoneSerializer),
)
class ZoneViewSet(ScopedWriteViewSet):
    """Patrol zones and routes as GeoJSON; the district's inspector draws, changes and archives them."""

    model = Zone
    serializer_class = s.ZoneSerializer
    filterset_class = ZoneFilter
    pagination_class = ZonePagination

    def get_queryset(self):
        return self.base_queryset().select_related("district").order_by("district__code", "name", "pk")

    def filter_queryset(self, queryset):
        queryset = super().filter_queryset(queryset)
        if self.action == "list" and "archived" not in self.request.query_params:
            queryset = queryset.filter(is_archived=False)
        return queryset

    def _output(self, zone, code=status.HTTP_200_OK) -> Response:
        return Response(s.ZoneSerializer(self.get_queryset().get(pk=zone.pk)).data, status=code)

    def _input(self, *, partial: bool = False):
        data = s.ZoneInputSerializer(data=self.request.data, context={"request": self.request}, partial=partial)
        data.is_valid(raise_exception=True)
        return {key: value for key, value in data.validated_data.items() if not partial or key in self.request.data}

    def create(self, request, *args, **kwargs):
        _may_plan_or_deny(request.user)
        zone = scheduling.zone_create(by=request.user, **self._input())
        return self._output(zone, status.HTTP_201_CREATED)

    def update(self, request, *args, **kwargs):
        zone = self.get_object()
        changes = self._input(partial=True)
        if "district" in changes and changes.pop("district") != zone.district:
            raise PermissionDenied(_("A zone cannot move to another district."))
        return self._output(scheduling.zone_update(zone=zone, by=request.user, **changes))

    @extend_schema(request=None, responses=s.ZoneSerializer)
    @action(detail=True, methods=["post"])
    def archive(self, request, pk=None):
        """Archive a zone: it stays on past shifts, new shifts cannot use it."""
        zone = self.get_object()
        return self._output(scheduling.zone_archive(zone=zone, by=request.user))


def _volunteer_first_page(request) -> list[dict] | None:
    """The rows of `?open=1` or `?mine=1&from=<date or moment>` asked by a volunteer (selectors.schedule), or
    None for any other list."""
    volunteer = scoped_as_volunteer(request.user)
    asked = request.query_params.dict()
    if volunteer is None:
        return None
    if asked == {"open": "1"}:
        return open_shifts_first_page(volunteer, timezone.now())
    if asked.keys() == {"mine", "from"} and asked["mine"] == "1":
        after = window_start(asked["from"])
        return None if after is None else own_shifts_first_page(volunteer, after)
    return None


def _may_act_for_or_deny(*, shift: Shift, volunteer: Volunteer, user) -> None:
    """Oneself, a leader for their group's members, the district's keeper for anyone; others may only look."""
    if not may_act_for(user, volunteer, district_id=shift.district_id):
        raise PermissionDenied(_("You cannot change this volunteer's shifts."))


def _police_or_deny(user) -> None:
    if not is_police(user):
        raise PermissionDenied(_("The shift's history is kept for the police."))


@extend_schema_view(
    create=extend_schema(request=s.ShiftInputSerializer, responses={201: s.ShiftSerializer}),
    partial_update=extend_schema(request=s.ShiftInputSerializer, responses=s.ShiftSerializer),
    update=extend_schema(request=s.ShiftInputSerializer, responses=s.ShiftSerializer),
)
class ShiftViewSet(ScopedWriteViewSet):
    """Patrol shifts in scope; sign-up, check-in and check-out, attendance and history as actions."""

    model = Shift
    # A volunteer's own moves: the scheduling and attendance services decide who may make them.
    reader_actions = frozenset({"signup", "cancel_signup", "check_in", "check_out"})
    serializer_class = s.ShiftSerializer
    filterset_class = ShiftFilter

    def get_queryset(self):
        if self.action in self.reader_actions:
            # A volunteer's own move looks the shift up in scope only; the service locks and counts it itself.
            return self.base_queryset()
        return shifts_with_staffing(self.base_queryset(), self.request.user)

    def list(self, request, *args, **kwargs):
        rows = _volunteer_first_page(request)
        if rows is not None and len(rows) < self.paginator.page_size:
            # What a volunteer's phone asks most, its query built once. A full page, which needs a count and a link
            # to the next, is left to the general way below.
            data = self.get_serializer(attach_staffing(rows, request.user), many=True).data
            return first_page_response(request, data, len(rows))
        # The page as plain values first, then its staffing in one plain query (selectors.schedule).
        shifts = self.filter_queryset(shift_rows(self.base_queryset()))
        page = self.paginate_queryset(shifts)
        rows = attach_staffing(list(shifts if page is None else page), request.user)
        data = self.get_serializer(rows, many=True).data
        return Response(data) if page is None else self.get_paginated_response(data)

    def get_object(self):
        if self.action not in self.reader_actions:
            return super().get_object()
        # A volunteer's own move (the most frequent write there is) looks the shift up in scope and nothing else.
        try:
            pk = int(self.kwargs["pk"])
        except ValueError:
            raise Http404 from None
        # Beyond a bigint no row has the id (and PostgreSQL would refuse the number).
        shift = shift_in_scope(self.request.user, pk) if 0 < pk < 2**63 else None
        if shift is None:
            raise Http404
        self.check_object_permissions(self.request, shift)
        return shift

    def _output(self, shift, code=status.HTTP_200_OK) -> Response:
        fresh = self.get_queryset().get(pk=shift.pk)
        return Response(s.ShiftSerializer(fresh, context=self.get_serializer_context()).data, status=code)

    def _input(self, serializer_class, **kwargs):
        data = serializer_class(data=self.request.data, context={"request": self.request}, **kwargs)
        data.is_valid(raise_exception=True)
        return data.validated_data

    def _managed_object(self):
        return self.get_object()

    def _assignment_output(self, assignment, code=status.HTTP_200_OK) -> Response:
        return Response(s.AttendanceSerializer.row(assignment_as_answered(assignment.pk)), status=code)

    def _volunteer(self, shift):
        """The volunteer the request is about: the one named, else the requester's own profile."""
        volunteer = self._input(s.VolunteerChoiceSerializer).get("volunteer")
        if volunteer is None:
            volunteer = getattr(self.request.user, "volunteer", None)
        if volunteer is None:
            if Shift.objects.manageable_by(self.request.user).filter(pk=shift.pk).exists():
                raise ValidationError({"volunteer": [_("Choose the volunteer.")]})
            raise PermissionDenied(_("Only volunteers sign up for shifts."))
        _may_act_for_or_deny(shift=shift, volunteer=volunteer, user=self.request.user)
        return volunteer

    def _current_assignment(self, shift, volunteer):
        assignment = current_assignment(shift, volunteer)
        if assignment is None:
            raise ValidationError({"volunteer": [_("This volunteer is not on this shift.")]})
        return assignment

    def create(self, request, *args, **kwargs):
        _may_plan_or_deny(request.user)
        shift = scheduling.shift_create(by=request.user, **self._input(s.ShiftInputSerializer))
        return self._output(shift, status.HTTP_201_CREATED)

    def update(self, request, *args, **kwargs):
        shift = self._managed_object()
        data = self._input(s.ShiftInputSerializer, partial=True)
        changes = {key: value for key, value in data.items() if key in request.data}
        return self._output(scheduling.shift_update(shift=shift, by=request.user, **changes))

    @extend_schema(request=s.ReasonSerializer, responses=s.ShiftSerializer)
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        """Cancel the shift; everyone on it or waiting is released and told the reason."""
        shift = self._managed_object()
        data = self._input(s.ReasonSerializer)
        return self._output(scheduling.shift_cancel(shift=shift, by=request.user, reason=data["reason"]))

    @extend_schema(request=s.VolunteerChoiceSerializer, responses={201: s.AttendanceSerializer})
    @action(detail=True, methods=["post"], throttle_classes=[SignupThrottle])
    def signup(self, request, pk=None):
        """Take a seat, or a place on the waiting list when the shift is full."""
        shift = self.get_object()
        volunteer = self._volunteer(shift)
        assignment = scheduling.shift_signup(shift=shift, volunteer=volunteer, by=request.user)
        return self._assignment_output(assignment, status.HTTP_201_CREATED)

    @extend_schema(request=s.VolunteerChoiceSerializer, responses=s.AttendanceSerializer)
    @action(detail=True, methods=["post"], url_path="cancel-signup")
    def cancel_signup(self, request, pk=None):
        """Withdraw before the start; the first on the waiting list takes the seat."""
        shift = self.get_object()
        assignment = self._current_assignment(shift, self._volunteer(shift))
        return self._assignment_output(scheduling.shift_cancel_signup(assignment=assignment, by=request.user))

    def _position_action(self, service, serializer_class, **extra):
        shift = self.get_object()
        volunteer = getattr(self.request.user, "volunteer", None)
        if volunteer is None:
            raise PermissionDenied(_("Only the volunteer checks in, from their own phone."))
        data = self._input(serializer_class)
        point = point_from(data["lat"], data["lng"])
        assignment = self._current_assignment(shift, volunteer)
        given = {name: data[name] for name in extra if name in data}
        return self._assignment_output(
            service(assignment=assignment, by=self.request.user, point=point, accuracy_m=data.get("accuracy"), **given)
        )

    @extend_schema(request=s.PositionSerializer, responses=s.AttendanceSerializer)
    @action(detail=True, methods=["post"], url_path="check-in")
    def check_in(self, request, pk=None):
        """Check in on the spot: clean inside the zone; near it (or with a poor position after a few tries) it waits
        for the inspector's confirmation; far from it, or with a poor position, it is refused with the reason."""
        return self._position_action(attendance.shift_check_in, s.PositionSerializer)

    @extend_schema(request=s.CheckOutSerializer, responses=s.AttendanceSerializer)
    @action(detail=True, methods=["post"], url_path="check-out")
    def check_out(self, request, pk=None):
        """Check out: not before the start; before the end only with a `reason`."""
        return self._position_action(attendance.shift_check_out, s.CheckOutSerializer, reason="")

    @extend_schema(request=s.CheckInDecisionSerializer, responses=s.AttendanceSerializer)
    @action(detail=True, methods=["post"], url_path="confirm-check-in")
    def confirm_check_in(self, request, pk=None):
        """The inspector confirms a doubtful check-in (its hours count), or does not (with a `reason`)."""
        shift = self.get_object()
        data = self._input(s.CheckInDecisionSerializer)
        assignment = self._current_assignment(shift, data["volunteer"])
        if data["decision"] == "confirm":
            decided = attendance.attendance_confirm(assignment=assignment, by=request.user, note=data["reason"])
        else:
            decided = attendance.attendance_decline(assignment=assignment, by=request.user, reason=data["reason"])
        return self._assignment_output(decided)

    @extend_schema(request=s.HoursCorrectionSerializer, responses=s.AttendanceSerializer)
    @action(detail=True, methods=["post"], url_path="correct-hours")
    def correct_hours(self, request, pk=None):
        """The inspector sets a completed patrol's hours, with a reason kept in the history."""
        shift = self.get_object()
        data = self._input(s.HoursCorrectionSerializer)
        assignment = self._current_assignment(shift, data["volunteer"])
        corrected = attendance.attendance_correct_hours(
            assignment=assignment, by=request.user, minutes=round(data["hours"] * 60), reason=data["reason"]
        )
        return self._assignment_output(corrected)

    @extend_schema(methods=["get"], request=None, responses=s.AttendanceSerializer(many=True))
    @extend_schema(methods=["post"], request=s.AttendanceMarkSerializer, responses=s.AttendanceSerializer)
    @action(detail=True, methods=["get", "post"], filter_backends=[], pagination_class=None)
    def attendance(self, request, pk=None):
        """GET: the roster as far as you may see it (a volunteer sees their own row).
        POST: the inspector marks a volunteer as not come or excused."""
        shift = self.get_object()
        if request.method == "GET":
            rows = (
                Assignment.objects.visible_to(request.user)
                .filter(shift=shift)
                .select_related("volunteer")
                .order_by("created_at", "pk")
            )
            return Response(s.AttendanceSerializer(rows, many=True).data)
        data = self._input(s.AttendanceMarkSerializer)
        assignment = self._current_assignment(shift, data["volunteer"])
        marked = scheduling.attendance_mark(
            assignment=assignment, by=request.user, status=data["status"], note=data["note"]
        )
        return self._assignment_output(marked)

    @extend_schema(responses=s.ShiftEventSerializer(many=True))
    @action(detail=True, methods=["get"], filter_backends=[], pagination_class=None)
    def history(self, request, pk=None):
        """Who created, changed, cancelled, signed up or marked whom, and when (newest first)."""
        shift = self.get_object()
        _police_or_deny(request.user)
        events = shift.events.select_related("by", "volunteer")
        return Response(s.ShiftEventSerializer(events, many=True).data)


@extend_schema_view(
    create=extend_schema(request=s.ShiftSeriesInputSerializer, responses={201: s.ShiftSeriesSerializer})
)
class ShiftSeriesViewSet(
    ScopedReadMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    """Weekly rules that shifts are generated from: the police read them, the district's inspector keeps them."""

    model = ShiftSeries
    serializer_class = s.ShiftSeriesSerializer
    filterset_class = ShiftSeriesFilter

    def get_queryset(self):
        return (
            self.base_queryset()
            .select_related("district", "zone", "inspector")
            # Into the manager's cache, which the serializer's `groups` reads (a `to_attr` it never read cost a query
            # per series).
            .prefetch_related(Prefetch("groups", queryset=Group.objects.only("pk")))
            .order_by("district__code", "starts_on", "start_time", "pk")
        )

    def _output(self, series, code=status.HTTP_200_OK) -> Response:
        return Response(s.ShiftSeriesSerializer(self.get_queryset().get(pk=series.pk)).data, status=code)

    def create(self, request, *args, **kwargs):
        _may_plan_or_deny(request.user)
        data = s.ShiftSeriesInputSerializer(data=request.data, context={"request": request})
        data.is_valid(raise_exception=True)
        series = scheduling.series_create(by=request.user, **data.validated_data)
        return self._output(series, status.HTTP_201_CREATED)

    @extend_schema(request=None, responses=s.ShiftSeriesSerializer)
    @action(detail=True, methods=["post"])
    def stop(self, request, pk=None):
        """No more shifts are generated; those already generated stay."""
        series = self.get_object()
        return self._output(scheduling.series_stop(series=series, by=request.user))


class NotificationViewSet(ScopedReadMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """The signed-in user's inbox, newest first."""

    model = Notification
    # One's own inbox: marking a notification read is the reader's, whose inbox is the whole scope.
    reader_actions = frozenset({"read"})
    serializer_class = s.NotificationSerializer
    filterset_class = NotificationFilter

    def get_queryset(self):
        return self.base_queryset().select_related("user", "shift__zone")

    def list(self, request, *args, **kwargs):
        user = request.user
        if user.is_active and request.query_params.dict() == {"unread": "1"}:
            # What every phone asks when it opens: its queries built once (selectors.inbox).
            messages, size = unread_first_page(user), self.paginator.page_size
            count = len(messages) if len(messages) < size else unread_count(user)
            return first_page_response(request, self.get_serializer(messages[:size], many=True).data, count)
        return super().list(request, *args, **kwargs)

    @extend_schema(request=None, responses=s.NotificationSerializer)
    @action(detail=True, methods=["post"])
    def read(self, request, pk=None):
        notification = inbox.notification_read(notification=self.get_object(), by=request.user)
        return Response(s.NotificationSerializer(notification).data)

    @extend_schema(request=None, responses=s.ReadAllSerializer)
    @action(detail=False, methods=["post"], url_path="read-all")
    def read_all(self, request):
        return Response({"marked": inbox.notifications_read_all(by=request.user)})
