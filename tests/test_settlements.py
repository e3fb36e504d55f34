"""Settlements as the unit of prevention work: every region, district and settlement carries its KATO code (the
classifier of administrative-territorial objects) beside the app's own code, and the API shows it."""

import io
import json

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.utils import translation
from openpyxl import Workbook

from patrols.models import Region, Settlement
from patrols.services.settlements import places_from_file, settlements_import
from patrols.validators import kato_of_region, validate_kato
from tests.factories import SettlementFactory

pytestmark = pytest.mark.django_db


def test_regions_carry_the_kato_code_their_iso_code_begins(api, analyst):
    assert Region.objects.get(code="KZ-19").kato == "190000000"
    assert Region.objects.get(code="KZ-75").kato == "750000000"
    assert Region.objects.filter(kato=None).count() == 0
    rows = api(analyst).get("/api/v1/regions/").json()
    assert {row["code"]: row["kato"] for row in rows}["KZ-10"] == "100000000"
    assert kato_of_region("KZ-62") == "620000000" and kato_of_region("XX") is None


@pytest.mark.parametrize("code", ["19680000", "1968000001", "19680000A", "１９６８３０１００", " 196830100"])
def test_a_kato_code_is_nine_digits(code):
    with translation.override("en"):
        with pytest.raises(ValidationError) as error:
            validate_kato(code)
        assert "9 digits" in error.value.messages[0]


def test_the_api_shows_a_settlements_kato_code_and_filters_by_district(api, inspector, district, other_district):
    ours = SettlementFactory(district=district, kato="196830100")
    SettlementFactory(district=other_district, kato="352030100")
    rows = api(inspector).get(f"/api/v1/settlements/?district={district.code}").json()["results"]
    assert [(row["code"], row["kato"]) for row in rows] == [(ours.code, "196830100")]


def test_two_places_cannot_share_a_kato_code(district):
    SettlementFactory(district=district, kato="196830100")
    twin = SettlementFactory.build(district=district, kato="196830100")
    with pytest.raises(ValidationError) as error:
        twin.full_clean()
    assert "kato" in error.value.message_dict


# The settlement import: a table or a GeoJSON file of the classifier's settlements, all or nothing.

HEADER = "kato;name_kk;name_ru;name_en;district;lat;lng\n"


@pytest.fixture
def talgar(district):
    """Our district with its KATO code; its boundary is a square of 0.2 degrees each way around (77.07, 43.87)."""
    district.kato = "196800000"
    district.save()
    return district


def table(*rows: str, header: str = HEADER) -> bytes:
    """A table as Excel saves "CSV UTF-8": with a byte order mark, semicolons, decimal commas allowed."""
    return (header + "".join(f"{row}\n" for row in rows)).encode("utf-8-sig")


def imported(data: bytes, name: str = "settlements.csv", **options):
    return settlements_import(places=places_from_file(name, data), **options)


def snapshot() -> list:
    return list(
        Settlement.objects.order_by("pk").values_list("code", "kato", "name_kk", "name_ru", "name_en", "district")
    )


def test_a_table_from_excel_creates_the_settlements_once(talgar):
    data = table(
        "196830100;Ақсу;Аксу;;KZ-19-TAL;43,90;77,10",
        "196830200;Қарабұлақ;Карабулак;Karabulak village;196800000;43.80;77.00",
    )
    first = imported(data)
    assert (sorted(first.created), first.updated, first.unchanged) == (["196830100", "196830200"], (), 0)
    aksu = Settlement.objects.get(kato="196830100")
    assert (aksu.code, aksu.name_kk, aksu.name_ru, aksu.name_en, aksu.district) == (
        "196830100",
        "Ақсу",
        "Аксу",
        "Aksu",
        talgar,
    )
    assert (round(aksu.centre.y, 2), round(aksu.centre.x, 2)) == (43.90, 77.10)
    assert Settlement.objects.get(kato="196830200").name_en == "Karabulak village"

    again = imported(data)
    assert (again.created, again.updated, again.unchanged) == ((), (), 2)
    renamed = imported(table("196830100;Ақсу ауылы;Аксу;;KZ-19-TAL;43.90;77.10"))
    assert (renamed.created, renamed.updated) == ((), ("196830100",))
    assert Settlement.objects.get(kato="196830100").name_kk == "Ақсу ауылы"


def test_an_xlsx_workbook_with_russian_headers_and_a_boundary_is_read(talgar):
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["Код КАТО", "Атауы", "Название", "Район", "Граница"])
    boundary = {"type": "Polygon", "coordinates": [[[77.0, 43.8], [77.1, 43.8], [77.1, 43.9], [77.0, 43.8]]]}
    sheet.append([196830300, "Бірлік", "Бирлик", "KZ-19-TAL", json.dumps(boundary)])
    buffer = io.BytesIO()
    workbook.save(buffer)
    result = imported(buffer.getvalue(), "settlements.xlsx")
    assert result.created == ("196830300",)
    birlik = Settlement.objects.get(kato="196830300")
    assert birlik.boundary is not None and birlik.boundary.contains(birlik.centre)
    assert birlik.name_en == "Birlik"


def test_a_geojson_file_gives_points_as_centres_and_polygons_as_boundaries(talgar):
    features = [
        {
            "type": "Feature",
            "properties": {"kato": "196830400", "name_kk": "Достық", "name_ru": "Достык", "district": "KZ-19-TAL"},
            "geometry": {"type": "Point", "coordinates": [77.05, 43.85]},
        },
        {
            "type": "Feature",
            "properties": {"kato": "196830500", "name_kk": "Береке", "name_ru": "Береке", "district": "196800000"},
            "geometry": {"type": "Polygon", "coordinates": [[[77.1, 43.9], [77.2, 43.9], [77.2, 44.0], [77.1, 43.9]]]},
        },
    ]
    data = json.dumps({"type": "FeatureCollection", "features": features}).encode()
    assert sorted(imported(data, "villages.geojson").created) == ["196830400", "196830500"]
    assert Settlement.objects.get(kato="196830400").centre.coords == (77.05, 43.85)
    assert Settlement.objects.get(kato="196830500").boundary is not None
    assert imported(data, "villages.geojson").unchanged == 2


def test_one_bad_row_refuses_the_whole_file_and_names_every_problem(talgar, other_district):
    SettlementFactory(district=other_district, kato="352030100", code="ABAY-1")
    before = snapshot()
    data = table(
        "196830100;Ақсу;Аксу;;KZ-19-TAL;43.90;77.10",
        "19683;Қысқа;Короткий;;KZ-19-TAL;43.90;77.10",
        "196830200;Жоқ;Нет;;KZ-99-XXX;43.90;77.10",
        "196830300;Алыс;Далеко;;KZ-19-TAL;55.90;30.10",
        "196830100;Қайта;Повтор;;KZ-19-TAL;43.90;77.10",
        "352030200;Басқа;Чужой;;KZ-19-TAL;43.90;77.10",
        "196830600;Шет;Край;;KZ-19-TAL;43.20;77.90",
        "352030100;Абай;Абай;;KZ-19-TAL;43.90;77.10",
        "196830700;;Без имени;;KZ-19-TAL;43.90;77.10",
    )
    with translation.override("en"), pytest.raises(ValidationError) as refused:
        imported(data)
    messages = refused.value.messages
    assert messages == [
        "Row 3: A KATO code is 9 digits, for example 196800000.",
        "Row 4: There is no district “KZ-99-XXX”.",
        "Row 5: The centre 55.9000, 30.1000 is not in Kazakhstan: check the latitude and the longitude.",
        "Row 6: The same KATO code is already in row 2.",
        "Row 7: The KATO code 352030200 is not of district Talgar District (its codes begin 1968).",
        "Row 8: The centre is outside the boundary of district Talgar District.",
        "Row 9: The KATO code 352030100 is not of district Talgar District (its codes begin 1968).",
        "Row 10: Fill in “Name in Kazakh”.",
    ]
    assert snapshot() == before


def test_the_import_does_not_move_a_settlement_to_another_district(talgar, neighbour_district):
    SettlementFactory(district=neighbour_district, kato="197030100", code="ILI-1")
    neighbour_district.kato = "197000000"
    neighbour_district.save()
    with translation.override("en"), pytest.raises(ValidationError) as refused:
        imported(table("197030100;Өзен;Озен;;KZ-19-TAL;43.90;77.10", "196830100;Ақсу;Аксу;;KZ-19-TAL;43.90;77.10"))
    assert refused.value.messages == [
        "Row 2: The KATO code 197030100 is not of district Talgar District (its codes begin 1968)."
    ]
    assert not Settlement.objects.filter(kato="196830100").exists()


def test_a_file_that_is_not_a_table_or_has_no_rows_is_refused_clearly(talgar):
    with translation.override("en"):
        for name, data, expected in (
            ("s.csv", b"\x00\x01\x02binary", "The file could not be read"),
            ("s.csv", HEADER.encode(), "The file has no settlements in it"),
            ("s.csv", b"name_kk;other\nx;y\n", "The required column “KATO code” is missing"),
            ("s.geojson", b"{not json", "The file is not valid JSON."),
            ("s.geojson", b'{"type": "Feature"}', "The file is not a GeoJSON FeatureCollection."),
        ):
            with pytest.raises(ValidationError) as refused:
                places_from_file(name, data)
            assert expected in refused.value.messages[0], (name, refused.value.messages)


def test_the_command_imports_checks_and_refuses(talgar, tmp_path):
    path = tmp_path / "settlements.csv"
    path.write_bytes(table("196830100;Ақсу;Аксу;;KZ-19-TAL;43.90;77.10"))
    out = io.StringIO()
    with translation.override("en"):
        call_command("import_settlements", str(path), "--dry-run", stdout=out)
        assert "Dry run, nothing saved: 1 created, 0 updated, 0 unchanged." in out.getvalue()
        assert not Settlement.objects.filter(kato="196830100").exists()
        call_command("import_settlements", str(path), stdout=out)
        assert Settlement.objects.filter(kato="196830100").count() == 1
        path.write_bytes(table("1968301;Ақсу;Аксу;;KZ-19-TAL;43.90;77.10"))
        err = io.StringIO()
        with pytest.raises(CommandError) as failed:
            call_command("import_settlements", str(path), stderr=err)
    assert "1 error, nothing changed" in str(failed.value)
    assert "Row 2: A KATO code is 9 digits" in err.getvalue()
