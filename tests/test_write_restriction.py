"""Writes are restricted once, in the API's base viewset: a write action added tomorrow, which forgets to check who
may change the object, still answers 403 to someone who only sees it and 404 to someone who does not."""

import pytest
from rest_framework import viewsets
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.test import APIRequestFactory, force_authenticate

from patrols.api.views import ScopedReadMixin
from patrols.models import Shift

pytestmark = pytest.mark.django_db


class CarelessViewSet(ScopedReadMixin, viewsets.GenericViewSet):
    """A new action that writes and checks nothing itself."""

    model = Shift

    @action(detail=True, methods=["post"])
    def poke(self, request, pk=None):
        shift = self.get_object()
        return Response({"poked": shift.pk})

    @action(detail=True, methods=["get"])
    def peek(self, request, pk=None):
        return Response({"seen": self.get_object().pk})


def call(user, shift, name: str, method: str = "post"):
    request = getattr(APIRequestFactory(), method)(f"/careless/{shift.pk}/{name}/")
    force_authenticate(request, user=user)
    return CarelessViewSet.as_view({method: name})(request, pk=shift.pk)


@pytest.mark.parametrize(
    "persona, status",
    [
        ("inspector", 200),
        ("admin_user", 200),
        ("chief", 403),
        ("analyst", 403),
        ("volunteer", 403),
        ("other_inspector", 404),
    ],
)
def test_a_new_write_action_cannot_skip_the_check(request, shift, persona, status):
    user = request.getfixturevalue(persona)
    assert call(user, shift, "poke").status_code == status


def test_reading_stays_for_everyone_who_sees_the_shift(chief, volunteer, shift):
    assert call(chief, shift, "peek", "get").status_code == 200
    assert call(volunteer, shift, "peek", "get").status_code == 200
