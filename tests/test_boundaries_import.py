"""Boundaries from GeoJSON: good files create and update; a bad file is refused whole, with a clear message."""

import json

import pytest
from django.contrib.gis.geos import MultiPolygon, Point, Polygon
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.utils import translation

from patrols.models import District, Settlement
from patrols.services.geo import boundaries_import, geojson_parse
from tests.factories import SettlementFactory


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


def ring(lng: float, lat: float, half: float = 0.05) -> list[list[float]]:
    corners = [[lng - half, lat - half], [lng + half, lat - half], [lng + half, lat + half], [lng - half, lat + half]]
    return [*corners, corners[0]]


def feature(code=None, geometry=None, **properties) -> dict:
    if code is not None:
        properties["code"] = code
    geometry = geometry or {"type": "Polygon", "coordinates": [ring(77.25, 43.3)]}
    return {"type": "Feature", "properties": properties, "geometry": geometry}


def collection(*features) -> dict:
    return {"type": "FeatureCollection", "features": list(features)}


NEW_DISTRICT = {"name_kk": "Жаңа аудан", "name_ru": "Новый район", "name_en": "New District", "region": "KZ-19"}


def snapshot() -> list:
    """Everything an import may change, to show that a refused file changed nothing."""
    districts = [
        (d.code, d.name_en, d.centre.wkt, d.boundary.wkt if d.boundary else None) for d in District.objects.all()
    ]
    settlements = [(s.code, s.name_en, s.boundary.wkt if s.boundary else None) for s in Settlement.objects.all()]
    return districts + settlements


def test_it_updates_the_boundary_and_names_of_an_existing_district(district):
    centre = district.centre.wkt
    result = boundaries_import(
        data=collection(feature("KZ-19-TAL", name_en="Talgar District (2025)")), level="district"
    )

    assert result.created == () and result.updated == ("KZ-19-TAL",)
    district.refresh_from_db()
    assert district.name_en == "Talgar District (2025)"
    assert district.name_kk == "Талғар ауданы"
    assert district.boundary.equals(MultiPolygon(Polygon(ring(77.25, 43.3)), srid=4326))
    assert district.centre.wkt == centre


def test_it_creates_a_district_with_its_names_and_region_ignoring_any_crs(db):
    data = collection(feature("KZ-19-NEW", **NEW_DISTRICT))
    data["crs"] = {"type": "name", "properties": {"name": "http://example.invalid/should-never-be-fetched"}}

    result = boundaries_import(data=data, level="district")

    assert result.created == ("KZ-19-NEW",)
    created = District.objects.get(code="KZ-19-NEW")
    assert created.region.code == "KZ-19" and created.name_ru == "Новый район"
    assert created.boundary.srid == 4326
    assert created.boundary.contains(created.centre)


def test_it_creates_a_settlement_with_a_given_centre_from_a_multipolygon(district):
    geometry = {"type": "MultiPolygon", "coordinates": [[ring(77.1, 43.2)], [ring(77.3, 43.2)]]}
    data = collection(
        feature(
            "KZ-19-TAL-NEW",
            geometry,
            name_kk="Жаңаауыл",
            name_ru="Жанаауыл",
            name_en="Zhanaauyl",
            district="KZ-19-TAL",
            centre=[77.1, 43.2],
        )
    )

    boundaries_import(data=data, level="settlement")

    settlement = Settlement.objects.get(code="KZ-19-TAL-NEW")
    assert settlement.district == district
    assert settlement.boundary.num_geom == 2
    assert settlement.centre.equals(Point(77.1, 43.2, srid=4326))


def test_a_dry_run_checks_everything_and_saves_nothing(district):
    before = snapshot()

    result = boundaries_import(
        data=collection(feature("KZ-19-TAL"), feature("KZ-19-NEW", **NEW_DISTRICT)), level="district", dry_run=True
    )

    assert result.dry_run and result.created == ("KZ-19-NEW",) and result.updated == ("KZ-19-TAL",)
    assert snapshot() == before


def polygon(coordinates) -> dict:
    return {"type": "Polygon", "coordinates": coordinates}


BOW_TIE = [[[77.0, 43.0], [77.2, 43.2], [77.2, 43.0], [77.0, 43.2], [77.0, 43.0]]]


@pytest.mark.parametrize(
    "bad_feature, message",
    [
        ({"type": "Feature", "properties": {}, "geometry": polygon([ring(77, 43)])}, "Feature 2 has no code"),
        (feature("KZ-19-X", {"type": "Point", "coordinates": [77, 43]}), "Polygon or a MultiPolygon, not Point"),
        (feature("KZ-19-X", polygon("77,43")), "Feature 2 (KZ-19-X): a polygon's coordinates must be a list of rings"),
        (feature("KZ-19-X", polygon([[[77, 43], [77.1, 43], [77, 43]]])), "at least four positions"),
        (feature("KZ-19-X", polygon([[[77, 43], [77.1, 43], [77.1, 43.1], [77, 43.1]]])), "must end at the position"),
        (feature("KZ-19-X", polygon([[[77, 43], [77.1, "43"], [77.1, 43.1], [77, 43]]])), "a pair of numbers"),
        (feature("KZ-19-X", polygon([[[77, 43], [77.1, True], [77.1, 43.1], [77, 43]]])), "a pair of numbers"),
        (feature("KZ-19-X", polygon(BOW_TIE)), "Feature 2 (KZ-19-X): the boundary is not a valid polygon"),
        (feature("KZ-19-X", polygon([ring(43.3, 77.2)])), "is outside Kazakhstan"),
        (feature("KZ-19-X", polygon([ring(37.6, 55.7)])), "is outside Kazakhstan"),
        (feature("KZ-19-X", name_en="Only English"), "there is no district with this code"),
        (feature("KZ-19-X", **{**NEW_DISTRICT, "region": "KZ-99"}), "there is no region KZ-99"),
        (feature("KZ-19-TAL", region="KZ-35"), "is in region KZ-19, not KZ-35"),
        (feature("KZ-19-NEW"), "Feature 2 (KZ-19-NEW): the same code is already in feature 1"),
        (feature("KZ-19-X", centre=[43.3, 77.2], **NEW_DISTRICT), "the centre must be [longitude, latitude]"),
        (feature("KZ-19-X", **{**NEW_DISTRICT, "name_en": 42}), "“name_en” must be text"),
        (feature("KZ-19-X-" + "Y" * 30, **NEW_DISTRICT), "at most 20 characters"),
        ("not a feature", "Feature 2 is not a GeoJSON Feature"),
    ],
)
def test_a_bad_feature_rejects_the_whole_file_with_a_clear_message(district, bad_feature, message):
    before = snapshot()

    with pytest.raises(ValidationError) as caught:
        boundaries_import(data=collection(feature("KZ-19-NEW", **NEW_DISTRICT), bad_feature), level="district")

    assert any(message in text for text in caught.value.messages), caught.value.messages
    assert snapshot() == before


def test_it_lists_every_bad_feature_not_only_the_first(district):
    data = collection(feature("KZ-19-A", polygon(BOW_TIE)), feature("KZ-19-TAL"), feature("KZ-19-B", name_en="B"))

    with pytest.raises(ValidationError) as caught:
        boundaries_import(data=data, level="district")

    assert [text[:20] for text in caught.value.messages] == ["Feature 1 (KZ-19-A):", "Feature 3 (KZ-19-B):"]


def test_a_settlement_needs_an_existing_district(district):
    settlement = SettlementFactory(district=district, code="KZ-19-TAL-BSK")
    data = collection(
        feature("KZ-19-TAL-BSK", district="KZ-19-ILI"),
        feature("KZ-19-ZZZ-AAA", name_kk="А", name_ru="А", name_en="A", district="KZ-19-ZZZ"),
    )

    with pytest.raises(ValidationError) as caught:
        boundaries_import(data=data, level="settlement")

    assert "is in district KZ-19-TAL, not KZ-19-ILI" in caught.value.messages[0]
    assert "there is no district KZ-19-ZZZ" in caught.value.messages[1]
    settlement.refresh_from_db()
    assert settlement.boundary is None


@pytest.mark.parametrize(
    "data, message",
    [
        ({"type": "Feature", "geometry": None}, "not a GeoJSON FeatureCollection"),
        ([1, 2, 3], "not a GeoJSON FeatureCollection"),
        ({"type": "FeatureCollection", "features": {}}, "not a GeoJSON FeatureCollection"),
        ({"type": "FeatureCollection", "features": []}, "has no features"),
    ],
)
def test_a_document_that_is_not_a_feature_collection_is_refused(db, data, message):
    with pytest.raises(ValidationError, match=message):
        boundaries_import(data=data, level="district")


def test_an_unknown_level_is_refused(db):
    with pytest.raises(ValidationError, match="Unknown level"):
        boundaries_import(data=collection(feature("KZ-19-TAL")), level="region")


@pytest.mark.parametrize("raw", [b"{not json", b"\xff\xfe\x00garbage", "[1, 2,"])
def test_a_file_that_is_not_json_is_refused(raw):
    with pytest.raises(ValidationError, match="not (valid JSON|UTF-8 text)"):
        geojson_parse(raw)


def test_geojson_parse_reads_utf8_with_a_byte_order_mark():
    assert geojson_parse("\ufeff{}".encode()) == {}


def test_the_command_imports_a_good_file_and_prints_a_summary(district, tmp_path, capsys):
    path = tmp_path / "districts.geojson"
    path.write_text(json.dumps(collection(feature("KZ-19-TAL"), feature("KZ-19-NEW", **NEW_DISTRICT))))

    call_command("import_boundaries", str(path), "--level", "district")

    out = capsys.readouterr().out
    assert "Created: KZ-19-NEW" in out and "Updated: KZ-19-TAL" in out and "1 created, 1 updated." in out
    assert District.objects.filter(code="KZ-19-NEW").exists()


def test_the_command_dry_run_saves_nothing(district, tmp_path, capsys):
    path = tmp_path / "districts.geojson"
    path.write_text(json.dumps(collection(feature("KZ-19-NEW", **NEW_DISTRICT))))

    call_command("import_boundaries", str(path), "--level", "district", "--dry-run")

    assert "Dry run, nothing saved: 1 created, 0 updated." in capsys.readouterr().out
    assert not District.objects.filter(code="KZ-19-NEW").exists()


def test_the_command_lists_the_errors_and_fails(district, tmp_path, capsys):
    path = tmp_path / "districts.geojson"
    path.write_text(json.dumps(collection(feature("KZ-19-NEW", **NEW_DISTRICT), feature("KZ-19-X", polygon(BOW_TIE)))))
    before = snapshot()

    with pytest.raises(CommandError, match="was not imported: 1 error, nothing changed"):
        call_command("import_boundaries", str(path), "--level", "district")

    assert "Feature 2 (KZ-19-X): the boundary is not a valid polygon" in capsys.readouterr().err
    assert snapshot() == before


@pytest.mark.parametrize("content", [b"<kml></kml>", None])
def test_the_command_fails_on_a_file_that_is_not_json_or_missing(db, tmp_path, content):
    path = tmp_path / "districts.geojson"
    if content is not None:
        path.write_bytes(content)

    with pytest.raises(CommandError):
        call_command("import_boundaries", str(path), "--level", "district")


@pytest.mark.parametrize("command", ["import_boundaries", "seed_demo"])
def test_the_commands_explain_themselves(command, capsys):
    with pytest.raises(SystemExit):
        call_command(command, "--help")

    assert "usage:" in capsys.readouterr().out
