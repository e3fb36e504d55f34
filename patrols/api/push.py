"""Notifications on the phone (web push) through the API: the browser's subscription saved or removed, and the
signed-in person's subscribed browsers with the key a browser subscribes with. The rules are in `services.webpush`."""

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.permissions import SAFE_METHODS
from rest_framework.response import Response
from rest_framework.views import APIView

from ..models import PushSubscription
from ..services import webpush
from .throttles import PushThrottle


class PushKeysSerializer(serializers.Serializer):
    p256dh = serializers.CharField(max_length=200, help_text=_("The browser's public key (P-256 point, base64url)."))
    auth = serializers.CharField(max_length=64, help_text=_("The browser's authentication secret (base64url)."))


class PushSubscribeSerializer(serializers.Serializer):
    """What the browser's PushSubscription.toJSON() gives (`expirationTime` and anything else is ignored)."""

    endpoint = serializers.CharField(max_length=1000, help_text=_("The push service address of this browser."))
    keys = PushKeysSerializer()


class PushUnsubscribeSerializer(serializers.Serializer):
    endpoint = serializers.CharField(max_length=1000, help_text=_("The push service address of the browser."))


class PushSubscriptionSerializer(serializers.ModelSerializer):
    class Meta:
        model = PushSubscription
        fields = ["id", "created_at", "last_success_at", "user_agent"]


class PushSettingsSerializer(serializers.Serializer):
    public_key = serializers.CharField(
        allow_blank=True,
        help_text=_("The key browsers subscribe with (applicationServerKey, base64url); empty when push is off."),
    )
    subscriptions = PushSubscriptionSerializer(many=True, help_text=_("Your subscribed browsers, newest first."))


class PushSubscriptionsView(APIView):
    """Notifications on your phones: GET your subscribed browsers and the key to subscribe with, POST a browser's
    subscription (201 when new, 200 when it was saved before), DELETE one by its `endpoint` (204, also when it was
    not there)."""

    def get_throttles(self):
        if self.request.method in SAFE_METHODS:
            return []
        return [PushThrottle()]

    @extend_schema(responses=PushSettingsSerializer)
    def get(self, request):
        subscriptions = PushSubscription.objects.filter(user=request.user).order_by("-created_at", "-pk")
        payload = {"public_key": webpush.public_key(), "subscriptions": subscriptions}
        return Response(PushSettingsSerializer(payload).data)

    @extend_schema(
        request=PushSubscribeSerializer,
        responses={201: PushSubscriptionSerializer, 200: PushSubscriptionSerializer},
    )
    def post(self, request):
        data = PushSubscribeSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        subscription, created = webpush.subscription_save(
            user=request.user,
            endpoint=data.validated_data["endpoint"],
            p256dh=data.validated_data["keys"]["p256dh"],
            auth=data.validated_data["keys"]["auth"],
            user_agent=request.headers.get("User-Agent", ""),
        )
        return Response(
            PushSubscriptionSerializer(subscription).data,
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )

    @extend_schema(request=PushUnsubscribeSerializer, responses={204: None})
    def delete(self, request):
        data = PushUnsubscribeSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        webpush.subscription_delete(user=request.user, endpoint=data.validated_data["endpoint"])
        return Response(status=status.HTTP_204_NO_CONTENT)
