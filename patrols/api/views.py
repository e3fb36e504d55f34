"""API endpoints: querysets come from `scope`, writes go to `services`; nothing else happens here."""

from django.contrib.auth import authenticate
from django.db.models import Count, Prefetch, Q
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.authtoken.models import Token
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from ..models import District, Group, Membership, Region, Settlement, Volunteer
from ..scope import can_manage_people
from ..services import roster
from . import serializers as s
from .filters import DistrictFilter, GroupFilter, SettlementFilter, VolunteerFilter


class TokenView(APIView):
    """Exchange a username and password for an API token."""

    permission_classes = [AllowAny]
    authentication_classes: list = []

    @extend_schema(request=s.TokenRequestSerializer, responses={200: s.TokenResponseSerializer})
    def post(self, request):
        data = s.TokenRequestSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        user = authenticate(request, username=data.validated_data["username"], password=data.validated_data["password"])
        if user is None or not user.is_active:
            raise ValidationError({"non_field_errors": [_("The username or password is wrong.")]})
        token, _created = Token.objects.get_or_create(user=user)
        return Response({"token": token.key})


class MeView(APIView):
    """The signed-in user: roles and the scope (district and region codes)."""

    @extend_schema(responses=s.MeSerializer)
    def get(self, request):
        return Response(s.MeSerializer(request.user).data)


class ScopedReadMixin:
    """Lists and details come only from `Model.objects.visible_to(user)`: out of scope is 404."""

    model = None

    def base_queryset(self):
        return self.model.objects.visible_to(self.request.user)

    def get_queryset(self):
        return self.base_queryset()


def _may_create_or_deny(user) -> None:
    if not can_manage_people(user):
        raise PermissionDenied(_("Only the district's inspector can add to its roster."))


def _manageable_or_deny(queryset, obj, user):
    """A visible object the user may not change answers 403 (they already know it exists)."""
    if not queryset.manageable_by(user).filter(pk=obj.pk).exists():
        raise PermissionDenied(_("You can see this but not change it."))


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


@extend_schema_view(
    create=extend_schema(request=s.GroupInputSerializer, responses={201: s.GroupSerializer}),
    partial_update=extend_schema(request=s.GroupInputSerializer, responses=s.GroupSerializer),
    update=extend_schema(request=s.GroupInputSerializer, responses=s.GroupSerializer),
)
class GroupViewSet(
    ScopedReadMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
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
        _manageable_or_deny(Group.objects, group, request.user)
        data = s.GroupInputSerializer(data=request.data, context={"request": request}, partial=True)
        data.is_valid(raise_exception=True)
        changes = {key: value for key, value in data.validated_data.items() if key in request.data}
        if "district" in changes and changes.pop("district") != group.district:
            raise PermissionDenied(_("A group cannot move to another district."))
        group = roster.group_update(group=group, by=request.user, **changes)
        return self._output(group)

    @extend_schema(responses=s.VolunteerSerializer(many=True))
    @action(detail=True, methods=["get"])
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
        _manageable_or_deny(Group.objects, group, request.user)
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
        _manageable_or_deny(Group.objects, group, request.user)
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


@extend_schema_view(
    create=extend_schema(request=s.VolunteerCreateSerializer, responses={201: s.VolunteerSerializer}),
    partial_update=extend_schema(request=s.VolunteerUpdateSerializer, responses=s.VolunteerSerializer),
    update=extend_schema(request=s.VolunteerUpdateSerializer, responses=s.VolunteerSerializer),
)
class VolunteerViewSet(
    ScopedReadMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
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
        volunteer = self.get_object()
        _manageable_or_deny(Volunteer.objects, volunteer, self.request.user)
        return volunteer

    def _input(self, serializer_class):
        data = serializer_class(data=self.request.data, context={"request": self.request})
        data.is_valid(raise_exception=True)
        return data.validated_data

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

    @extend_schema(request=s.VetSerializer, responses=s.VolunteerSerializer)
    @action(detail=True, methods=["post"])
    def vet(self, request, pk=None):
        """The police check of records passed."""
        volunteer = self._managed_object()
        return self._output(roster.volunteer_vet(volunteer=volunteer, by=request.user, **self._input(s.VetSerializer)))

    @extend_schema(request=s.RegisterSerializer, responses=s.VolunteerSerializer)
    @action(detail=True, methods=["post"])
    def register(self, request, pk=None):
        """The akimat registered the volunteer (number and date)."""
        volunteer = self._managed_object()
        data = self._input(s.RegisterSerializer)
        return self._output(roster.volunteer_register(volunteer=volunteer, by=request.user, **data))

    @extend_schema(request=s.ReasonSerializer, responses=s.VolunteerSerializer)
    @action(detail=True, methods=["post"])
    def refuse(self, request, pk=None):
        volunteer = self._managed_object()
        data = self._input(s.ReasonSerializer)
        return self._output(roster.volunteer_refuse(volunteer=volunteer, by=request.user, **data))

    @extend_schema(request=s.ReasonSerializer, responses=s.VolunteerSerializer)
    @action(detail=True, methods=["post"])
    def suspend(self, request, pk=None):
        volunteer = self._managed_object()
        data = self._input(s.ReasonSerializer)
        return self._output(roster.volunteer_suspend(volunteer=volunteer, by=request.user, **data))

    @extend_schema(request=s.NoteSerializer, responses=s.VolunteerSerializer)
    @action(detail=True, methods=["post"])
    def reinstate(self, request, pk=None):
        volunteer = self._managed_object()
        data = self._input(s.NoteSerializer)
        return self._output(roster.volunteer_reinstate(volunteer=volunteer, by=request.user, **data))

    @extend_schema(request=s.NoteSerializer, responses=s.VolunteerSerializer)
    @action(detail=True, methods=["post"])
    def retire(self, request, pk=None):
        volunteer = self._managed_object()
        data = self._input(s.NoteSerializer)
        return self._output(roster.volunteer_retire(volunteer=volunteer, by=request.user, **data))

    @extend_schema(request=s.DocumentsSerializer, responses=s.VolunteerSerializer)
    @action(detail=True, methods=["post"], url_path="issue-documents")
    def issue_documents(self, request, pk=None):
        """Record the ID card and badge numbers of a registered volunteer."""
        volunteer = self._managed_object()
        data = self._input(s.DocumentsSerializer)
        return self._output(roster.volunteer_issue_documents(volunteer=volunteer, by=request.user, **data))

    @extend_schema(responses=s.StatusChangeSerializer(many=True))
    @action(detail=True, methods=["get"])
    def history(self, request, pk=None):
        """Who moved the volunteer through the lifecycle, and when."""
        volunteer = self.get_object()
        changes = volunteer.status_changes.select_related("by")
        return Response(s.StatusChangeSerializer(changes, many=True).data)
