# Written for issue 16: reports escalated to the duty unit, and call-outs.

import django.contrib.gis.db.models.fields
import django.db.models.deletion
import uuid
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("patrols", "0018_duty_positions"),
    ]

    operations = [
        migrations.CreateModel(
            name="CallOut",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                (
                    "point",
                    django.contrib.gis.db.models.fields.PointField(
                        blank=True, null=True, srid=4326, verbose_name="meeting point"
                    ),
                ),
                ("place", models.CharField(max_length=200, verbose_name="place")),
                ("starts_at", models.DateTimeField(verbose_name="starts at")),
                ("ends_at", models.DateTimeField(verbose_name="ends at")),
                ("needed", models.PositiveSmallIntegerField(verbose_name="people needed")),
                (
                    "status",
                    models.CharField(
                        choices=[("open", "Waiting for people"), ("filled", "Enough people"), ("closed", "Closed")],
                        default="open",
                        max_length=10,
                        verbose_name="status",
                    ),
                ),
                ("created_at", models.DateTimeField(auto_now_add=True, verbose_name="created at")),
                (
                    "by",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="callouts",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="asked by",
                    ),
                ),
                (
                    "district",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="callouts",
                        to="patrols.district",
                        verbose_name="district",
                    ),
                ),
                (
                    "groups",
                    models.ManyToManyField(related_name="callouts", to="patrols.group", verbose_name="groups asked"),
                ),
                (
                    "shift",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="callout",
                        to="patrols.shift",
                        verbose_name="shift",
                    ),
                ),
                (
                    "zone",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="callouts",
                        to="patrols.zone",
                        verbose_name="zone",
                    ),
                ),
            ],
            options={
                "verbose_name": "call-out",
                "verbose_name_plural": "call-outs",
                "ordering": ["-starts_at", "-id"],
            },
        ),
        migrations.CreateModel(
            name="CallOutAnswer",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                (
                    "result",
                    models.CharField(
                        choices=[("assigned", "On the shift"), ("waitlisted", "On the waiting list")],
                        max_length=12,
                        verbose_name="result",
                    ),
                ),
                ("accepted_at", models.DateTimeField(auto_now_add=True, verbose_name="accepted at")),
                (
                    "assignment",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to="patrols.assignment",
                        verbose_name="assignment",
                    ),
                ),
                (
                    "callout",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="answers",
                        to="patrols.callout",
                        verbose_name="call-out",
                    ),
                ),
                (
                    "volunteer",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="callout_answers",
                        to="patrols.volunteer",
                        verbose_name="volunteer",
                    ),
                ),
            ],
            options={
                "verbose_name": "call-out answer",
                "verbose_name_plural": "call-out answers",
                "ordering": ["accepted_at", "id"],
            },
        ),
        migrations.CreateModel(
            name="Escalation",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                (
                    "reason",
                    models.CharField(
                        choices=[
                            ("crime_in_progress", "A crime in progress"),
                            ("missing_child", "A missing child"),
                            ("injured_person", "An injured person"),
                            ("other", "Other"),
                        ],
                        max_length=20,
                        verbose_name="reason",
                    ),
                ),
                ("note", models.TextField(blank=True, verbose_name="note")),
                ("key", models.UUIDField(default=uuid.uuid4, editable=False, unique=True, verbose_name="unique key")),
                (
                    "status",
                    models.CharField(
                        choices=[
                            ("pending", "Being sent to the duty unit"),
                            ("sent", "Sent to the duty unit"),
                            ("received", "Received by the duty unit"),
                            ("officer_sent", "An officer is on the way"),
                            ("closed", "Closed by the duty unit"),
                            ("failed", "Could not reach the duty unit"),
                        ],
                        default="pending",
                        max_length=12,
                        verbose_name="status",
                    ),
                ),
                ("attempts", models.PositiveSmallIntegerField(default=0, verbose_name="delivery attempts")),
                ("last_error", models.TextField(blank=True, verbose_name="last error")),
                ("next_attempt_at", models.DateTimeField(blank=True, null=True, verbose_name="next attempt at")),
                ("delivered", models.JSONField(blank=True, default=list, verbose_name="delivered by")),
                ("sent_at", models.DateTimeField(blank=True, null=True, verbose_name="first delivered at")),
                ("created_at", models.DateTimeField(auto_now_add=True, verbose_name="created at")),
                ("updated_at", models.DateTimeField(auto_now=True, verbose_name="updated at")),
                (
                    "by",
                    models.ForeignKey(
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="escalated by",
                    ),
                ),
                (
                    "report",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="escalations",
                        to="patrols.report",
                        verbose_name="report",
                    ),
                ),
                (
                    "unit",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="escalations",
                        to="patrols.dutyunit",
                        verbose_name="duty unit",
                    ),
                ),
            ],
            options={
                "verbose_name": "escalation",
                "verbose_name_plural": "escalations",
                "ordering": ["-created_at", "-id"],
            },
        ),
        migrations.CreateModel(
            name="EscalationEvent",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                (
                    "kind",
                    models.CharField(
                        choices=[
                            ("created", "Escalated"),
                            ("delivered", "Delivered"),
                            ("attempt_failed", "A delivery attempt failed"),
                            ("failed", "Gave up: the duty unit could not be reached"),
                            ("answered", "The duty unit answered"),
                        ],
                        max_length=20,
                        verbose_name="what happened",
                    ),
                ),
                (
                    "status",
                    models.CharField(
                        blank=True,
                        choices=[
                            ("pending", "Being sent to the duty unit"),
                            ("sent", "Sent to the duty unit"),
                            ("received", "Received by the duty unit"),
                            ("officer_sent", "An officer is on the way"),
                            ("closed", "Closed by the duty unit"),
                            ("failed", "Could not reach the duty unit"),
                        ],
                        max_length=12,
                        verbose_name="status",
                    ),
                ),
                ("text", models.TextField(blank=True, verbose_name="text")),
                ("at", models.DateTimeField(auto_now_add=True, verbose_name="at")),
                (
                    "by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="by",
                    ),
                ),
                (
                    "escalation",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="events",
                        to="patrols.escalation",
                        verbose_name="escalation",
                    ),
                ),
            ],
            options={
                "verbose_name": "escalation event",
                "verbose_name_plural": "escalation events",
                "ordering": ["at", "id"],
            },
        ),
        migrations.AddIndex(
            model_name="callout",
            index=models.Index(fields=["district", "status", "ends_at"], name="patrols_cal_distric_c145f1_idx"),
        ),
        migrations.AddConstraint(
            model_name="callout",
            constraint=models.CheckConstraint(
                condition=models.Q(("ends_at__gt", models.F("starts_at"))),
                name="callout_ends_after_start",
                violation_error_message="A call-out must end after it starts.",
            ),
        ),
        migrations.AddConstraint(
            model_name="callout",
            constraint=models.CheckConstraint(
                condition=models.Q(("needed__gte", 1)),
                name="callout_needs_someone",
                violation_error_message="Ask for at least one person.",
            ),
        ),
        migrations.AddConstraint(
            model_name="calloutanswer",
            constraint=models.UniqueConstraint(
                fields=("callout", "volunteer"),
                name="callout_answer_once",
                violation_error_message="This volunteer has already answered this call-out.",
            ),
        ),
        migrations.AddIndex(
            model_name="escalation",
            index=models.Index(fields=["status", "next_attempt_at"], name="patrols_esc_status_e47b4b_idx"),
        ),
        migrations.AddConstraint(
            model_name="escalation",
            constraint=models.UniqueConstraint(
                condition=models.Q(("status__in", ["pending", "sent", "received", "officer_sent"])),
                fields=("report",),
                name="one_live_escalation_per_report",
                violation_error_message="This report has already been sent to the duty unit.",
            ),
        ),
    ]
