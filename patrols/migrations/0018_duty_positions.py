import django.contrib.gis.db.models.fields
import django.db.models.deletion
import django.utils.timezone
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("patrols", "0017_duty_units"),
    ]

    operations = [
        migrations.CreateModel(
            name="DutyConsent",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("given_at", models.DateTimeField(default=django.utils.timezone.now, verbose_name="given at")),
                ("text_version", models.CharField(max_length=20, verbose_name="consent text version")),
                ("withdrawn_at", models.DateTimeField(blank=True, null=True, verbose_name="withdrawn at")),
                (
                    "volunteer",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="duty_consent",
                        to="patrols.volunteer",
                        verbose_name="volunteer",
                    ),
                ),
            ],
            options={
                "verbose_name": "consent to share the position on duty",
                "verbose_name_plural": "consents to share the position on duty",
            },
        ),
        migrations.CreateModel(
            name="PositionPing",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("point", django.contrib.gis.db.models.fields.PointField(srid=4326, verbose_name="position")),
                ("accuracy_m", models.PositiveIntegerField(blank=True, null=True, verbose_name="accuracy (m)")),
                (
                    "recorded_at",
                    models.DateTimeField(
                        help_text="The phone's time when the position was taken.", verbose_name="recorded at"
                    ),
                ),
                ("received_at", models.DateTimeField(default=django.utils.timezone.now, verbose_name="received at")),
                ("client_uuid", models.UUIDField(verbose_name="identifier from the phone")),
                (
                    "assignment",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="positions",
                        to="patrols.assignment",
                        verbose_name="assignment",
                    ),
                ),
            ],
            options={
                "verbose_name": "position on duty",
                "verbose_name_plural": "positions on duty",
                "ordering": ["recorded_at", "id"],
                "indexes": [
                    models.Index(fields=["assignment", "-recorded_at"], name="position_track_latest"),
                    models.Index(fields=["received_at"], name="position_received"),
                ],
                "constraints": [
                    models.UniqueConstraint(fields=("assignment", "client_uuid"), name="position_once_per_client_uuid")
                ],
            },
        ),
    ]
