"""JSON bodies taken as typed: what the schema says a field takes is what it takes.

DRF coerces on input: a CharField takes `5` as "5", a BooleanField takes "yes" or `1`, an
IntegerField takes "5". The API's schema says `string`, `boolean`, `integer`, and a client
that sends another type has a bug it should hear about, so `TypedInput` serializers refuse
such values (400 `invalid_request` naming the field) before DRF sees them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rest_framework import serializers

TEXT_FIELDS = (serializers.CharField, serializers.ChoiceField, serializers.DateTimeField)


def json_type_problem(field: serializers.Field[Any, Any, Any, Any], value: Any) -> str | None:
    """Why `value`, as decoded from JSON, is not of the type `field` declares; None if it is
    (or if `field` declares none of the types checked here)."""
    if value is None:
        return None  # allow_null decides
    if isinstance(field, serializers.ListField) and isinstance(value, list):
        return next(filter(None, (json_type_problem(field.child, item) for item in value)), None)
    if isinstance(field, serializers.DictField) and isinstance(value, dict):
        items = value.values()
        return next(filter(None, (json_type_problem(field.child, item) for item in items)), None)
    if isinstance(field, serializers.BooleanField) and not isinstance(value, bool):
        return "Must be true or false."
    if isinstance(field, TEXT_FIELDS):
        return None if isinstance(value, str) else "Must be a string."
    is_number = isinstance(value, int | float) and not isinstance(value, bool)
    if isinstance(field, serializers.IntegerField):
        return None if is_number and isinstance(value, int) else "Must be an integer."
    if isinstance(field, serializers.FloatField):
        return None if is_number else "Must be a number."
    return None


class TypedInput(serializers.Serializer[Any]):
    """A serializer whose writable fields take only values of their own JSON type (put it
    first among the bases of a ModelSerializer: `class X(TypedInput, ModelSerializer[M])`)."""

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, Mapping):
            problems = {
                name: [problem]
                for name, field in self.fields.items()
                if not field.read_only
                and name in data
                and (problem := json_type_problem(field, data[name])) is not None
            }
            if problems:
                raise serializers.ValidationError(problems)
        return super().to_internal_value(data)
