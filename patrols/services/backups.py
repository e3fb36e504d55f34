"""Backups of what must not be lost, and their restore: the PostgreSQL database (`pg_dump`, custom format) and the
uploaded files (a tar of MEDIA_ROOT), with a manifest of every table's row count and every file's SHA-256.

The row counts are taken in the very snapshot that `pg_dump` dumps, so a restore is checked against exactly what
the dump holds, even while the site is busy. A backup is written to a folder of its own under BACKUP_DIR, named
after its moment in UTC, and only appears under that name once complete; the newest BACKUP_KEEP are kept. Nothing
personal is printed or logged: only counts, sizes and the backup's folder.
"""

from __future__ import annotations

import datetime
import fcntl
import hashlib
import json
import os
import re
import shutil
import subprocess
import tarfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

import psycopg
from django.apps import apps
from django.conf import settings
from django.core.files.storage import FileSystemStorage, default_storage
from django.db import connections, models
from django.db.migrations.recorder import MigrationRecorder
from django.utils import timezone
from django.utils.translation import gettext as _
from psycopg import sql

FORMAT = 1
MANIFEST = "manifest.json"
DUMP = "database.dump"
MEDIA = "media.tar"
NAME = re.compile(r"^backup-\d{8}T\d{6}Z(-\d+)?$")
PARTIAL = ".partial"
CHUNK = 1024 * 1024
# Connection options of DATABASE_URL (`?sslmode=require`) that libpq reads, with their environment variables.
LIBPQ_OPTIONS = {
    "sslmode": "PGSSLMODE",
    "sslrootcert": "PGSSLROOTCERT",
    "sslcert": "PGSSLCERT",
    "sslkey": "PGSSLKEY",
    "connect_timeout": "PGCONNECT_TIMEOUT",
    "target_session_attrs": "PGTARGETSESSIONATTRS",
}


class BackupError(Exception):
    """A backup or a restore that cannot be done, with a message for the operator."""


@dataclass
class Backup:
    """A finished backup: its folder and what its manifest says."""

    folder: Path
    manifest: dict

    @property
    def tables(self) -> dict[str, int]:
        return self.manifest["database"]["tables"]

    @property
    def files(self) -> dict[str, str]:
        return self.manifest["media"]["files"]


@dataclass
class Comparison:
    """What differs between a backup's manifest and a restored database and folder (empty lists: all agree)."""

    tables: list[tuple[str, int, int | None]] = field(default_factory=list)
    files: list[tuple[str, str]] = field(default_factory=list)

    @property
    def agrees(self) -> bool:
        return not self.tables and not self.files


# The database


def database_settings(alias: str = "default") -> dict:
    """The connection settings of `alias`, refused unless it is PostgreSQL (SpatiaLite is a file: copy it)."""
    params = connections[alias].settings_dict
    if "postgres" not in params["ENGINE"] and "postgis" not in params["ENGINE"]:
        raise BackupError(_("Backups are made of a PostgreSQL database; the SpatiaLite demo file is copied as it is."))
    return params


def _connect(params: dict, dbname: str | None = None, **options) -> psycopg.Connection:
    """A connection of our own (not Django's, which may be inside a transaction) to `dbname` on the same server."""
    extra = {key: value for key, value in (params.get("OPTIONS") or {}).items() if key in LIBPQ_OPTIONS}
    return psycopg.connect(
        dbname=dbname or params["NAME"],
        host=params.get("HOST") or None,
        port=params.get("PORT") or None,
        user=params.get("USER") or None,
        password=params.get("PASSWORD") or None,
        **{**extra, **options},
    )


def _client(program: str, params: dict) -> tuple[str, list[str], dict]:
    """The path of a PostgreSQL client program, its connection arguments, and an environment with the password."""
    folder = settings.BACKUP_PG_BIN
    path = str(Path(folder) / program) if folder else shutil.which(program)
    if not path or not Path(path).exists():
        raise BackupError(
            _("%(program)s was not found: install the PostgreSQL client (or set BACKUP_PG_BIN).") % {"program": program}
        )
    args = []
    for option, key in (("--host", "HOST"), ("--port", "PORT"), ("--username", "USER")):
        if params.get(key):
            args += [option, str(params[key])]
    env = {**os.environ}
    # In the environment, not on the command line, where any user of the machine could read it.
    if params.get("PASSWORD"):
        env["PGPASSWORD"] = params["PASSWORD"]
    for key, variable in LIBPQ_OPTIONS.items():
        if (params.get("OPTIONS") or {}).get(key):
            env[variable] = str(params["OPTIONS"][key])
    return path, args, env


def _run(command: list[str], env: dict, what: str) -> None:
    """Run a client program; on failure, its last words (PostgreSQL's messages name objects, never row values)."""
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        tail = "\n".join(done.stderr.strip().splitlines()[-5:])
        raise BackupError(_("%(what)s failed: %(reason)s") % {"what": what, "reason": tail})


def _table_names(cursor) -> list[tuple[str, str]]:
    cursor.execute(
        "SELECT schemaname, tablename FROM pg_tables "
        "WHERE schemaname NOT IN ('pg_catalog', 'information_schema') ORDER BY schemaname, tablename"
    )
    return list(cursor.fetchall())


def table_counts(cursor) -> dict[str, int]:
    """Every table's row count, as `schema.table`, read in the cursor's transaction."""
    counts = {}
    for schema, table in _table_names(cursor):
        cursor.execute(sql.SQL("SELECT count(*) FROM {}.{}").format(sql.Identifier(schema), sql.Identifier(table)))
        counts[f"{schema}.{table}"] = cursor.fetchone()[0]
    return counts


def _file_fields() -> Iterator[tuple[type[models.Model], models.FileField]]:
    for model in apps.get_models():
        for model_field in model._meta.concrete_fields:
            if isinstance(model_field, models.FileField):
                yield model, model_field


def referenced_files(cursor) -> set[str]:
    """The stored names of every uploaded file a row refers to (report and meeting photos, protocols, rosters)."""
    names: set[str] = set()
    present = {table for _schema, table in _table_names(cursor)}
    for model, model_field in _file_fields():
        if model._meta.db_table not in present:
            continue
        cursor.execute(
            sql.SQL("SELECT {column} FROM {table} WHERE {column} <> ''").format(
                column=sql.Identifier(model_field.column), table=sql.Identifier(model._meta.db_table)
            )
        )
        names.update(name for (name,) in cursor.fetchall())
    return names


def is_empty(params: dict, dbname: str) -> bool:
    """Whether a database holds no table of ours (PostGIS's own `spatial_ref_sys` does not count)."""
    with _connect(params, dbname) as conn, conn.cursor() as cursor:
        tables = _table_names(cursor)
    return all(table in {"spatial_ref_sys"} for _schema, table in tables)


def database_exists(params: dict, dbname: str) -> bool:
    with _connect(params, "postgres") as conn, conn.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [dbname])
        return cursor.fetchone() is not None


def database_create(params: dict, dbname: str) -> None:
    """Create an empty database with PostGIS (needs a role that may create databases and the extension)."""
    try:
        with _connect(params, "postgres", autocommit=True) as conn:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(dbname)))
        with _connect(params, dbname, autocommit=True) as conn:
            conn.execute("CREATE EXTENSION IF NOT EXISTS postgis")
    except psycopg.Error as error:
        raise BackupError(
            _(
                "The database %(name)s could not be created (%(reason)s): have the database administrator create it "
                "with the postgis extension, then run the restore again."
            )
            % {"name": dbname, "reason": error.__class__.__name__}
        ) from error


def database_drop(params: dict, dbname: str) -> None:
    """Drop a database (the restore drill's copy), ending the sessions still connected to it."""
    with _connect(params, "postgres", autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(dbname)))


# Files


class _HashingReader:
    """A file read through once, for the tar and its checksum together."""

    def __init__(self, handle) -> None:
        self.handle = handle
        self.digest = hashlib.sha256()

    def read(self, size: int = -1) -> bytes:
        data = self.handle.read(size)
        self.digest.update(data)
        return data


def file_checksum(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def folder_checksums(root: Path) -> dict[str, str]:
    """Every file under `root` by its name relative to it (as the storage names it), with its SHA-256."""
    found = {}
    for path in sorted(root.rglob("*")):
        if path.is_file() and not path.is_symlink():
            found[path.relative_to(root).as_posix()] = file_checksum(path)
    return found


def _media_tar(root: Path, target: Path) -> dict[str, str]:
    """A tar of every file under `root` (already compressed photos: no gzip); returns their checksums."""
    files = {}
    with tarfile.open(target, "w", format=tarfile.PAX_FORMAT) as archive:
        for path in sorted(root.rglob("*")) if root.is_dir() else []:
            if not path.is_file() or path.is_symlink():
                continue
            name = path.relative_to(root).as_posix()
            info = archive.gettarinfo(str(path), arcname=name)
            info.uid = info.gid = 0
            info.uname = info.gname = ""
            with path.open("rb") as handle:
                reader = _HashingReader(handle)
                archive.addfile(info, reader)
            files[name] = reader.digest.hexdigest()
    return files


def _safe_name(name: str) -> str | None:
    """A member's name if it stays inside the folder it is unpacked into; None for anything else."""
    posix = PurePosixPath(name)
    if posix.is_absolute() or ".." in posix.parts or not posix.parts:
        return None
    return posix.as_posix()


def _media_untar(archive_path: Path, root: Path) -> dict[str, str]:
    """Unpack the files of a backup's tar into `root` (regular files only, never outside it); their checksums."""
    files = {}
    with tarfile.open(archive_path, "r") as archive:
        for member in archive:
            name = _safe_name(member.name)
            if not member.isfile() or name is None:
                continue
            target = root / name
            target.parent.mkdir(parents=True, exist_ok=True)
            source = archive.extractfile(member)
            digest = hashlib.sha256()
            with target.open("wb") as out:
                while chunk := source.read(CHUNK):
                    digest.update(chunk)
                    out.write(chunk)
            os.chmod(target, 0o640)
            files[name] = digest.hexdigest()
    return files


# Backups


def _lock(folder: Path):
    """One backup at a time in a folder: a second one started meanwhile (an overlapping timer) stops at once."""
    handle = (folder / ".lock").open("w")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError as error:
        handle.close()
        raise BackupError(_("Another backup is being written to this folder.")) from error
    return handle


def backups_list(folder: Path) -> list[Backup]:
    """The finished backups in `folder`, oldest first."""
    found = []
    for path in sorted(folder.iterdir()) if folder.is_dir() else []:
        if path.is_dir() and NAME.match(path.name) and (path / MANIFEST).is_file():
            found.append(Backup(folder=path, manifest=json.loads((path / MANIFEST).read_text())))
    return found


def backup_read(folder: Path) -> Backup:
    if not (folder / MANIFEST).is_file():
        raise BackupError(_("%(folder)s is not a backup (it has no manifest.json).") % {"folder": folder})
    manifest = json.loads((folder / MANIFEST).read_text())
    if manifest.get("format") != FORMAT:
        raise BackupError(_("This backup was written in a format this version does not read."))
    return Backup(folder=folder, manifest=manifest)


def _new_name(folder: Path, now: datetime.datetime) -> str:
    base = f"backup-{now.astimezone(datetime.UTC):%Y%m%dT%H%M%SZ}"
    name, number = base, 1
    while (folder / name).exists() or (folder / (name + PARTIAL)).exists():
        number += 1
        name = f"{base}-{number}"
    return name


def _applied_migrations(cursor) -> dict[str, str]:
    cursor.execute(
        sql.SQL("SELECT app, max(name) FROM {} GROUP BY app ORDER BY app").format(
            sql.Identifier(MigrationRecorder.Migration._meta.db_table)
        )
    )
    return dict(cursor.fetchall())


def _dump(params: dict, target: Path) -> dict:
    """pg_dump of the database in custom format, and the row counts and file names of the same snapshot."""
    pg_dump, args, env = _client("pg_dump", params)
    with _connect(params) as conn:
        conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
        conn.read_only = True
        with conn.cursor() as cursor:
            cursor.execute("SELECT pg_export_snapshot()")
            snapshot = cursor.fetchone()[0]
            counts = table_counts(cursor)
            names = referenced_files(cursor)
            migrations = _applied_migrations(cursor)
            # The transaction stays open until pg_dump has taken the snapshot: it dumps what was counted.
            _run(
                [pg_dump, *args, "--format=custom", f"--snapshot={snapshot}", f"--file={target}", params["NAME"]],
                env,
                _("pg_dump"),
            )
    return {"tables": counts, "referenced": names, "migrations": migrations}


def backup_make(*, folder: Path | None = None, keep: int | None = None) -> tuple[Backup, list[Path]]:
    """Write a backup into a new folder under `folder` (BACKUP_DIR), then keep the newest `keep` (BACKUP_KEEP).

    Returns the backup and the older backups that were removed.
    """
    folder = Path(folder or settings.BACKUP_DIR)
    keep = settings.BACKUP_KEEP if keep is None else keep
    if keep < 1:
        raise BackupError(_("At least one backup is kept (BACKUP_KEEP is 1 or more)."))
    params = database_settings()
    folder.mkdir(parents=True, exist_ok=True)
    os.chmod(folder, 0o700)
    lock = _lock(folder)
    try:
        # Only one backup runs at a time here: a folder still named .partial is what a crash left behind.
        for stale in folder.glob(f"backup-*{PARTIAL}"):
            shutil.rmtree(stale)
        now = timezone.now()
        name = _new_name(folder, now)
        work = folder / (name + PARTIAL)
        work.mkdir(mode=0o700)
        try:
            database = _dump(params, work / DUMP)
            local = isinstance(default_storage, FileSystemStorage)
            files = _media_tar(Path(settings.MEDIA_ROOT), work / MEDIA) if local else {}
            missing = sorted(database.pop("referenced") - set(files)) if local else []
            manifest = {
                "format": FORMAT,
                "created_at": now.isoformat(),
                "migrations": database.pop("migrations"),
                "database": {
                    "dump": DUMP,
                    "bytes": (work / DUMP).stat().st_size,
                    "sha256": file_checksum(work / DUMP),
                    "tables": database["tables"],
                },
                "media": {
                    "storage": "folder" if local else "bucket",
                    "archive": MEDIA if local else None,
                    "sha256": file_checksum(work / MEDIA) if local else None,
                    "files": files,
                    "missing": missing,
                },
            }
            (work / MANIFEST).write_text(json.dumps(manifest, indent=1, sort_keys=True))
            work.rename(folder / name)
        except BaseException:
            shutil.rmtree(work, ignore_errors=True)
            raise
        backup = Backup(folder=folder / name, manifest=manifest)
        finished = backups_list(folder)
        removed = [old.folder for old in finished[:-keep]]
        for path in removed:
            shutil.rmtree(path)
        return backup, removed
    finally:
        lock.close()


# Restore


def _check_archives(backup: Backup) -> None:
    """The dump and the tar are what the backup wrote (a copy cut short or damaged is refused before anything)."""
    pairs = [(backup.folder / DUMP, backup.manifest["database"]["sha256"])]
    if backup.manifest["media"]["archive"]:
        pairs.append((backup.folder / MEDIA, backup.manifest["media"]["sha256"]))
    for path, expected in pairs:
        if not path.is_file() or file_checksum(path) != expected:
            raise BackupError(_("%(file)s of this backup is missing or damaged.") % {"file": path.name})


def backup_compare(backup: Backup, *, database: str, media_root: Path | None) -> Comparison:
    """Compare a database and a media folder with a backup's manifest: row counts, and every file's SHA-256."""
    params = database_settings()
    with _connect(params, database) as conn, conn.cursor() as cursor:
        counts = table_counts(cursor)
    comparison = Comparison()
    for table, expected in sorted(backup.tables.items()):
        if counts.get(table) != expected:
            comparison.tables.append((table, expected, counts.get(table)))
    if media_root is not None and backup.manifest["media"]["archive"]:
        for name, expected in sorted(backup.files.items()):
            path = media_root / name
            if not path.is_file():
                comparison.files.append((name, "missing"))
            elif file_checksum(path) != expected:
                comparison.files.append((name, "different"))
    return comparison


def backup_restore(*, backup: Backup, database: str, media_root: Path | None, replace: bool = False) -> Comparison:
    """Restore a backup into the database `database` (on the configured server) and the folder `media_root`.

    The database is created when it does not exist; one that holds tables, or a folder that holds files, is refused
    unless `replace`. Returns how the result compares with the manifest.
    """
    params = database_settings()
    _check_archives(backup)
    if media_root is not None and backup.manifest["media"]["archive"]:
        media_root = Path(media_root)
        if media_root.exists() and any(media_root.iterdir()) and not replace:
            raise BackupError(
                _("The folder %(folder)s is not empty: restore into a new folder, or add --replace.")
                % {"folder": media_root}
            )
    if not database_exists(params, database):
        database_create(params, database)
    elif not is_empty(params, database) and not replace:
        raise BackupError(
            _("The database %(name)s is not empty: restore into a new database, or add --replace.") % {"name": database}
        )
    pg_restore, args, env = _client("pg_restore", params)
    options = ["--no-owner", "--no-privileges", "--no-comments", "--exit-on-error", "--single-transaction"]
    if replace:
        options += ["--clean", "--if-exists"]
    _run([pg_restore, *args, *options, f"--dbname={database}", str(backup.folder / DUMP)], env, _("pg_restore"))
    if media_root is not None and backup.manifest["media"]["archive"]:
        if replace and media_root.exists():
            shutil.rmtree(media_root)
        media_root.mkdir(parents=True, exist_ok=True)
        _media_untar(backup.folder / MEDIA, media_root)
    return backup_compare(backup, database=database, media_root=media_root)
