"""Requests to a real server on loopback, as a phone (JSON with a token) or a browser (a cookie jar and CSRF) makes
them; errors are answers too."""

from __future__ import annotations

import http.cookiejar
import json
import re
import secrets
import urllib.error
import urllib.parse
import urllib.request

CSRF_FIELD = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


def call(url: str, *, token: str | None = None, body: dict | None = None, opener=None) -> tuple[int, dict]:
    """One JSON request (POST when there is a body); the status and the decoded answer, errors included."""
    headers = {"Accept": "application/json", "Accept-Language": "en"}
    data = None
    if token:
        headers["Authorization"] = f"Token {token}"
    if body is not None:
        headers["Content-Type"] = "application/json"
        data = json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, headers=headers, method="POST" if body is not None else "GET")
    try:
        with (opener or urllib.request.build_opener()).open(request, timeout=30) as response:
            return response.status, json.load(response)
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"{}")


class Browser:
    """A browser without JavaScript: it keeps cookies, sends forms with their CSRF token and does not follow
    redirects (the test reads where it was sent)."""

    class _NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    def __init__(self, origin: str) -> None:
        self.origin = origin
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar), self._NoRedirect)

    def _open(self, request) -> tuple[int, str, dict]:
        try:
            with self.opener.open(request, timeout=30) as response:
                return response.status, response.read().decode(errors="replace"), dict(response.headers)
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode(errors="replace"), dict(error.headers)

    def get(self, path: str) -> tuple[int, str, dict]:
        request = urllib.request.Request(self.origin + path, headers={"Accept-Language": "en"})
        return self._open(request)

    def submit(self, path: str, fields: dict, *, form_page: str | None = None) -> tuple[int, str, dict]:
        """Open the form's page for its CSRF token, then send the fields to `path`. A server without its static
        files cannot draw the page: then the browser brings a CSRF cookie of its own and the same secret in the
        form, which is all Django compares."""
        _status, page, _headers = self.get(form_page or path)
        found = CSRF_FIELD.search(page)
        if found:
            token = found.group(1)
        else:
            token = secrets.token_hex(16)
            host = urllib.parse.urlparse(self.origin).hostname
            self.jar.set_cookie(http.cookiejar.Cookie(0, "csrftoken", token, None, False, host, False, False, "/",
                                                      True, False, None, False, None, None, {}))  # fmt: skip
        data = {**fields, "csrfmiddlewaretoken": token}
        request = urllib.request.Request(
            self.origin + path,
            data=urllib.parse.urlencode(data).encode(),
            headers={"Accept-Language": "en", "Referer": self.origin + (form_page or path)},
            method="POST",
        )
        return self._open(request)
