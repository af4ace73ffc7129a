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
    return _scalar_problem(field, value)


def _scalar_problem(field: serializers.Field[Any, Any, Any, Any], value: Any) -> str | None:
    is_number = isinstance(value, int | float) and not isinstance(value, bool)
    checks: tuple[tuple[type | tuple[type, ...], bool, str], ...] = (
        (serializers.BooleanField, isinstance(value, bool), "Must be true or false."),
        (TEXT_FIELDS, isinstance(value, str), "Must be a string."),
        (serializers.IntegerField, is_number and isinstance(value, int), "Must be an integer."),
        (serializers.FloatField, is_number, "Must be a number."),
    )
    for kinds, fits, problem in checks:
        if isinstance(field, kinds):
            return None if fits else problem
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
