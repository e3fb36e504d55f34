"""Under /api/ every refusal is JSON, also those Django makes before a view runs."""

import pytest

pytestmark = pytest.mark.django_db


def test_a_request_with_too_many_fields_is_refused_in_json(api, inspector, settings):
    settings.DATA_UPLOAD_MAX_NUMBER_FIELDS = 100
    body = "&".join(f"ids={n}" for n in range(1, 200))
    response = api(inspector).generic(
        "POST",
        "/api/v1/reports/bulk-verify/",
        body,
        content_type="application/x-www-form-urlencoded",
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"detail": "The request could not be read: it is malformed or too large."}


def test_the_pages_keep_their_own_error_page(client, settings):
    settings.DATA_UPLOAD_MAX_NUMBER_FIELDS = 10
    body = "&".join(f"a={n}" for n in range(50))
    response = client.generic("POST", "/accounts/login/", body, content_type="application/x-www-form-urlencoded")
    assert response.status_code == 400
    assert response["Content-Type"].startswith("text/html")
