"""`make bench BENCH=phone_audit`: Lighthouse's mobile audit of the pages people use on phones, and screenshots of
each role's home in Kazakh, on the production server with the demo country.

It prepares and starts the server as `make load` does (`bench/load.py`: the database `load`, migrated and seeded
once, static files collected, gunicorn with DEBUG off on loopback), signs the demo logins in, and runs Lighthouse
12.2.3 (npm, `scripts/node-deps.sh bench`) with Debian's Chromium in its mobile form factor on the report form and
the home page of the volunteer and on the chief's dashboard, in Kazakh. It prints the performance and accessibility
scores (the target is 95 or more for both) and writes each report to var/audit/. Then Playwright takes full-page
screenshots of every demo login's home at 360x740 and 1280x800 (var/audit/home-<login>-<width>.png).
"""

from __future__ import annotations

import argparse
import http.cookiejar
import json
import os
import re
import subprocess
import sys
import urllib.parse
import urllib.request
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(BASE_DIR))

from bench.load import Load  # noqa: E402 (after the path is set)
from tests.support.browser import CHROMIUM, CHROMIUM_ARGS  # noqa: E402

LIGHTHOUSE = BASE_DIR / "node_modules" / ".bin" / "lighthouse"
AUDITED = (("volunteer", "/reports/new/"), ("volunteer", "/"), ("chief", "/dashboard/"))
HOMES = ("volunteer", "leader", "inspector", "chief", "analyst", "admin")
SIZES = ((360, 740), (1280, 800))
TARGET = 95
LANGUAGE = "kk"


def lighthouse_version() -> str:
    return json.loads((BASE_DIR / "node_modules" / "lighthouse" / "package.json").read_text())["version"]


def sign_in(origin: str, username: str, password: str) -> str:
    """The session cookie of a password sign-in through the login form."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    page = opener.open(f"{origin}/accounts/login/").read().decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    form = urllib.parse.urlencode({"username": username, "password": password, "csrfmiddlewaretoken": token})
    opener.open(urllib.request.Request(f"{origin}/accounts/login/", data=form.encode(), headers={"Referer": origin}))
    session = next((cookie.value for cookie in jar if cookie.name == "sessionid"), None)
    if session is None:
        raise RuntimeError(f"{username} could not sign in")
    return session


def lighthouse(origin: str, path: str, session: str, out: Path) -> dict[str, int]:
    headers = out.with_suffix(".headers.json")
    headers.write_text(json.dumps({"Cookie": f"sessionid={session}; django_language={LANGUAGE}"}))
    flags = " ".join(["--headless=new", *CHROMIUM_ARGS])
    subprocess.run(
        [str(LIGHTHOUSE), f"{origin}{path}", "--quiet", "--form-factor=mobile",
         "--only-categories=performance,accessibility", f"--chrome-flags={flags}", f"--extra-headers={headers}",
         "--output=json", f"--output-path={out}"],
        env={**os.environ, "CHROME_PATH": CHROMIUM}, check=True, cwd=BASE_DIR,
    )  # fmt: skip
    report = json.loads(out.read_text())
    return {name: round(category["score"] * 100) for name, category in report["categories"].items()}


def screenshots(origin: str, sessions: dict[str, str], folder: Path) -> list[Path]:
    from playwright.sync_api import sync_playwright

    taken = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        for username, session in sessions.items():
            for width, height in SIZES:
                phone = width < 600
                context = browser.new_context(
                    viewport={"width": width, "height": height}, is_mobile=phone, has_touch=phone
                )
                context.route("https://tile.openstreetmap.org/**", lambda route: route.abort())
                context.add_cookies(
                    [
                        {"name": "sessionid", "value": session, "url": origin},
                        {"name": "django_language", "value": LANGUAGE, "url": origin},
                    ]
                )
                page = context.new_page()
                page.goto(f"{origin}/", wait_until="networkidle")
                path = folder / f"home-{username}-{width}.png"
                page.screenshot(path=str(path), full_page=True)
                taken.append(path)
                context.close()
        browser.close()
    return taken


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--password", default=os.environ.get("LOAD_PASSWORD", "load-demo-1"))
    parser.add_argument(
        "--database-url", default=os.environ.get("LOAD_DATABASE_URL", "postgis://root@127.0.0.1:5432/load")
    )
    parser.add_argument("--redis-url", default=os.environ.get("LOAD_REDIS_URL", "redis://127.0.0.1:6379/9"))
    parser.add_argument("--pg-host", default=os.environ.get("LOAD_PG_HOST", "127.0.0.1"))
    parser.add_argument("--pg-user", default=os.environ.get("LOAD_PG_USER", "root"))
    options, _others = parser.parse_known_args()  # make bench passes BENCH_ARGS to every benchmark
    options.users, options.port, options.workers, options.threads = 1, 0, 2, 2
    folder = BASE_DIR / "var" / "audit"
    folder.mkdir(parents=True, exist_ok=True)
    server = Load(options)
    failed = False
    try:
        server.prepare()
        server.serve()
        origin = f"http://127.0.0.1:{server.port}"
        sessions = {username: sign_in(origin, username, options.password) for username in HOMES}
        print(f"Lighthouse {lighthouse_version()}, mobile form factor, pages in {LANGUAGE}")
        print(f"{'page':<28} {'performance':>12} {'accessibility':>14}")
        for username, path in AUDITED:
            name = f"{username} {path}"
            out = folder / f"lighthouse-{username}-{path.strip('/').replace('/', '-') or 'home'}.json"
            scores = lighthouse(origin, path, sessions[username], out)
            low = [category for category, score in scores.items() if score < TARGET]
            failed |= bool(low)
            print(
                f"{name:<28} {scores['performance']:>12} {scores['accessibility']:>14}"
                + (f"   below {TARGET}: {', '.join(low)}" if low else "")
            )
        for path in screenshots(origin, sessions, folder):
            print(f"screenshot: {path.relative_to(BASE_DIR)}")
    finally:
        server.stop()
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
