"""The signed-in person's phone channels through the API: their order and whether each reaches them now (the rules
are in `services.messengers`)."""

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from ..choices import INSTANT_CHANNELS
from ..services import messengers


class ChannelSerializer(serializers.Serializer):
    channel = serializers.ChoiceField(choices=list(INSTANT_CHANNELS))
    label = serializers.CharField()
    configured = serializers.BooleanField(help_text=_("Whether this installation has the channel at all."))
    reaches = serializers.BooleanField(help_text=_("Whether a message on this channel would reach you now."))


class ChannelOrderSerializer(serializers.Serializer):
    order = serializers.ListField(
        child=serializers.ChoiceField(choices=list(INSTANT_CHANNELS)),
        max_length=len(INSTANT_CHANNELS),
        help_text=_("The phone channels, first choice first; those left out follow in the usual order."),
    )


class MyChannelsView(APIView):
    """GET your phone channels in your order; PUT a new order."""

    @extend_schema(responses=ChannelSerializer(many=True))
    def get(self, request):
        return Response(ChannelSerializer(messengers.my_channels(request.user), many=True).data)

    @extend_schema(request=ChannelOrderSerializer, responses=ChannelSerializer(many=True))
    def put(self, request):
        data = ChannelOrderSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        messengers.channel_order_set(user=request.user, order=data.validated_data["order"])
        return Response(ChannelSerializer(messengers.my_channels(request.user), many=True).data)
