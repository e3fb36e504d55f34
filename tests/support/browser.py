"""What the Chromium tests of the phone pages share: Debian's browser and its flags, the phone's size, photos as a
camera takes them, waiting for a condition, and the fixtures a transactional test beside Playwright needs."""

import io
import os
import time
from pathlib import Path

import pytest
from django.db import connection
from PIL import Image

CHROMIUM = "/usr/bin/chromium"
# Debian's Chromium in a container: no sandbox, no GPU, and no calls home (the network here is closed).
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PHONE = {"width": 360, "height": 740}


def camera_photo(path: Path, *, ground: tuple[int, int, int], stripes: tuple[int, int, int], band: tuple) -> Path:
    """A camera-sized photo (3000 × 2000), larger than the phone keeps: a ground colour with vertical stripes,
    `band` = (step, top, width, bottom)."""
    image = Image.new("RGB", (3000, 2000), ground)
    step, top, width, bottom = band
    for x in range(0, 3000, step):
        image.paste(stripes, (x, top, x + width, bottom))
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=90)
    path.write_bytes(out.getvalue())
    return path


def shoot(page, name: str, *, folder_variable: str) -> None:
    """A full-page screenshot when the environment variable names a folder (to look at the layout)."""
    folder = os.environ.get(folder_variable, "")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(folder) / name), full_page=True)


def wait_for(condition, seconds: float = 15.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.25)
    return condition()


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture(autouse=True)
def orm_beside_playwright(monkeypatch):
    """Playwright's sync API keeps an event loop in this thread; the test's own ORM calls are still synchronous."""
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture(scope="module", autouse=True)
def reference_data_back(django_db_blocker):
    """Put the migrations' reference data back after the module, for transactional tests that come later."""
    yield
    with django_db_blocker.unblock():
        if hasattr(connection, "_test_serialized_contents"):
            connection.creation.deserialize_db_from_string(connection._test_serialized_contents)
