"""Every new migration can be applied while the previous release is still serving (README: Operations, Upgrade).

django-migration-linter reads the SQL of each migration (`sqlmigrate`) and refuses what breaks the code still
running: a column or a table dropped or renamed, a NOT NULL column the old code does not fill, a column's type
changed (a rewrite under lock), a unique constraint added over existing rows. On top of its checks, on the large
tables (reports, assignments, deliveries, track points) an index built without CONCURRENTLY, a constraint checked
over all rows under lock or a SET NOT NULL is refused too: each stops writes to the table for as long as it takes.
The migrations released before this check existed are listed below with what the linter finds in them.
"""

import contextlib
import io
import re
import textwrap

import pytest
from django.conf import settings as django_settings
from django.test import override_settings
from django_migration_linter import MigrationLinter
from django_migration_linter.sql_analyser import PostgresqlAnalyser
from django_migration_linter.sql_analyser.base import Check, CheckMode, CheckType

pytestmark = pytest.mark.django_db

# Millions of rows at national scale: a lock held while they are read or rewritten stops the patrols' phones.
LARGE_TABLES = frozenset({"patrols_report", "patrols_assignment", "patrols_delivery", "patrols_positionping"})

# Released and applied on every installation before the check; a release's migrations are never edited afterwards.
# The linter is right about each: they were applied with the site stopped. A later migration that cannot be made
# safe is named here too, with its reason, and its release's notes say to stop the site for `migrate` (README:
# Operations, Upgrade).
RELEASED_EXCEPTIONS = {
    "0007_figures": "indexes reports.group_id under lock",
    "0009_attendance_rules_and_targets": "adds NOT NULL columns to assignments without a default in the database",
    "0010_api_tokens": "drops DRF's token table; adds users.credentials_version NOT NULL without a database default",
    "0011_roster_import_heartbeat": "adds roster_import.attempts NOT NULL without a database default",
    "0015_reasons_as_facts": "adds roster_import.import_valid_rows NOT NULL without a database default",
    "0016_email_confirmation": "adds notification_preference.pending_email NOT NULL without a database default",
    "0021_messengers": "adds deliveries.provider_id and indexes it under lock",
}


def _locks_a_large_table(sql_statements: list[str], **kwargs) -> bool:
    """Whether a statement blocks writes to an existing large table while it reads or rewrites all of its rows."""
    created = set()
    for statement in sql_statements:
        if made := re.match(r'CREATE TABLE "(\w+)"', statement):
            created.add(made.group(1))
        for table in LARGE_TABLES - created:
            quoted = re.escape(f'"{table}"')
            if re.match(rf"CREATE (UNIQUE )?INDEX (?!CONCURRENTLY).*\bON {quoted}", statement):
                return True
            if re.match(rf"ALTER TABLE {quoted} .*ADD CONSTRAINT", statement) and "NOT VALID" not in statement:
                return True
            if re.match(rf"ALTER TABLE {quoted} .*SET NOT NULL", statement):
                return True
    return False


class PatrolAnalyser(PostgresqlAnalyser):
    """The linter's PostgreSQL checks, and locks on our large tables as errors."""

    migration_checks = [
        *PostgresqlAnalyser.migration_checks,
        Check(
            code="LARGE_TABLE_LOCK",
            fn=_locks_a_large_table,
            message=(
                "LOCKS a large table (reports, assignments, deliveries, track points) while it reads all rows: "
                "AddIndexConcurrently, or AddConstraintNotValid then ValidateConstraint"
            ),
            mode=CheckMode.TRANSACTION,
            type=CheckType.ERROR,
        ),
    ]


def lint(app_label: str) -> dict[str, tuple[str, str]]:
    """Each migration of the app by name: the linter's verdict and what it said about it."""
    linter = MigrationLinter(include_apps=[app_label], no_cache=True, analyser_string="postgresql")
    linter.sql_analyser_class = PatrolAnalyser
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        linter.lint_all_migrations(app_label=app_label)
    verdicts: dict[str, tuple[str, str]] = {}
    name = None
    for line in out.getvalue().splitlines():
        if heading := re.match(rf"\({app_label}, (\w+)\)\.\.\. (.+)$", line):
            name = heading.group(1)
            verdicts[name] = (heading.group(2), "")
        elif name and line.startswith("\t"):
            verdicts[name] = (verdicts[name][0], verdicts[name][1] + line.strip() + "; ")
    return verdicts


def test_every_migration_since_the_check_is_safe_while_the_previous_release_serves():
    verdicts = lint("patrols")
    assert set(RELEASED_EXCEPTIONS) <= set(verdicts), "an exception names a migration that is not there"
    refused = {name: said for name, (verdict, said) in verdicts.items() if verdict.startswith("ERR")}
    new = {name: said for name, said in refused.items() if name not in RELEASED_EXCEPTIONS}
    assert not new, f"unsafe while the previous release serves (README: Operations, Upgrade): {new}"
    # The list of exceptions stays exact: nothing in it that the linter would let through anyway.
    assert set(refused) == set(RELEASED_EXCEPTIONS)


UNSAFE_APP = {
    "0001_initial.py": """
        operations = [
            migrations.CreateModel(
                "Thing",
                [
                    ("id", models.BigAutoField(primary_key=True)),
                    ("name", models.CharField(max_length=20)),
                    ("note", models.CharField(max_length=20)),
                ],
            ),
        ]
    """,
    "0002_drop_note.py": """
        operations = [migrations.RemoveField("thing", "note")]
    """,
    "0003_code_not_null.py": """
        operations = [
            migrations.AddField("thing", "code", models.CharField(max_length=8, default="x"), preserve_default=False),
        ]
    """,
    "0004_rename_name.py": """
        operations = [migrations.RenameField("thing", "name", "title")]
    """,
    "0005_reports_by_time.py": """
        operations = [
            migrations.RunSQL(
                'CREATE INDEX "reports_by_time" ON "patrols_report" ("occurred_at")',
                'DROP INDEX "reports_by_time"',
            ),
        ]
    """,
    "0006_safe_column.py": """
        operations = [migrations.AddField("thing", "colour", models.CharField(max_length=8, db_default=""))]
    """,
    "0007_reports_by_time_concurrently.py": """
        atomic = False
        operations = [
            migrations.RunSQL(
                'CREATE INDEX CONCURRENTLY "reports_by_time" ON "patrols_report" ("occurred_at")',
                'DROP INDEX CONCURRENTLY "reports_by_time"',
            ),
        ]
    """,
}


@pytest.fixture
def unsafe_app(tmp_path, monkeypatch):
    """An app of its own whose migrations do what a release must not do (and two things it may)."""
    package = tmp_path / "unsafe_app"
    (package / "migrations").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "migrations" / "__init__.py").write_text("")
    previous = None
    for name, body in UNSAFE_APP.items():
        depends = f"[('unsafe_app', '{previous}')]" if previous else "[]"
        (package / "migrations" / name).write_text(
            "from django.db import migrations, models\n\n\nclass Migration(migrations.Migration):\n"
            f"    dependencies = {depends}\n" + textwrap.indent(textwrap.dedent(body), "    ")
        )
        previous = name.removesuffix(".py")
    monkeypatch.syspath_prepend(str(tmp_path))
    with override_settings(INSTALLED_APPS=[*django_settings.INSTALLED_APPS, "unsafe_app"]):
        yield "unsafe_app"


def test_a_migration_that_breaks_the_running_release_is_caught(unsafe_app):
    verdicts = lint(unsafe_app)
    assert {name: verdict for name, (verdict, _said) in verdicts.items()} == {
        "0001_initial": "OK",
        "0002_drop_note": "ERR",
        "0003_code_not_null": "ERR",
        "0004_rename_name": "ERR",
        "0005_reports_by_time": "ERR",
        "0006_safe_column": "OK",
        "0007_reports_by_time_concurrently": "OK",
    }
    assert "DROPPING columns" in verdicts["0002_drop_note"][1]
    assert "NOT NULL" in verdicts["0003_code_not_null"][1]
    assert "RENAMING columns" in verdicts["0004_rename_name"][1]
    assert "LOCKS a large table" in verdicts["0005_reports_by_time"][1]
