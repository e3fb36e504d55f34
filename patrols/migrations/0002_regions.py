"""Load Kazakhstan's 17 regions and 3 cities of republican significance (ISO 3166-2:KZ) with their centres."""

import csv
from pathlib import Path

from django.contrib.gis.geos import Point
from django.db import migrations

DATA = Path(__file__).resolve().parent.parent / "data" / "kz-regions.tsv"


def load_regions(apps, schema_editor):
    Region = apps.get_model("patrols", "Region")
    with DATA.open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle, delimiter="\t"):
            Region.objects.update_or_create(
                code=row["iso"],
                defaults={
                    "kind": row["kind"],
                    "name_kk": row["name_kk"],
                    "name_ru": row["name_ru"],
                    "name_en": row["name_en"],
                    "centre_name_kk": row["centre_kk"],
                    "centre_name_ru": row["centre_ru"],
                    "centre_name_en": row["centre_en"],
                    "centre": Point(float(row["centre_lng"]), float(row["centre_lat"]), srid=4326),
                },
            )


class Migration(migrations.Migration):
    dependencies = [("patrols", "0001_initial")]

    operations = [migrations.RunPython(load_regions, migrations.RunPython.noop)]
