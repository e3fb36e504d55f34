"""The example units and nginx site in deploy/ are what systemd and nginx accept, and do what the README says.

systemd-analyze checks the units (with their paths pointed at stand-ins that exist here); nginx checks the site,
then serves it on loopback in front of a stand-in for gunicorn: a photo the app hands over with X-Accel-Redirect is
sent by nginx from the media folder, that folder is not reachable otherwise, plain http goes to https, a body
larger than any upload is refused. Each check runs where its tool is installed (`make test` installs both).
"""

import configparser
import re
import shutil
import socket
import subprocess
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import requests
import urllib3
from django.conf import settings

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy"
UNITS = sorted((DEPLOY / "systemd").glob("coordination-*"))
SERVICES = [unit for unit in UNITS if unit.suffix == ".service"]
SITE = DEPLOY / "nginx" / "coordination.conf"
HOST = "patrol.example.kz"
# Debian puts nginx in /usr/sbin, which is not on every user's PATH.
NGINX = shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin")
PHOTO = "report-photos/2026/05/5a7c/0f3e.jpg"


def unit_sections(unit: Path) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(strict=False, interpolation=None, delimiters=("=",))
    parser.optionxform = str
    parser.read(unit)
    return parser


def test_every_process_runs_as_its_own_user_with_the_settings_file_and_comes_back():
    assert {unit.name for unit in SERVICES} >= {
        "coordination-web.service",
        "coordination-worker.service",
        "coordination-beat.service",
    }
    for unit in SERVICES:
        service = unit_sections(unit)["Service"]
        assert service["User"] == "coordination", unit.name
        assert service["EnvironmentFile"] == "/etc/coordination/coordination.env", unit.name
        assert service["NoNewPrivileges"] == "yes", unit.name
        assert service["ProtectSystem"] == "strict", unit.name
        if service.get("Type") != "oneshot":
            assert service["Restart"] in {"always", "on-failure"}, unit.name
    web = unit_sections(DEPLOY / "systemd" / "coordination-web.service")["Service"]
    assert web["ExecStart"] == "/srv/coordination/app/scripts/serve-production.sh"
    assert (ROOT / "scripts" / "serve-production.sh").is_file()
    assert "beat" in unit_sections(DEPLOY / "systemd" / "coordination-beat.service")["Service"]["ExecStart"]
    assert (
        "manage.py backup" in unit_sections(DEPLOY / "systemd" / "coordination-backup.service")["Service"]["ExecStart"]
    )
    timer = unit_sections(DEPLOY / "systemd" / "coordination-backup.timer")["Timer"]
    assert timer["Unit"] == "coordination-backup.service"


@pytest.fixture
def stand_in_units(tmp_path) -> list[Path]:
    """The units with the code's folder and the settings file moved to stand-ins that exist on this machine."""
    app = tmp_path / "app"
    for program in ("scripts/serve-production.sh", ".venv/bin/celery", ".venv/bin/python"):
        path = app / program
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("#!/bin/sh\n")
        path.chmod(0o755)
    settings_file = tmp_path / "coordination.env"
    settings_file.write_text((DEPLOY / "coordination.env.example").read_text())
    copies = []
    for unit in UNITS:
        text = unit.read_text().replace("/srv/coordination/app", str(app))
        copy = tmp_path / "units" / unit.name
        copy.parent.mkdir(exist_ok=True)
        copy.write_text(text.replace("/etc/coordination/coordination.env", str(settings_file)))
        copies.append(copy)
    return copies


@pytest.mark.skipif(not shutil.which("systemd-analyze"), reason="systemd-analyze is not installed")
def test_systemd_accepts_the_units(stand_in_units):
    done = subprocess.run(
        ["systemd-analyze", "verify", *map(str, stand_in_units)], capture_output=True, text=True, timeout=60
    )
    # Unknown keys and bad values are only warnings to systemd: any word about our units is a failure here.
    ours = [line for line in done.stderr.splitlines() if "coordination-" in line]
    assert (done.returncode, ours) == (0, [])

    usage = subprocess.run(["systemd-analyze", "security", "--help"], capture_output=True, text=True).stdout
    if "--offline" in usage:
        for unit in (path for path in stand_in_units if path.suffix == ".service"):
            rated = subprocess.run(
                ["systemd-analyze", "security", "--offline=yes", "--threshold=25", str(unit)],
                capture_output=True,
                text=True,
                timeout=60,
            )
            assert rated.returncode == 0, rated.stdout[-300:]


def test_the_sites_upload_limit_fits_the_apps():
    """nginx lets through the largest upload the app takes, and not much more (the app refuses the rest)."""
    megabytes = int(re.search(r"client_max_body_size (\d+)m;", SITE.read_text()).group(1))
    largest = max(settings.PHOTO_MAX_BYTES, settings.ROSTER_IMPORT_MAX_BYTES)
    assert largest < megabytes * 1024 * 1024 <= largest + 4 * 1024 * 1024


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class StandInApp(BaseHTTPRequestHandler):
    """What gunicorn would answer: a photo as the app hands it to nginx, and the request it saw for anything else."""

    seen: list[dict] = []

    def do_GET(self):
        StandInApp.seen.append({"path": self.path, **{name.lower(): value for name, value in self.headers.items()}})
        if self.path == "/api/v1/reports/1/photos/2/":
            self.send_response(200)
            self.send_header("Content-Type", "image/jpeg")
            self.send_header("Cache-Control", "private, max-age=86400")
            self.send_header("X-Accel-Redirect", f"/protected-media/{PHOTO}")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        body = b"the app"
        self.send_response(200 if self.path in {"/healthz", "/reports/"} else 404)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format, *args):
        pass


@pytest.fixture
def site(tmp_path):
    """The site on loopback ports with a self-signed certificate, the media and static folders in tmp_path."""
    openssl = shutil.which("openssl")
    if not NGINX or not openssl:
        pytest.skip("nginx or openssl is not installed")
    subprocess.run(
        [openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", f"/CN={HOST}"]
        + ["-keyout", str(tmp_path / "key.pem"), "-out", str(tmp_path / "cert.pem")],
        check=True,
        capture_output=True,
    )
    (tmp_path / "media" / PHOTO).parent.mkdir(parents=True)
    (tmp_path / "media" / PHOTO).write_bytes(b"\xff\xd8\xff\xe0 a photo of a street")
    (tmp_path / "static").mkdir()
    (tmp_path / "static" / "app.0123abcd.css").write_text("body { margin: 0 }")
    app = ThreadingHTTPServer(("127.0.0.1", 0), StandInApp)
    threading.Thread(target=app.serve_forever, daemon=True).start()
    StandInApp.seen = []
    http, https = free_port(), free_port()
    text = (
        SITE.read_text()
        .replace("/etc/ssl/coordination/fullchain.pem", str(tmp_path / "cert.pem"))
        .replace("/etc/ssl/coordination/privkey.pem", str(tmp_path / "key.pem"))
        .replace("/srv/coordination/var/media/", f"{tmp_path / 'media'}/")
        .replace("/srv/coordination/var/staticfiles/", f"{tmp_path / 'static'}/")
        .replace("127.0.0.1:8000", f"127.0.0.1:{app.server_address[1]}")
        .replace("listen 443 ssl", f"listen 127.0.0.1:{https} ssl")
        .replace("listen 80;", f"listen 127.0.0.1:{http};")
    )
    # This machine may have no IPv6.
    (tmp_path / "site.conf").write_text("\n".join(line for line in text.splitlines() if "listen [::]" not in line))
    temp = "".join(
        f"    {kind}_temp_path {tmp_path / kind};\n" for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    (tmp_path / "nginx.conf").write_text(
        f"pid {tmp_path / 'nginx.pid'};\nerror_log {tmp_path / 'error.log'};\ndaemon off;\nmaster_process off;\n"
        f"events {{}}\nhttp {{\n    include /etc/nginx/mime.types;\n    access_log off;\n{temp}"
        f"    include {tmp_path / 'site.conf'};\n}}\n"
    )
    command = [NGINX, "-c", str(tmp_path / "nginx.conf"), "-p", str(tmp_path), "-e", str(tmp_path / "error.log")]
    checked = subprocess.run([*command, "-t"], capture_output=True, text=True, timeout=60)
    assert checked.returncode == 0, checked.stderr
    server = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", https)) == 0:
                break
        time.sleep(0.05)
    urllib3.disable_warnings(urllib3.exceptions.InsecureRequestWarning)
    try:
        yield {"http": f"http://127.0.0.1:{http}", "https": f"https://127.0.0.1:{https}", "media": tmp_path / "media"}
    finally:
        server.terminate()
        server.wait(timeout=10)
        app.shutdown()
        app.server_close()


def get(url: str, **options) -> requests.Response:
    return requests.get(url, headers={"Host": HOST}, verify=False, allow_redirects=False, timeout=10, **options)


def test_nginx_sends_the_photo_the_app_hands_over_and_nothing_else_of_the_media_folder(site):
    photo = get(f"{site['https']}/api/v1/reports/1/photos/2/")
    assert photo.status_code == 200
    assert photo.content == (site["media"] / PHOTO).read_bytes()
    assert photo.headers["Content-Type"] == "image/jpeg"
    assert photo.headers["Cache-Control"] == "private, max-age=86400"
    assert photo.headers["X-Content-Type-Options"] == "nosniff"
    assert "X-Accel-Redirect" not in photo.headers
    seen = StandInApp.seen[-1]
    assert (seen["host"], seen["x-forwarded-proto"], seen["x-forwarded-for"]) == (HOST, "https", "127.0.0.1")

    # The internal location is not reachable from outside; /media/ is only a path the app refuses.
    assert get(f"{site['https']}/protected-media/{PHOTO}").status_code == 404
    other = get(f"{site['https']}/media/{PHOTO}")
    assert (other.status_code, other.content) == (404, b"the app")


def test_nginx_serves_static_files_redirects_http_and_refuses_bodies_larger_than_any_upload(site):
    static = get(f"{site['https']}/static/app.0123abcd.css")
    assert (static.status_code, static.text) == (200, "body { margin: 0 }")
    assert "immutable" in static.headers["Cache-Control"]

    plain = get(f"{site['http']}/reports/")
    assert (plain.status_code, plain.headers["Location"]) == (301, f"https://{HOST}/reports/")
    # The load balancer's health check is answered over plain http too.
    assert get(f"{site['http']}/healthz").status_code == 200

    too_large = requests.post(
        f"{site['https']}/api/v1/reports/1/photos/",
        headers={"Host": HOST},
        data=b"\0" * (13 * 1024 * 1024),
        verify=False,
        timeout=30,
    )
    assert too_large.status_code == 413
