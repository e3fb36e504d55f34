"""Querysets whose SQL is built once per process: a hot query keeps the SQL Django compiled and swaps the values in.

Django builds and compiles a queryset's SQL again on every call, and for the small queries every request makes that
costs several times what PostgreSQL spends running them: the token lookup takes 0.47 ms of the web process's CPU to
build and compile and 0.13 ms to run. A `PreparedQuery` builds its queryset once with stand-in values, finds where
each value lands among the SQL's parameters, and afterwards only puts the call's values there; the rows, their
conversions and the model instances (`select_related` included) still come from Django's own iterables, so a prepared
query answers exactly what the queryset would (tests/test_prepared.py holds it to that).

It is meant for querysets whose shape does not depend on the values. The values are named and typed where the query
is declared: `int`, `str`, `datetime.datetime`, `datetime.date`, `uuid.UUID`, `GEOSGeometry` for a WGS84 shape a
spatial lookup takes, or `list[int]` for an `__in` (its SQL is kept per power of two of the list's length). They
reach the lookups unchanged (a value the builder computes with, or a `__contains` that wraps it in `%`, is found
nowhere among the parameters), and are never booleans or None, which change the SQL itself. Such a builder fails
at its first call, with the name of the value. What Django checks while compiling (a `select_for_update` outside a
transaction, say) it checks at that first call only: the services that lock rows call them inside theirs. Off
PostgreSQL (SpatiaLite, the embedded default) the queryset is built on every call.
"""

import copy
import datetime
import itertools
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.contrib.gis.geos import GEOSGeometry, Point
from django.core.exceptions import EmptyResultSet, ImproperlyConfigured
from django.db import connections
from django.db.models import QuerySet
from django.db.models.sql.compiler import SQLCompiler

# Stand-ins no real value of this app takes: integers just under PostgreSQL's integer limit, dates two centuries on.
_FIRST_INT = 2_000_000_000
_FAR_DAY = datetime.date(2200, 1, 1)
_UNCOMPILED = object()


@dataclass(frozen=True)
class _Compiled:
    queryset: QuerySet  # built with the stand-ins; cloned for each call, never evaluated itself
    compiler: SQLCompiler  # ran `as_sql` once: its select, converters and model map are what the iterables read
    sql: str
    params: tuple
    # The conversions of the selected columns (the same for every call): Django works them out for every query.
    converters: dict
    # (parameter position, value name, index in a list value or None, how the value becomes the parameter or None)
    slots: tuple[tuple[int, str, int | None, Callable | None], ...]


class PreparedQuery:
    """A queryset built by `build(**values)`, compiled once per shape and then run with new values.

    `kinds` names each value and its type: `PreparedQuery(lambda key: Token.objects.filter(key=key), key=str)`,
    then `tokens(key="abc")` is the list the queryset would give."""

    def __init__(self, build: Callable[..., QuerySet], **kinds: Any) -> None:
        for name, kind in kinds.items():
            if kind not in _STAND_INS:
                raise ImproperlyConfigured(f"PreparedQuery value {name!r}: {kind!r} cannot be prepared")
        self.build = build
        self.kinds = kinds
        # By the lengths of the list values; None where the database is not PostgreSQL.
        self._compiled: dict[tuple, _Compiled | None] = {}
        self._lock = threading.Lock()

    def __call__(self, **values: Any) -> list:
        if values.keys() != self.kinds.keys():
            raise TypeError(f"PreparedQuery takes {sorted(self.kinds)}, not {sorted(values)}")
        lists = {name: list(values[name]) for name, kind in self.kinds.items() if kind == list[int]}
        if any(not ids for ids in lists.values()):
            # An empty `__in` is no query at all (Django answers it without SQL).
            return list(self.build(**values))
        # A list is padded with its last id to a power of two: `IN (1, 2, 2, 2)` is `IN (1, 2)`, and a query is
        # kept in seven shapes for lists up to a page of 50, not fifty.
        padded = {name: ids + ids[-1:] * (_bucket(len(ids)) - len(ids)) for name, ids in lists.items()}
        lengths = tuple(len(ids) for ids in padded.values())
        compiled = self._compiled.get(lengths, _UNCOMPILED)
        if compiled is _UNCOMPILED:
            compiled = self._compile(lengths)
        if compiled is None:
            return list(self.build(**values))
        values = {**values, **padded}
        params = list(compiled.params)
        for position, name, index, adapt in compiled.slots:
            value = values[name] if index is None else values[name][index]
            params[position] = value if adapt is None else adapt(value)
        bound = copy.copy(compiled.compiler)
        bound.connection = connections[compiled.queryset.db]
        sql = compiled.sql
        bound.as_sql = lambda *args, **kwargs: (sql, params)
        converters = compiled.converters
        bound.get_converters = lambda expressions: converters
        queryset = compiled.queryset._chain()
        queryset.query.get_compiler = lambda *args, **kwargs: bound
        return list(queryset)

    def first(self, **values: Any):
        """The first row, or None (as `QuerySet.first`, for a builder that slices or orders itself)."""
        rows = self(**values)
        return rows[0] if rows else None

    def get(self, **values: Any):
        """The one row, or the model's DoesNotExist (as `QuerySet.get` does, for a lookup by id)."""
        rows = self(**values)
        if not rows:
            model = self.build(**values).model
            raise model.DoesNotExist(f"{model._meta.object_name} matching query does not exist.")
        return rows[0]

    def _compile(self, lengths: tuple[int, ...]) -> _Compiled | None:
        counter = itertools.count()
        list_lengths = iter(lengths)
        stand_ins: dict[str, Any] = {}
        for name, kind in self.kinds.items():
            if kind == list[int]:
                stand_ins[name] = [_FIRST_INT + next(counter) for _ in range(next(list_lengths))]
            else:
                stand_ins[name] = _STAND_INS[kind](next(counter))
        queryset = self.build(**stand_ins)
        if connections[queryset.db].vendor != "postgresql":
            self._compiled[lengths] = None
            return None
        compiler = queryset.query.get_compiler(using=queryset.db)
        try:
            sql, params = compiler.as_sql()
        except EmptyResultSet as error:
            raise ImproperlyConfigured("A PreparedQuery built with stand-ins matches nothing by its shape") from error
        slots = []
        for name, value in stand_ins.items():
            for index, one in enumerate(value) if isinstance(value, list) else [(None, value)]:
                found = [(i, _adapter(param, one)) for i, param in enumerate(params) if _is_stand_in(param, one)]
                if not found or str(one) in sql:
                    raise ImproperlyConfigured(
                        f"PreparedQuery value {name!r} does not reach the SQL's parameters unchanged: pass it to a "
                        "lookup as it is (no arithmetic, no __contains), or build the queryset each time"
                    )
                slots.extend((position, name, index, adapt) for position, adapt in found)
        converters = compiler.get_converters([column[0] for column in compiler.select[0 : compiler.col_count]])
        compiled = _Compiled(
            queryset=queryset,
            compiler=compiler,
            sql=sql,
            params=tuple(params),
            converters=converters,
            slots=tuple(slots),
        )
        with self._lock:
            self._compiled[lengths] = compiled
        return compiled


def _bucket(length: int) -> int:
    """The power of two at or above `length`."""
    return 1 << (length - 1).bit_length()


def _is_stand_in(param: Any, stand_in: Any) -> bool:
    if isinstance(stand_in, GEOSGeometry):
        # A shape reaches the parameters wrapped for the database (PostGISAdapter), compared by its bytes.
        return getattr(param, "ewkb", None) == bytes(stand_in.ewkb)
    return type(param) is type(stand_in) and param == stand_in


def _adapter(param: Any, stand_in: Any) -> Callable | None:
    """How a call's value is wrapped as the stand-in was: a shape as the spatial backend wrapped it, else as is."""
    if isinstance(stand_in, GEOSGeometry):
        wrapper, geography, srid = type(param), param.geography, stand_in.srid

        def adapt(shape: GEOSGeometry):
            if shape.srid != srid:
                # Another SRID would have had the database transform it: SQL the stand-in's did not need.
                raise ImproperlyConfigured(f"A PreparedQuery takes shapes in SRID {srid}, not {shape.srid}")
            return wrapper(shape, geography=geography)

        return adapt
    return None


_STAND_INS: dict[Any, Callable[[int], Any]] = {
    int: lambda n: _FIRST_INT + n,
    str: lambda n: f"prepared stand-in {n}",
    datetime.datetime: lambda n: (
        datetime.datetime.combine(_FAR_DAY, datetime.time(), datetime.UTC) + datetime.timedelta(seconds=n)
    ),
    datetime.date: lambda n: _FAR_DAY + datetime.timedelta(days=n),
    uuid.UUID: lambda n: uuid.UUID(int=(0x5A << 120) + n),
    # A point in the Gulf of Guinea, a different one per value; a lookup's SQL is the same whatever the shape.
    GEOSGeometry: lambda n: Point(0.5 + n / 1000, 0.5, srid=4326),
    list[int]: lambda n: None,  # made per length in `_compile`
}
