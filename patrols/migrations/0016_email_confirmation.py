from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("patrols", "0015_reasons_as_facts"),
    ]

    operations = [
        migrations.AddField(
            model_name="notificationpreference",
            name="pending_email",
            field=models.EmailField(
                blank=True, max_length=254, verbose_name="email address waiting for confirmation"
            ),
        ),
        migrations.AddField(
            model_name="notificationpreference",
            name="email_confirmation_sent_at",
            field=models.DateTimeField(blank=True, null=True, verbose_name="confirmation email asked for at"),
        ),
    ]
