"""The one bulk loader of the demo and the benchmarks: rows written by COPY on PostgreSQL (bulk_create elsewhere),
many rows updated in one statement, and the id chunk a database takes in one IN (...). The demo's own rules decide
what is written; this only writes it fast.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator

from django.db import connections, router, transaction

from ..choices import ReportEventKind, ReportStatus
from ..models import Report, ReportEvent, User


def id_chunk() -> int:
    """How many ids one `IN (...)` may carry: SQLite limits a query's parameters."""
    connection = connections[router.db_for_write(Report)]
    return 900 if connection.vendor == "sqlite" else 10_000


def existing_reports(uuids: list[uuid.UUID]) -> dict[uuid.UUID, int]:
    found: dict[uuid.UUID, int] = {}
    size = id_chunk()
    for start in range(0, len(uuids), size):
        found.update(
            Report.objects.filter(client_uuid__in=uuids[start : start + size]).values_list("client_uuid", "pk")
        )
    return found


def update_rows(model, columns: list[str], rows: list[tuple]) -> None:
    """UPDATE many rows, one statement run for all (faster than `bulk_update`'s CASE over thousands of rows)."""
    if not rows:
        return
    connection = connections[router.db_for_write(model)]
    quote = connection.ops.quote_name
    fields = [model._meta.get_field(name) for name in columns]
    assignments = ", ".join(f"{quote(f.column)} = %s" for f in fields)
    sql = f"UPDATE {quote(model._meta.db_table)} SET {assignments} WHERE {quote(model._meta.pk.column)} = %s"
    prepared = [
        (*(f.get_db_prep_save(value, connection) for f, value in zip(fields, values, strict=True)), pk)
        for pk, *values in rows
    ]
    with connection.cursor() as cursor:
        cursor.executemany(sql, prepared)


def insert_rows(model, objs: list, *, keep: tuple[str, ...] = (), batch_size: int = 1000) -> None:
    """Insert new instances as `bulk_create` does (their ids are set), with the fields named in `keep` written as the
    instances hold them instead of the time of the insert (`auto_now_add`, `auto_now`).

    The rows get the ids the database would give them next and go in with the values `bulk_create` writes, without
    compiling an INSERT of thousands of placeholders: by COPY on PostgreSQL, one statement run for all on SQLite.
    Anything else (or a value that is not a plain one) goes through `bulk_create`, the kept fields put back after."""
    if not objs:
        return
    connection = connections[router.db_for_write(model)]
    if connection.vendor in ("postgresql", "sqlite") and _insert_plain_rows(connection, model, objs, keep=keep):
        return
    fields = [model._meta.get_field(name) for name in keep]
    kept = [[getattr(obj, field.attname) for field in fields] for obj in objs]
    model.objects.bulk_create(objs, batch_size=batch_size)
    if keep:
        for obj, values in zip(objs, kept, strict=True):
            for field, value in zip(fields, values, strict=True):
                setattr(obj, field.attname, value)
        rows = [(obj.pk, *values) for obj, values in zip(objs, kept, strict=True)]
        update_rows(model, [field.name for field in fields], rows)


def _insert_plain_rows(connection, model, objs: list, *, keep: tuple[str, ...]) -> bool:
    """Write the instances with ids of their own; False (nothing written, nothing changed but what `bulk_create`
    would change too) when an instance has an id already or a value needs SQL of its own (an expression, a database
    default, a geometry in another SRID): `bulk_create` then writes them."""
    opts = model._meta
    pk = opts.pk
    fields = [field for field in opts.concrete_fields if field is not pk and not field.generated]
    kept = {opts.get_field(name).attname for name in keep}
    # The SQL each value goes in with, as `bulk_create` would write it (SpatiaLite: a geometry from its text).
    placeholders = [
        field.get_placeholder(None, None, connection) if hasattr(field, "get_placeholder") else "%s" for field in fields
    ]
    steps = [
        (
            field.attname if field.attname in kept else None,
            field.pre_save,
            field.get_db_prep_save,
            field.get_placeholder if hasattr(field, "get_placeholder") else None,
            placeholder,
        )
        for field, placeholder in zip(fields, placeholders, strict=True)
    ]
    rows = []
    for obj in objs:
        if obj.pk is not None:
            return False
        obj._prepare_related_fields_for_save(operation_name="bulk_create")
        row = []
        for attname, pre_save, prepare, placeholder_for, placeholder in steps:
            value = getattr(obj, attname) if attname else pre_save(obj, True)
            if placeholder_for and placeholder_for(value, None, connection) != placeholder:
                return False
            value = prepare(value, connection)
            if hasattr(value, "resolve_expression"):
                return False
            row.append(value)
        rows.append(row)
    quote = connection.ops.quote_name
    table = quote(opts.db_table)
    columns = ", ".join(quote(field.column) for field in [pk, *fields])
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
                [opts.db_table, pk.column, len(objs)],
            )
            ids = [row[0] for row in cursor.fetchall()]
            with cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                for pk_value, row in zip(ids, rows, strict=True):
                    copy.write_row([pk_value, *row])
        else:
            # SQLite gives a new row the larger of the table's highest id and the highest it ever gave, plus one.
            cursor.execute(
                f"SELECT MAX(COALESCE((SELECT seq FROM sqlite_sequence WHERE name = %s), 0), "
                f"COALESCE((SELECT MAX({quote(pk.column)}) FROM {table}), 0))",
                [opts.db_table],
            )
            first = cursor.fetchone()[0] + 1
            ids = list(range(first, first + len(objs)))
            values = ", ".join(["%s", *placeholders])
            cursor.executemany(
                f"INSERT INTO {table} ({columns}) VALUES ({values})",
                [(pk_value, *row) for pk_value, row in zip(ids, rows, strict=True)],
            )
    for obj, pk_value in zip(objs, ids, strict=True):
        setattr(obj, pk.attname, pk_value)
        obj._state.adding = False
        obj._state.db = connection.alias
    return True


def insert_reports(rows: list[dict]) -> None:
    """Insert reports given as field values, times included: by COPY on PostgreSQL (a hundred thousand rows in
    seconds), else by `bulk_create` with the times put back (`created_at` and `updated_at` are filled on insert)."""
    connection = connections[router.db_for_write(Report)]
    if connection.vendor != "postgresql":
        reports = [Report(**row) for row in rows]
        Report.objects.bulk_create(reports, batch_size=1000)
        update_rows(
            Report,
            ["created_at", "updated_at"],
            [(report.pk, row["created_at"], row["updated_at"]) for report, row in zip(reports, rows, strict=True)],
        )
        return
    names = list(rows[0])
    fields = [Report._meta.get_field(name) for name in names]
    quote = connection.ops.quote_name
    columns = ", ".join(quote(field.column) for field in fields)
    json_columns = {index for index, field in enumerate(fields) if field.get_internal_type() == "JSONField"}
    # A point goes as EWKT text, which PostGIS reads into the geometry column.
    location = names.index("location")
    with (
        connection.cursor() as cursor,
        cursor.cursor.copy(f"COPY {quote(Report._meta.db_table)} ({columns}) FROM STDIN") as copy,
    ):
        for row in rows:
            values = list(row.values())
            for index in json_columns:
                values[index] = json.dumps(values[index], ensure_ascii=False)
            values[location] = row["location"].ewkt
            copy.write_row(values)


def copy_report_lines(columns: tuple[str, ...], lines: Iterator[str], *, chunk: int = 20_000) -> None:
    """Reports given as COPY text lines (tab-separated `columns`, ids included), by COPY, in one transaction; the id
    sequence moves past them. PostgreSQL only: for the benchmarks' millions.

    As PostgreSQL's guide to populating a database advises, the table's foreign keys and plain indexes are dropped
    for the COPY and made again after it, in the same transaction: building an index once is many times faster than
    growing it row by row, and adding a foreign key checks every row in one join. Nothing of it shows outside.
    """
    connection = connections[router.db_for_write(Report)]
    name = Report._meta.db_table
    quote = connection.ops.quote_name
    table = quote(name)
    fields = ", ".join(quote(Report._meta.get_field(field).column) for field in columns)
    with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
        cursor.execute("SET LOCAL maintenance_work_mem = '256MB'")
        cursor.execute(
            "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE conrelid = %s::regclass AND contype = 'f'",
            [name],
        )
        foreign_keys = cursor.fetchall()
        cursor.execute(
            "SELECT i.relname, pg_get_indexdef(i.oid) FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid "
            "WHERE x.indrelid = %s::regclass AND NOT EXISTS "
            "(SELECT 1 FROM pg_constraint c WHERE c.conindid = x.indexrelid AND c.contype IN ('p', 'u', 'x'))",
            [name],
        )
        indexes = cursor.fetchall()
        for constraint, _definition in foreign_keys:
            cursor.execute(f"ALTER TABLE {table} DROP CONSTRAINT {quote(constraint)}")
        for index, _definition in indexes:
            cursor.execute(f"DROP INDEX {quote(index)}")
        with cursor.cursor.copy(f"COPY {table} ({fields}) FROM STDIN") as copy:
            buffer = []
            for line in lines:
                buffer.append(line)
                if len(buffer) >= chunk:
                    copy.write("".join(buffer))
                    buffer.clear()
            if buffer:
                copy.write("".join(buffer))
        for _index, definition in indexes:
            cursor.execute(definition)
        for constraint, definition in foreign_keys:
            cursor.execute(f"ALTER TABLE {table} ADD CONSTRAINT {quote(constraint)} {definition}")
        cursor.execute(f"SELECT setval(pg_get_serial_sequence(%s, 'id'), MAX(id)) FROM {table}", [name])


def next_report_id() -> int:
    """The id the next report written by COPY takes."""
    return (Report.objects.order_by("-pk").values_list("pk", flat=True).first() or 0) + 1


def insert_report_history(first: int, last: int) -> None:
    """The history of the reports with ids from `first` to `last`, in two INSERT … SELECT statements: received (when
    it was received), then decided (its status is the event's kind) by the district's first inspector when it was
    last updated."""
    connection = connections[router.db_for_write(ReportEvent)]
    quote = connection.ops.quote_name
    event, report = ReportEvent._meta, Report._meta
    links = User.inspector_districts.through._meta
    column = {name: quote(event.get_field(name).column) for name in ("report", "kind", "from_status", "to_status")}
    column.update({name: quote(event.get_field(name).column) for name in ("note", "by", "at")})
    source = {name: quote(report.get_field(name).column) for name in ("id", "status", "status_note", "district")}
    source.update({name: quote(report.get_field(name).column) for name in ("created_at", "updated_at", "filed_by")})
    inspector = (
        f"(SELECT MIN(i.{quote(links.get_field('user').column)}) FROM {quote(links.db_table)} i "
        f"WHERE i.{quote(links.get_field('district').column)} = r.{source['district']})"
    )
    into = (
        f"INSERT INTO {quote(event.db_table)} ({column['report']}, {column['kind']}, {column['from_status']}, "
        f"{column['to_status']}, {column['note']}, {column['by']}, {column['at']})"
    )
    where = f"FROM {quote(report.db_table)} r WHERE r.{source['id']} BETWEEN %s AND %s"
    received = (
        f"{into} SELECT r.{source['id']}, %s, '', %s, '', r.{source['filed_by']}, r.{source['created_at']} {where}"
    )
    decided = (
        f"{into} SELECT r.{source['id']}, r.{source['status']}, %s, r.{source['status']}, r.{source['status_note']}, "
        f"{inspector}, r.{source['updated_at']} {where}"
    )
    with connection.cursor() as cursor:
        cursor.execute(received, [ReportEventKind.SUBMITTED, ReportStatus.SUBMITTED, first, last])
        cursor.execute(decided, [ReportStatus.SUBMITTED, first, last])
