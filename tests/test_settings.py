"""Production behaviour of the settings: safe by default when DEBUG is off."""

import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


# Settings the tests set themselves: not taken from the environment the suite runs in.
OWN = {"DEBUG", "SECRET_KEY", "HTTPS", "ALLOWED_HOSTS", "STAFF_2FA", "TRUSTED_PROXIES", "SHARED_DEVICE_SESSION_SECONDS"}
OWN_PREFIXES = ("THROTTLE_", "AXES_")
SIGN_IN_SETTINGS = (
    "import json; from django.conf import settings as s; print(json.dumps({"
    "'staff_2fa': s.STAFF_2FA, 'failure_limit': s.AXES_FAILURE_LIMIT, "
    "'cool_off': s.AXES_COOLOFF_TIME.total_seconds(), 'rates': s.REST_FRAMEWORK['DEFAULT_THROTTLE_RATES'], "
    "'shared_seconds': s.SHARED_DEVICE_SESSION_SECONDS, 'proxies': s.TRUSTED_PROXIES, "
    "'secure_cookie': getattr(s, 'SESSION_COOKIE_SECURE', False), "
    "'csp_script': s.CONTENT_SECURITY_POLICY['DIRECTIVES']['script-src']}))"
)


def manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if k not in OWN and not k.startswith(OWN_PREFIXES)}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_deploy_check_is_clean_with_debug_off_and_a_real_secret():
    result = manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        DEBUG="0",
        SECRET_KEY=secrets.token_urlsafe(50),
        ALLOWED_HOSTS="patrol.example.kz",
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_it_refuses_to_start_without_a_secret_when_debug_is_off():
    result = manage("check", DEBUG="0")
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


def sign_in_settings(**env: str) -> dict:
    result = manage("shell", "-c", SIGN_IN_SETTINGS, **env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_production_protects_sign_in_by_default():
    assert sign_in_settings(DEBUG="0", SECRET_KEY=secrets.token_urlsafe(50), ALLOWED_HOSTS="patrol.example.kz") == {
        "staff_2fa": True,
        "failure_limit": 5,
        "cool_off": 30 * 60,
        "rates": {
            "token": "30/min",
            "reports": "60/min",
            "signup": "30/min",
            "photos": "20/min",
            "push": "30/min",
            "certificate_check": "20/min",
        },
        "shared_seconds": 15 * 60,
        "proxies": 0,
        "secure_cookie": True,
        "csp_script": ["'self'"],
    }


def test_the_demo_signs_staff_in_without_codes():
    assert sign_in_settings(DEBUG="1")["staff_2fa"] is False


def test_sign_in_protection_is_tuned_from_the_environment():
    tuned = sign_in_settings(
        DEBUG="1",
        STAFF_2FA="1",
        AXES_FAILURE_LIMIT="10",
        AXES_COOLOFF_MINUTES="5",
        THROTTLE_TOKEN="2000/min",
        THROTTLE_REPORTS="off",
        THROTTLE_SIGNUP="5/s",
        THROTTLE_PHOTOS="2/min",
        THROTTLE_PUSH="off",
        THROTTLE_CERTIFICATE_CHECK="5/min",
        SHARED_DEVICE_SESSION_SECONDS="600",
        TRUSTED_PROXIES="1",
    )
    assert tuned["staff_2fa"] is True
    assert (tuned["failure_limit"], tuned["cool_off"]) == (10, 300)
    assert tuned["rates"] == {
        "token": "2000/min",
        "reports": None,
        "signup": "5/s",
        "photos": "2/min",
        "push": None,
        "certificate_check": "5/min",
    }
    assert (tuned["shared_seconds"], tuned["proxies"]) == (600, 1)


def test_a_yes_no_variable_with_another_word_stops_the_start_naming_it():
    result = manage("check", DEBUG="ture")
    assert result.returncode != 0
    assert "DEBUG='ture' is not a yes/no value" in result.stderr
    result = manage("check", DEBUG="1", STAFF_2FA="maybe")
    assert result.returncode != 0 and "STAFF_2FA='maybe'" in result.stderr


def test_a_number_variable_that_is_not_a_whole_number_stops_the_start_naming_it():
    result = manage("check", DEBUG="1", CHECKIN_MAX_DISTANCE_M="1 km")
    assert result.returncode != 0
    assert "CHECKIN_MAX_DISTANCE_M='1 km' is not a whole number of zero or more" in result.stderr
    result = manage("check", DEBUG="1", PHOTOS_PER_REPORT="-3")
    assert result.returncode != 0 and "PHOTOS_PER_REPORT='-3'" in result.stderr


def test_production_needs_an_explicit_redis_and_guesses_nothing(tmp_path):
    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env={
            **{k: v for k, v in os.environ.items() if k not in OWN and k not in {"REDIS_URL", "CELERY_BROKER_URL"}},
            "DEBUG": "0",
            "SECRET_KEY": secrets.token_urlsafe(50),
            "ALLOWED_HOSTS": "patrol.example.kz",
        },
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0
    assert "REDIS_URL must be set when DEBUG is off" in result.stderr


def test_reading_the_settings_makes_no_folders(tmp_path):
    result = manage("check", DEBUG="1", VAR_DIR=str(tmp_path / "var"), CELERY_BROKER_URL="filesystem://")
    assert result.returncode == 0, result.stderr
    assert not (tmp_path / "var").exists()
