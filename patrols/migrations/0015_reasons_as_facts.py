"""The app's own reasons stored as facts, not as sentences in the language of whoever acted (issue 15).

A duplicate's "Duplicate of report No. 7499." and an imported volunteer's "Imported from the file “x.csv”." were
written in the inspector's language and shown so to every reader. From now on the report's pointer
(`duplicate_of`) and a reason code with its figures (`reason`, `reason_params`) are kept, and the sentence is made
when it is read. The rows written before are converted: each sentence is recognised in any of the languages the app
speaks (built from the translated message, as it was written), its figures taken out, and the sentence removed.
Roster imports gain the choice to write the valid rows and give the others back, and its status.
"""

import re

from django.conf import settings
from django.db import migrations, models
from django.utils import translation

DUPLICATE = "Duplicate of report No. %(number)d."
IMPORTED = "Imported from the file “%(name)s”."
BATCH = 1000


def _patterns(msgid: str) -> list[re.Pattern]:
    """The sentence as every language of the app writes it, its placeholders as named groups."""
    texts = {msgid}
    for code, _name in settings.LANGUAGES:
        with translation.override(code):
            texts.add(translation.gettext(msgid))
    patterns = []
    for text in sorted(texts):
        pattern = re.escape(text)
        pattern = re.sub(r"%\\\((\w+)\\\)d", r"(?P<\1>\\d+)", pattern)
        pattern = re.sub(r"%\\\((\w+)\\\)s", r"(?P<\1>.+)", pattern)
        patterns.append(re.compile(pattern))
    return patterns


def _facts(patterns: list[re.Pattern], text: str) -> dict | None:
    for pattern in patterns:
        match = pattern.fullmatch(text.strip())
        if match:
            return match.groupdict()
    return None


def _save(model, rows: list, fields: list[str]) -> None:
    if rows:
        model.objects.bulk_update(rows, fields, batch_size=BATCH)


def forwards(apps, schema_editor):
    report_model = apps.get_model("patrols", "Report")
    event_model = apps.get_model("patrols", "ReportEvent")
    change_model = apps.get_model("patrols", "VolunteerStatusChange")
    duplicate, imported = _patterns(DUPLICATE), _patterns(IMPORTED)

    events = []
    for event in event_model.objects.filter(kind="duplicate", reason="").exclude(note="").iterator(BATCH):
        facts = _facts(duplicate, event.note)
        if facts is not None:
            event.reason, event.reason_params, event.note = "duplicate", {"number": int(facts["number"])}, ""
            events.append(event)
    _save(event_model, events, ["reason", "reason_params", "note"])

    # The report's own pointer is the fact: the sentence goes, the pointer stays.
    reports = []
    for report in report_model.objects.filter(duplicate_of__isnull=False).exclude(status_note="").iterator(BATCH):
        if _facts(duplicate, report.status_note) is not None:
            report.status_note = ""
            reports.append(report)
    _save(report_model, reports, ["status_note"])

    changes = []
    for change in change_model.objects.filter(from_status="", reason="").exclude(note="").iterator(BATCH):
        facts = _facts(imported, change.note)
        if facts is not None:
            change.reason, change.reason_params, change.note = "imported", {"name": facts["name"]}, ""
            changes.append(change)
    _save(change_model, changes, ["reason", "reason_params", "note"])


def backwards(apps, schema_editor):
    """The sentences written back in the installation's language, as they were before."""
    report_model = apps.get_model("patrols", "Report")
    event_model = apps.get_model("patrols", "ReportEvent")
    change_model = apps.get_model("patrols", "VolunteerStatusChange")
    with translation.override(settings.LANGUAGE_CODE):
        duplicate, imported = translation.gettext(DUPLICATE), translation.gettext(IMPORTED)
    events = []
    for event in event_model.objects.filter(reason="duplicate").iterator(BATCH):
        event.note = duplicate % {"number": int(event.reason_params.get("number") or 0)}
        events.append(event)
    _save(event_model, events, ["note"])
    reports = []
    for report in report_model.objects.filter(duplicate_of__isnull=False, status_note="").iterator(BATCH):
        report.status_note = duplicate % {"number": report.duplicate_of_id}
        reports.append(report)
    _save(report_model, reports, ["status_note"])
    changes = []
    for change in change_model.objects.filter(reason="imported").iterator(BATCH):
        change.note = imported % {"name": change.reason_params.get("name", "")}
        changes.append(change)
    _save(change_model, changes, ["note"])


REASONS = [("duplicate", "A duplicate of another report"), ("imported", "Imported from a roster file")]


def _reason_field():
    return models.CharField(
        blank=True, choices=REASONS, db_default="", default="", max_length=20, verbose_name="automatic reason"
    )


def _params_field():
    return models.JSONField(
        blank=True,
        db_default=models.Value({}, output_field=models.JSONField()),
        default=dict,
        verbose_name="facts of the reason",
    )


class Migration(migrations.Migration):
    dependencies = [
        ("patrols", "0014_village_figures"),
    ]

    operations = [
        migrations.AddField(model_name="reportevent", name="reason", field=_reason_field()),
        migrations.AddField(model_name="reportevent", name="reason_params", field=_params_field()),
        migrations.AddField(model_name="volunteerstatuschange", name="reason", field=_reason_field()),
        migrations.AddField(model_name="volunteerstatuschange", name="reason_params", field=_params_field()),
        migrations.AddField(
            model_name="rosterimport",
            name="import_valid_rows",
            field=models.BooleanField(
                default=False,
                help_text="Write the rows without errors and give the others back as a file to fix; otherwise all "
                "or none.",
                verbose_name="import the valid rows",
            ),
        ),
        migrations.AlterField(
            model_name="report",
            name="status_note",
            field=models.TextField(
                blank=True,
                help_text="What the inspector wrote; the app's own reasons (a duplicate) are told from the facts.",
                verbose_name="reason or question",
            ),
        ),
        migrations.AlterField(
            model_name="reportevent",
            name="note",
            field=models.TextField(blank=True, help_text="What the person wrote.", verbose_name="note"),
        ),
        migrations.AlterField(
            model_name="volunteerstatuschange",
            name="note",
            field=models.TextField(blank=True, help_text="What the person wrote.", verbose_name="note"),
        ),
        migrations.AlterField(
            model_name="rosterimport",
            name="status",
            field=models.CharField(
                choices=[
                    ("pending", "Waiting"),
                    ("running", "Checking rows"),
                    ("failed", "Rejected: errors found"),
                    ("done", "Imported"),
                    ("partial", "Partly imported: some rows to fix"),
                ],
                default="pending",
                max_length=10,
                verbose_name="status",
            ),
        ),
        migrations.RunPython(forwards, backwards),
    ]
