"""The OpenAPI schema's error answers, documented for every operation by one rule instead of on each view.

drf-spectacular documents only the success of an operation; clients (and the fuzz test) need the errors too:
400 for input (a body, a filter, or a write the business rules refuse), 401 and 403 where a sign-in is needed,
404 where a path or a query names something (out of scope reads as not found, and so does a page past the end),
415 where a body of another media type is refused, 429 where a rate limit applies. A view's own
`@extend_schema(responses=...)` for a code wins over the rule.
"""

from django.utils.translation import gettext_lazy as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.plumbing import ResolvedComponent, build_bearer_security_scheme_object
from rest_framework import serializers
from rest_framework.permissions import AllowAny

SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}
# A wall-clock time (Almaty), as DRF writes and reads it; OpenAPI's `time` format would demand an offset (RFC 3339).
LOCAL_TIME_PATTERN = r"^([01]\d|2[0-3]):[0-5]\d(:[0-5]\d(\.\d{1,6})?)?$"


class ApiTokenScheme(OpenApiAuthenticationExtension):
    """The phones' `Authorization: Token …` header (patrols.auth.ApiTokenAuthentication), named as it always was."""

    target_class = "patrols.auth.ApiTokenAuthentication"
    name = "tokenAuth"

    def get_security_definition(self, auto_schema):
        return build_bearer_security_scheme_object(header_name="Authorization", token_prefix="Token")


class ErrorSerializer(serializers.Serializer):
    """An error that is not about particular fields."""

    detail = serializers.CharField(help_text=_("What went wrong, in the request's language."))


VALIDATION_ERROR = {
    "type": "object",
    "description": _("Field names with their messages; `non_field_errors` for the request as a whole."),
    "properties": {
        "detail": {"type": "string", "description": _("A request that could not be read at all.")},
        "non_field_errors": {"type": "array", "items": {"type": "string"}},
    },
    "additionalProperties": {
        "description": _("Messages about this field (an object for a list or nested field, by position or name)."),
        "oneOf": [{"type": "array", "items": {"type": "string"}}, {"type": "object"}, {"type": "string"}],
    },
}


class PatrolAutoSchema(AutoSchema):
    """drf-spectacular's schema with the error answers of the operation added."""

    def get_operation(self, path, path_regex, path_prefix, method, registry) -> dict | None:
        operation = super().get_operation(path, path_regex, path_prefix, method, registry)
        if operation is None:
            return None
        responses = operation["responses"]
        for code in self._error_codes(operation):
            if code not in responses:
                responses[code] = self._error_response(code)
        operation["responses"] = dict(sorted(responses.items()))
        return operation

    def _map_serializer_field(self, field, direction, bypass_extensions=False):
        schema = super()._map_serializer_field(field, direction, bypass_extensions)
        if isinstance(field, serializers.TimeField) and isinstance(schema, dict) and schema.get("format") == "time":
            del schema["format"]
            schema["pattern"] = LOCAL_TIME_PATTERN
        return schema

    def _error_codes(self, operation: dict) -> list[str]:
        parameters = operation.get("parameters", [])
        in_path = any(parameter["in"] == "path" for parameter in parameters)
        in_query = any(parameter["in"] == "query" for parameter in parameters)
        codes = []
        if self.method not in SAFE_METHODS or in_query:
            codes.append("400")
        if not all(isinstance(permission, AllowAny) for permission in self.view.get_permissions()):
            codes += ["401", "403"]
        if in_path or in_query:
            codes.append("404")
        if "requestBody" in operation:
            codes.append("415")
        if self.view.get_throttles():
            codes.append("429")
        return codes

    def _error_response(self, code: str) -> dict:
        if code == "400":
            component = ResolvedComponent(
                name="ValidationError", type=ResolvedComponent.SCHEMA, object="ValidationError", schema=VALIDATION_ERROR
            )
            self.registry.register_on_missing(component)
            return {"content": {"application/json": {"schema": component.ref}}, "description": ""}
        response = self._get_response_for_code(ErrorSerializer, code)
        if code == "429":
            response["headers"] = {
                "Retry-After": {"schema": {"type": "integer"}, "description": _("Seconds to wait before trying again.")}
            }
        return response
