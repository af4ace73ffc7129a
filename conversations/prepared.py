"""Querysets compiled once per process, for the few reads every answer runs.

Django compiles a queryset's SQL every time it runs, and for the reply task's loads (the
question with its conversation, agent, customer and assignee; the history before it) the
compiling costs several times the query: about 1.9 ms of CPU against 0.3 ms for the
question's load (bench/replies.py, docs/scaling.md). A `PreparedQuery` compiles its
queryset once per process, with sentinel values where the real ones go, then runs that SQL
with the real values and builds the results as the ORM does: the same converters, the
same `Model.from_db`, the same select_related populators.

Only for querysets whose SQL does not depend on the values: the arguments are ints or
strings, never None (Django writes `IS NULL` for it) nor lists.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from django.db import connections
from django.db.models import Field, Model, QuerySet
from django.db.models.query import ModelIterable, ValuesListIterable, get_related_populators

M = TypeVar("M", bound=Model)

_INT_SENTINEL = -(2**61)


def _sentinel(kind: type, number: int) -> Any:
    if kind is int:
        return _INT_SENTINEL - number
    if kind is str:
        return f"\x00prepared-{number}\x00"
    raise TypeError(f"a prepared query takes int or str arguments, not {kind.__name__}")


@dataclass(frozen=True)
class _Compiled:
    alias: str
    sql: str
    params: tuple[Any, ...]
    slots: tuple[int | None, ...]  # per SQL parameter: which argument goes there (None: kept)
    converters: tuple[tuple[int, tuple[list[Callable[..., Any]], Any]], ...]
    model: type[Model] | None  # None for rows (values_list)
    init_list: tuple[str, ...] = ()
    model_slice: slice = field(default_factory=lambda: slice(0))
    populators: tuple[Any, ...] = ()


class PreparedQuery(Generic[M]):
    """`build(*sentinels)` gives the queryset; `kinds` are the arguments' types."""

    def __init__(self, build: Callable[..., QuerySet[M, Any]], *kinds: type) -> None:
        self.build = build
        self.kinds = kinds
        self._lock = threading.Lock()
        self._compiled: _Compiled | None = None

    def _compile(self) -> _Compiled:
        compiled = self._compiled
        if compiled is not None:
            return compiled
        with self._lock:
            if self._compiled is None:
                self._compiled = self._compile_now()
            return self._compiled

    def _compile_now(self) -> _Compiled:
        sentinels = [_sentinel(kind, n) for n, kind in enumerate(self.kinds)]
        queryset = self.build(*sentinels)
        iterable = queryset._iterable_class
        if iterable not in (ModelIterable, ValuesListIterable):
            raise TypeError("a prepared query is a plain queryset or a values_list")
        compiler = queryset.query.get_compiler(using=queryset.db)
        sql, params = compiler.as_sql()
        slots = tuple(sentinels.index(p) if p in sentinels else None for p in params)
        if sorted(s for s in slots if s is not None) != list(range(len(sentinels))):
            raise ValueError("each argument must appear exactly once in the SQL")
        fields = [s[0] for s in compiler.select[0 : compiler.col_count]]
        converters = tuple(compiler.get_converters(fields).items())
        if iterable is ValuesListIterable:
            return _Compiled(queryset.db, sql, tuple(params), slots, converters, None)
        klass_info = compiler.klass_info
        assert klass_info is not None
        first, last = klass_info["select_fields"][0], klass_info["select_fields"][-1] + 1
        return _Compiled(
            alias=queryset.db,
            sql=sql,
            params=tuple(params),
            slots=slots,
            converters=converters,
            model=klass_info["model"],
            init_list=tuple(f[0].target.attname for f in compiler.select[first:last]),
            model_slice=slice(first, last),
            populators=tuple(
                # Django 5.2's signature (the stubs describe a later one)
                get_related_populators(klass_info, compiler.select, queryset.db)  # type: ignore[call-arg]
            ),
        )

    def _rows(self, compiled: _Compiled, args: tuple[Any, ...]) -> list[list[Any]]:
        if len(args) != len(self.kinds):
            raise TypeError(f"expected {len(self.kinds)} arguments, got {len(args)}")
        params = [
            args[slot] if slot is not None else value
            for slot, value in zip(compiled.slots, compiled.params, strict=True)
        ]
        connection = connections[compiled.alias]
        with connection.cursor() as cursor:
            cursor.execute(compiled.sql, params)
            rows = [list(row) for row in cursor.fetchall()]
        for row in rows:
            for position, (functions, expression) in compiled.converters:
                value = row[position]
                for convert in functions:
                    value = convert(value, expression, connection)
                row[position] = value
        return rows

    def rows(self, *args: Any) -> list[tuple[Any, ...]]:
        """The values_list rows, as tuples."""
        compiled = self._compile()
        if compiled.model is not None:
            raise TypeError("rows() is for a values_list; use instances()")
        return [tuple(row) for row in self._rows(compiled, args)]

    def instances(self, *args: Any) -> list[M]:
        """The model instances, with their select_related objects."""
        compiled = self._compile()
        model = compiled.model
        if model is None:
            raise TypeError("instances() is for a plain queryset; use rows()")
        found = []
        for row in self._rows(compiled, args):
            instance = model.from_db(compiled.alias, compiled.init_list, row[compiled.model_slice])
            for populator in compiled.populators:
                populator.populate(row, instance)
            found.append(instance)
        return found  # type: ignore[return-value]


def _field(model: type[Model], name: str) -> Field[Any, Any]:
    field = model._meta.get_field(name)
    if not isinstance(field, Field) or not field.concrete:
        raise TypeError(f"{model.__name__}.{name} is not a column")
    return field


def _column(field: Field[Any, Any]) -> str:
    return str(field.column)


class PreparedUpdate:
    """`UPDATE <table> SET <fields> WHERE <pk> = %s AND <field> = %s ...`, written once per
    process and shape (which matched values are None: `IS NULL`).

    For a hot write the ORM would compile each time. Like `QuerySet.update`, it sends no
    signals and leaves `auto_now` fields alone unless they are set explicitly.
    """

    def __init__(
        self, model: type[Model], *, set_fields: tuple[str, ...], match_fields: tuple[str, ...]
    ) -> None:
        meta = model._meta
        self.table = meta.db_table
        self.pk = _field(model, meta.pk.name if meta.pk else "pk")
        self.set_fields = tuple(_field(model, name) for name in set_fields)
        self.match_fields = tuple(_field(model, name) for name in match_fields)
        self._sql: dict[tuple[str, tuple[bool, ...]], str] = {}

    def _statement(self, alias: str, nulls: tuple[bool, ...]) -> str:
        sql = self._sql.get((alias, nulls))
        if sql is None:
            quote = connections[alias].ops.quote_name
            assignments = ", ".join(f"{quote(_column(f))} = %s" for f in self.set_fields)
            conditions = [f"{quote(_column(self.pk))} = %s"]
            conditions += [
                f"{quote(_column(f))} IS NULL" if null else f"{quote(_column(f))} = %s"
                for f, null in zip(self.match_fields, nulls, strict=True)
            ]
            where = " AND ".join(conditions)
            # Identifiers from the model's own _meta; every value is a parameter.
            sql = f"UPDATE {quote(self.table)} SET {assignments} WHERE {where}"  # noqa: S608
            self._sql[(alias, nulls)] = sql
        return sql

    def run(
        self, pk: Any, values: tuple[Any, ...], match: tuple[Any, ...], *, using: str = "default"
    ) -> int:
        """Set `values` (in `set_fields` order) on the row `pk` if its `match_fields` hold
        `match`; returns how many rows changed (0 or 1)."""
        connection = connections[using]
        nulls = tuple(value is None for value in match)
        params = [
            field.get_db_prep_save(value, connection)
            for field, value in zip(self.set_fields, values, strict=True)
        ]
        params.append(self.pk.get_db_prep_value(pk, connection))
        params += [
            field.get_db_prep_value(value, connection)
            for field, value in zip(self.match_fields, match, strict=True)
            if value is not None
        ]
        with connection.cursor() as cursor:
            cursor.execute(self._statement(using, nulls), params)
            return int(cursor.rowcount)


class PreparedInsert:
    """`INSERT INTO <table> (<every column but the pk>) VALUES (...)`, written once per
    process, for a hot write the ORM would compile each time.

    Fills the instance as `save()` would (its `auto_now_add` values, its new pk) but sends
    no signals: only for models nothing listens to.
    """

    def __init__(self, model: type[Model]) -> None:
        meta = model._meta
        self.table = meta.db_table
        self.pk = _field(model, meta.pk.name if meta.pk else "pk")
        self.fields = tuple(f for f in meta.local_concrete_fields if not f.primary_key)
        self._sql: dict[str, tuple[str, bool]] = {}

    def _statement(self, alias: str) -> tuple[str, bool]:
        found = self._sql.get(alias)
        if found is None:
            connection = connections[alias]
            quote = connection.ops.quote_name
            columns = ", ".join(quote(_column(f)) for f in self.fields)
            values = ", ".join(["%s"] * len(self.fields))
            returning = bool(connection.features.can_return_columns_from_insert)
            sql = f"INSERT INTO {quote(self.table)} ({columns}) VALUES ({values})"  # noqa: S608
            if returning:
                suffix, _ = connection.ops.return_insert_columns([self.pk])  # type: ignore[attr-defined]
                sql = f"{sql} {suffix}"
            found = self._sql[alias] = (sql, returning)
        return found

    def insert(self, instance: Model, *, using: str = "default") -> None:
        """Store `instance` as a new row (IntegrityError as `save()` would raise it)."""
        connection = connections[using]
        sql, returning = self._statement(using)
        params = [
            field.get_db_prep_save(field.pre_save(instance, True), connection)
            for field in self.fields
        ]
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            if returning:
                pk = cursor.fetchone()[0]
            else:
                pk = connection.ops.last_insert_id(cursor, self.table, _column(self.pk))
        instance.pk = pk
        instance._state.adding = False
        instance._state.db = using
