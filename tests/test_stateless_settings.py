"""Nothing a second web process needs stays in one process: sessions and uploads are shared, from the environment."""

import json
import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import parse_qs, urlparse

ROOT = Path(__file__).resolve().parent.parent
SHOW = """
import json
from django.conf import settings
from django.core.files.storage import storages
storage = storages["default"]
print("RESULT=" + json.dumps({
    "sessions": settings.SESSION_ENGINE,
    "cache": settings.CACHES["default"]["BACKEND"],
    "storage": type(storage).__module__ + "." + type(storage).__name__,
    "url": storage.url("photos/2026/11/report.jpg"),
}))
"""


def settings_with(**env: str) -> dict:
    """What a fresh process configured by `env` uses for sessions, cache and uploads."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("STORAGE_S3_", "AWS_"))}
    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", SHOW],
        cwd=ROOT,
        env={**clean, "DEBUG": "1", **env},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(next(line for line in result.stdout.splitlines() if line.startswith("RESULT="))[7:])


def test_with_redis_sessions_are_read_through_the_shared_cache_and_kept_in_the_database():
    found = settings_with(REDIS_URL="redis://127.0.0.1:6379/10")
    assert found["sessions"] == "django.contrib.sessions.backends.cached_db"
    # Django's Redis cache, answering as an empty cache while Redis is away (patrols/cache.py).
    assert found["cache"] == "patrols.cache.ResilientRedisCache"


def test_uploads_go_to_the_media_folder_unless_a_bucket_is_named(tmp_path):
    found = settings_with(MEDIA_ROOT=str(tmp_path))
    assert found["storage"] == "django.core.files.storage.filesystem.FileSystemStorage"
    assert found["url"] == "/media/photos/2026/11/report.jpg"


def test_with_a_bucket_uploads_go_to_it_and_photo_links_are_signed_and_expire():
    found = settings_with(
        STORAGE_S3_BUCKET="patrol-media",
        STORAGE_S3_ENDPOINT_URL="https://s3.example.kz",
        STORAGE_S3_REGION="kz-central-1",
        STORAGE_S3_ADDRESSING_STYLE="path",
        STORAGE_S3_PREFIX="uploads",
        STORAGE_S3_URL_SECONDS="600",
        AWS_ACCESS_KEY_ID="AKIAEXAMPLEEXAMPLE00",
        AWS_SECRET_ACCESS_KEY="example-secret-key-not-a-real-one-0000000",
    )
    assert found["storage"] == "storages.backends.s3.S3Storage"
    link = urlparse(found["url"])
    assert (link.scheme, link.netloc) == ("https", "s3.example.kz")
    assert link.path == "/patrol-media/uploads/photos/2026/11/report.jpg"
    query = parse_qs(link.query)
    assert query["X-Amz-Expires"] == ["600"]
    assert query["X-Amz-Credential"][0].startswith("AKIAEXAMPLEEXAMPLE00/")
    assert "kz-central-1" in query["X-Amz-Credential"][0]
    assert "X-Amz-Signature" in query
