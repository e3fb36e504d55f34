"""Settlements as the unit of prevention work: every region, district and settlement carries its KATO code (the
classifier of administrative-territorial objects) beside the app's own code, and the API shows it."""

import pytest
from django.core.exceptions import ValidationError

from patrols.models import Region
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
