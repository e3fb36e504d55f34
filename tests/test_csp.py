"""Every page is served with a strict Content Security Policy: scripts and styles only from our own files (no
'unsafe-inline'), map tiles from the tile server, photo previews as blob: images, the service worker from /sw.js,
no framing. The pages keep to it: no inline script, no style attribute, in the site, the API docs and the admin.
(tests/test_browser_csp.py loads them in Chromium and watches for violations.)"""

import re

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db

EXPECTED = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "img-src": "'self' data: blob: https://tile.openstreetmap.org",
    "connect-src": "'self'",
    "worker-src": "'self'",
    "object-src": "'none'",
    "base-uri": "'self'",
    "form-action": "'self'",
    "frame-ancestors": "'none'",
}
SCRIPT_TAG = re.compile(r"<script\b([^>]*)>(.*?)</script>", re.S | re.I)
STYLE_ATTRIBUTE = re.compile(r"<[a-z][^>]*\sstyle\s*=", re.I)


def policy(response) -> dict[str, str]:
    header = response["Content-Security-Policy"]
    return dict(part.strip().split(" ", 1) for part in header.split(";") if part.strip())


def inline_scripts(html: str) -> list[str]:
    """Script elements with code in the page (JSON data islands are data, not code)."""
    return [
        code.strip()[:80]
        for attributes, code in SCRIPT_TAG.findall(html)
        if "src=" not in attributes and "application/json" not in attributes and code.strip()
    ]


def assert_strict(response) -> None:
    assert response.status_code == 200, response.status_code
    assert policy(response) == EXPECTED
    html = response.content.decode()
    assert inline_scripts(html) == []
    assert STYLE_ATTRIBUTE.findall(html) == []


def test_the_sign_in_page_has_the_policy():
    response = Client().get("/accounts/login/")
    assert_strict(response)
    assert "unsafe-inline" not in response["Content-Security-Policy"]


@pytest.mark.parametrize(
    ("persona", "paths"),
    [
        ("volunteer", ["/", "/shifts/", "/reports/new/", "/reports/", "/notifications/", "/groups/"]),
        ("inspector", ["/", "/shifts/", "/verify/", "/zones/", "/zones/new/", "/volunteers/", "/shifts/new/"]),
        ("chief", ["/", "/groups/", "/volunteers/"]),
    ],
)
def test_the_pages_people_use_keep_to_the_policy(request, web, shift, persona, paths):
    client = web(request.getfixturevalue(persona))
    for path in [*paths, f"/shifts/{shift.pk}/"]:
        assert_strict(client.get(path))


def test_the_api_docs_render_under_the_policy():
    page = Client().get("/api/docs/")
    assert_strict(page)
    html = page.content.decode()
    script = re.search(r'<script src="(/api/docs/\?[^"]*script=[^"]*)"', html)
    assert script, "Swagger UI starts from a script file"
    start_up = Client().get(script.group(1).replace("&amp;", "&"))
    assert start_up.status_code == 200
    assert start_up["Content-Type"].startswith("application/javascript")
    assert "SwaggerUIBundle" in start_up.content.decode()
    assert "/static/css/api-docs.css" in html


def test_the_admin_keeps_to_the_policy_with_its_maps(admin_user, district, web):
    admin_user.is_superuser = True
    admin_user.save()
    client = web(admin_user)
    for path in ("/admin/", "/admin/patrols/district/", f"/admin/patrols/district/{district.pk}/change/"):
        assert_strict(client.get(path))
    change = client.get(f"/admin/patrols/district/{district.pk}/change/").content.decode()
    # The map fields start from data-* attributes (static/js/maps.js), not from django-leaflet's inline script.
    assert change.count('data-map="draw"') == 2
    assert "/static/js/maps.js" in change


def test_api_answers_carry_the_policy_too(api, volunteer):
    response = api(volunteer).get("/api/v1/me/")
    assert policy(response)["default-src"] == "'self'"
