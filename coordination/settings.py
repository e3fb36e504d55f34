"""Settings, read from the environment (names in DESIGN.md).

With `DEBUG=1` and nothing else set, the app runs on embedded defaults: a SpatiaLite file, Redis when it answers
on localhost, otherwise a filesystem broker (`make run` makes its folders). With `DEBUG` off nothing is guessed: it
refuses to start without a real `SECRET_KEY` or without `REDIS_URL`, and turns on the https protections unless
`HTTPS=0`. Reading the settings touches neither the network nor the disk.
"""

import base64
import ipaddress
import json
import os
import socket
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlparse

import dj_database_url
from celery.schedules import crontab
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured

from coordination.logs import LOG_FORMATS, logging_config

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("VAR_DIR", BASE_DIR / "var"))


TRUE_WORDS, FALSE_WORDS = {"1", "true", "yes", "on"}, {"0", "false", "no", "off"}


def env_bool(name: str, default: bool) -> bool:
    """Read a yes/no environment variable (1/0, true/false, on/off, yes/no); anything else stops the start."""
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return default
    word = value.strip().lower()
    if word not in TRUE_WORDS | FALSE_WORDS:
        raise ImproperlyConfigured(
            f"{name}={value!r} is not a yes/no value: use 1 or 0 (or true/false, yes/no, on/off)."
        )
    return word in TRUE_WORDS


def env_int(name: str, default: int) -> int:
    """Read a whole number of zero or more (a limit, a count, seconds); anything else stops the start."""
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return default
    try:
        number = int(value.strip().replace("_", ""))
    except ValueError:
        number = -1
    if number < 0:
        raise ImproperlyConfigured(f"{name}={value!r} is not a whole number of zero or more.")
    return number


def env_list(name: str, default: list[str]) -> list[str]:
    value = os.environ.get(name)
    if not value:
        return default
    return [item.strip() for item in value.split(",") if item.strip()]


DEBUG = env_bool("DEBUG", False)

_DEV_SECRET_KEY = "dev-only-insecure-key-do-not-use-in-production"
SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off.")
    SECRET_KEY = _DEV_SECRET_KEY

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.gis",
    "rest_framework",
    "knox",
    "rest_framework_gis",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "leaflet",
    "django_celery_beat",
    "axes",
    "csp",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "patrols",
]

MIDDLEWARE = [
    # First: every answer carries X-Request-ID and is counted, timed and logged once (patrols/telemetry.py).
    "patrols.telemetry.RequestTelemetryMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    # After the locale, so that its 404 speaks the reader's language.
    "patrols.middleware.NulInPathMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "patrols.auth.SharedDeviceSessionMiddleware",
    "patrols.auth.StaffSecondFactorMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Writes who was shown IINs and details of other people unmasked (one insert per request).
    "patrols.middleware.AccessLogMiddleware",
    # Last: turns a sign-in refused by the lockout into the translated lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "coordination.urls"
WSGI_APPLICATION = "coordination.wsgi.application"
ASGI_APPLICATION = "coordination.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "patrols.context_processors.inbox",
                "patrols.context_processors.typed",
                "patrols.context_processors.choices",
                "patrols.context_processors.sos",
            ],
            # Every page is translated: {% translate %} needs no {% load i18n %}.
            "builtins": ["django.templatetags.i18n"],
        },
    },
]

# Database: a SpatiaLite file unless DATABASE_URL says otherwise (postgis://user@host/name for production).
DEFAULT_DATABASE_URL = f"spatialite:///{VAR_DIR / 'db.sqlite3'}"
DATABASES = {"default": dj_database_url.parse(os.environ.get("DATABASE_URL") or DEFAULT_DATABASE_URL, conn_max_age=60)}
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "patrols.User"
# The lockout check comes first: a locked-out username is refused from that address even with the right password.
AUTHENTICATION_BACKENDS = ["patrols.auth.LockoutBackend", "django.contrib.auth.backends.ModelBackend"]

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# Languages: Kazakh first and default, Russian second, English third.
LANGUAGE_CODE = "kk"
LANGUAGES = [("kk", "Қазақша"), ("ru", "Русский"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
# Dates and numbers as Kazakhstan writes them in every language (Django has no Kazakh formats of its own).
FORMAT_MODULE_PATH = ["coordination.formats"]
USE_I18N = True
# Kazakhstan is UTC+5 everywhere since 2024-03-01; the database keeps UTC.
TIME_ZONE = "Asia/Almaty"
USE_TZ = True

STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = VAR_DIR / "staticfiles"
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", VAR_DIR / "media"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
# Uploaded files (report photos, roster files) go through Django's storage API: MEDIA_ROOT by default (a folder all
# web and worker machines share), or an S3-compatible bucket when STORAGE_S3_BUCKET is set. Keys come from
# AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or the machine's role); the bucket stays private and links are signed.
STORAGE_S3_BUCKET = os.environ.get("STORAGE_S3_BUCKET", "")
if STORAGE_S3_BUCKET:
    STORAGES["default"] = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": STORAGE_S3_BUCKET,
            "endpoint_url": os.environ.get("STORAGE_S3_ENDPOINT_URL") or None,
            "region_name": os.environ.get("STORAGE_S3_REGION") or None,
            # "path" for servers without a wildcard DNS name per bucket (MinIO, Ceph, most self-hosted ones).
            "addressing_style": os.environ.get("STORAGE_S3_ADDRESSING_STYLE") or None,
            "location": os.environ.get("STORAGE_S3_PREFIX", ""),
            "default_acl": None,
            "querystring_auth": True,
            "querystring_expire": env_int("STORAGE_S3_URL_SECONDS", 3600),
            "file_overwrite": False,
        },
    }
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024
ROSTER_IMPORT_MAX_BYTES = env_int("ROSTER_IMPORT_MAX_BYTES", 10 * 1024 * 1024)
ROSTER_IMPORT_MAX_ROWS = env_int("ROSTER_IMPORT_MAX_ROWS", 20000)
# An XLSX is a zip: what it may unpack to (a roster of 20,000 rows is a few megabytes).
ROSTER_IMPORT_MAX_UNPACKED_BYTES = env_int("ROSTER_IMPORT_MAX_UNPACKED_BYTES", 60 * 1024 * 1024)
# An import without a sign of work for this long (its worker died) is queued again, at most this many runs in all.
ROSTER_IMPORT_STALL_MINUTES = env_int("ROSTER_IMPORT_STALL_MINUTES", 3)
ROSTER_IMPORT_ATTEMPTS = env_int("ROSTER_IMPORT_ATTEMPTS", 2)

# Redis and Celery. In production (DEBUG off) REDIS_URL is required: the cache, the sessions' fast copy, the
# throttles and the broker are shared by every process, and guessing would split them. With DEBUG on (`make run`),
# Redis is used when it answers on localhost, else a filesystem transport that needs no server.
LOCAL_REDIS_URL = "redis://127.0.0.1:6379/0"


def _redis_answers(url: str) -> bool:
    parsed = urlparse(url)
    try:
        with socket.create_connection((parsed.hostname or "127.0.0.1", parsed.port or 6379), timeout=0.3):
            return True
    except OSError:
        return False


REDIS_URL = os.environ.get("REDIS_URL", "")
if not REDIS_URL:
    if not DEBUG:
        raise ImproperlyConfigured(
            "REDIS_URL must be set when DEBUG is off (the cache, sessions, throttles and Celery's broker): "
            "for example REDIS_URL=redis://127.0.0.1:6379/0."
        )
    REDIS_URL = LOCAL_REDIS_URL if _redis_answers(LOCAL_REDIS_URL) else ""
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL") or REDIS_URL or "filesystem://"
CELERY_BROKER_TRANSPORT_OPTIONS: dict = {}
if CELERY_BROKER_URL.startswith("filesystem://"):
    # The transport lists these folders on every poll: scripts/serve.sh makes them before the first process starts.
    _queue_dir = VAR_DIR / "broker" / "queue"
    _processed_dir = VAR_DIR / "broker" / "processed"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_queue_dir),
        "data_folder_out": str(_queue_dir),
        "processed_folder": str(_processed_dir),
        "store_processed": False,
    }
elif CELERY_BROKER_URL.startswith("redis"):
    # A task whose worker dies is delivered again after this long; tasks are idempotent by design.
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# Celery closes the database connection before and after every task unless told to reuse it, so each reminder paid
# for a new PostgreSQL connection. Reused here; after each task it is checked as after a request (CONN_MAX_AGE,
# health check, errors: coordination/celery.py), and Celery still renews it every CELERY_DB_REUSE_MAX tasks.
CELERY_DB_REUSE_MAX = env_int("CELERY_DB_REUSE_MAX", 500)
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False)
# Periodic work read from the database each time, so a worker that was down catches up when it returns.
# `expires` drops runs that waited in a queue longer than their period: the next run does the same work.
CELERY_BEAT_SCHEDULE = {
    "generate-series-shifts": {
        "task": "patrols.tasks.generate_series_shifts",
        "schedule": 60 * 60,
        "options": {"expires": 60 * 60},
    },
    "close-finished-shifts": {
        "task": "patrols.tasks.close_finished_shifts",
        "schedule": 5 * 60,
        "options": {"expires": 5 * 60},
    },
    "flag-understaffed-shifts": {
        "task": "patrols.tasks.flag_understaffed_shifts",
        "schedule": 5 * 60,
        "options": {"expires": 5 * 60},
    },
    "retry-escalations": {
        "task": "patrols.tasks.retry_escalations",
        "schedule": 30,
        "options": {"expires": 30},
    },
    # The SOS clock: alarms past their acknowledgement window go to the next tier, lost messages to duty units are
    # queued again, missed "I'm OK" check-ins raise amber alarms. Each alarm is also timed by its own task.
    "sweep-sos": {
        "task": "patrols.tasks.sweep_sos",
        "schedule": 10,
        "options": {"expires": 10},
    },
    # Replies and statuses from messengers and the SMS gateway that no worker took (the broker was down).
    "sweep-inbound": {
        "task": "patrols.tasks.sweep_inbound",
        "schedule": 10,
        "options": {"expires": 10},
    },
    "sweep-notifications": {
        "task": "patrols.tasks.sweep_notifications",
        "schedule": 60,
        "options": {"expires": 60},
    },
    "recover-roster-imports": {
        "task": "patrols.tasks.recover_roster_imports",
        "schedule": 60,
        "options": {"expires": 60},
    },
    "inspector-digests": {
        "task": "patrols.tasks.send_inspector_digests",
        "schedule": crontab(hour=8, minute=0),
        "options": {"expires": 60 * 60},
    },
    "chief-summaries": {
        "task": "patrols.tasks.send_chief_summaries",
        "schedule": crontab(hour=9, minute=0, day_of_week=1),
        "options": {"expires": 60 * 60},
    },
    # Exports of reports whose worker died are run again; expired export files are deleted.
    "sweep-report-exports": {
        "task": "patrols.tasks.sweep_report_exports",
        "schedule": 60,
        "options": {"expires": 60},
    },
    "apply-retention": {
        "task": "patrols.tasks.apply_retention",
        "schedule": crontab(hour=3, minute=30),
        "options": {"expires": 6 * 60 * 60},
    },
}

# Patrol rules that an administrator may tune.
SHIFT_LATE_CANCEL_HOURS = env_int("SHIFT_LATE_CANCEL_HOURS", 12)
SHIFT_CLOSE_GRACE_MINUTES = env_int("SHIFT_CLOSE_GRACE_MINUTES", 60)
CHECKIN_TOLERANCE_M = env_int("CHECKIN_TOLERANCE_M", 150)
CHECKIN_OPENS_MINUTES_BEFORE = env_int("CHECKIN_OPENS_MINUTES_BEFORE", 30)
# Check-ins farther from the zone than this are refused (a district may set its own distance); nearer but outside
# the zone they wait for the inspector's confirmation before their hours count (services/attendance.py).
CHECKIN_MAX_DISTANCE_M = env_int("CHECKIN_MAX_DISTANCE_M", 1000)
# A position less precise than this asks to try again outdoors; after this many tries the volunteer goes on and
# the check-in waits for the inspector's confirmation.
CHECKIN_MAX_ACCURACY_M = env_int("CHECKIN_MAX_ACCURACY_M", 200)
CHECKIN_ACCURACY_TRIES = env_int("CHECKIN_ACCURACY_TRIES", 3)
# On the live board (/duty/) a volunteer on duty whose phone sent nothing for this long is shown as not seen lately.
DUTY_STALE_SECONDS = env_int("DUTY_STALE_SECONDS", 300)
# SOS: nobody of tier 1 (the shift's inspector, the group leader) acknowledging within this many seconds sends
# the alarm to the district's duty unit, and as long again to the region's ЖБО (the lone-worker tools' 120 s).
SOS_ACK_SECONDS = env_int("SOS_ACK_SECONDS", 120)
# Volunteers on duty this close to an SOS are told in the app.
SOS_NEARBY_METRES = env_int("SOS_NEARBY_METRES", 2000)
# An "I'm OK" check-in not answered this long after it was asked raises an amber alarm to tier 1.
OK_GRACE_MINUTES = env_int("OK_GRACE_MINUTES", 10)
SERIES_HORIZON_DAYS = env_int("SERIES_HORIZON_DAYS", 28)
# A shift, or a series' last day, is planned at most this far ahead (two years).
PLAN_AHEAD_DAYS = env_int("PLAN_AHEAD_DAYS", 730)

# Reports and their photos. Phones resize photos to 1600 px before sending; the server re-encodes them anyway.
PHOTO_MAX_BYTES = env_int("PHOTO_MAX_BYTES", 10 * 1024 * 1024)
# 16 megapixels: more than a phone camera's 12 (4032 x 3024); phones resize to 1600 px before sending anyway. At the
# limit a PNG costs a web process about 0.7 s to check (measured on 2 cores), a 12 MP JPEG 0.3 s.
PHOTO_MAX_PIXELS = env_int("PHOTO_MAX_PIXELS", 16_000_000)
PHOTO_MAX_SIDE = env_int("PHOTO_MAX_SIDE", 2560)
PHOTOS_PER_REPORT = env_int("PHOTOS_PER_REPORT", 10)
# Behind nginx with local storage: after the scope check a photo is answered with an X-Accel-Redirect to this
# `internal` location (deploy/nginx/coordination.conf), and nginx sends the file instead of a Python process.
PHOTOS_X_ACCEL_REDIRECT = env_bool("PHOTOS_X_ACCEL_REDIRECT", False)
PHOTOS_X_ACCEL_PREFIX = "/" + os.environ.get("PHOTOS_X_ACCEL_PREFIX", "/protected-media/").strip("/") + "/"
# Backups (`manage.py backup`, `manage.py restore`): where they are written and how many of the newest are kept;
# the PostgreSQL client programs come from BACKUP_PG_BIN when set (their version at least the server's).
BACKUP_DIR = Path(os.environ.get("BACKUP_DIR", VAR_DIR / "backups"))
BACKUP_KEEP = env_int("BACKUP_KEEP", 7)
BACKUP_PG_BIN = os.environ.get("BACKUP_PG_BIN", "")
# Checks against inflated counts (flags for the inspector, never a refusal).
REPORT_MAX_SPEED_KMH = env_int("REPORT_MAX_SPEED_KMH", 150)
REPORT_DUPLICATE_RADIUS_M = env_int("REPORT_DUPLICATE_RADIUS_M", 300)
REPORT_DUPLICATE_WINDOW_MINUTES = env_int("REPORT_DUPLICATE_WINDOW_MINUTES", 120)
# How late a report may be filed (an offline phone may send it days later).
REPORT_MAX_AGE_DAYS = env_int("REPORT_MAX_AGE_DAYS", 30)
# How late a meeting with residents may be logged as held (an inspector writes up the week's meetings later).
MEETING_MAX_AGE_DAYS = env_int("MEETING_MAX_AGE_DAYS", 90)

# Exports of reports (patrols.services.report_exports): at most this many rows are streamed in the request, more
# become a background job whose file is kept this many hours for its owner; a job without progress this long is
# run again, and failed after this many runs.
REPORT_EXPORT_STREAM_MAX_ROWS = env_int("REPORT_EXPORT_STREAM_MAX_ROWS", 5000)
REPORT_EXPORT_KEEP_HOURS = env_int("REPORT_EXPORT_KEEP_HOURS", 24)
REPORT_EXPORT_STALL_MINUTES = env_int("REPORT_EXPORT_STALL_MINUTES", 3)
REPORT_EXPORT_ATTEMPTS = env_int("REPORT_EXPORT_ATTEMPTS", 3)

# Personal data retention (patrols.services.retention, daily). A volunteer who left (retired, refused, or out of
# every group) is anonymised this many days after leaving; the details of other people in a rejected report are
# removed this many days after the rejection; an uploaded roster file (it holds IINs) is deleted this many days
# after the upload, its import record stays.
RETENTION_VOLUNTEER_DAYS = env_int("RETENTION_VOLUNTEER_DAYS", 3 * 365)
RETENTION_THIRD_PARTY_DAYS = env_int("RETENTION_THIRD_PARTY_DAYS", 90)
RETENTION_ROSTER_FILE_DAYS = env_int("RETENTION_ROSTER_FILE_DAYS", 30)
RETENTION_ACCESS_LOG_DAYS = env_int("RETENTION_ACCESS_LOG_DAYS", 3 * 365)
# Positions sent by phones on duty (patrols.services.duty) are deleted this many days after they arrived.
POSITION_RETENTION_DAYS = env_int("POSITION_RETENTION_DAYS", 90)

if REDIS_URL:
    # Redis being away degrades the cache instead of failing requests (patrols/cache.py); a connection that does not
    # come within a second is given up, so a request never waits long for it.
    CACHES = {
        "default": {
            "BACKEND": "patrols.cache.ResilientRedisCache",
            "LOCATION": REDIS_URL,
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
# Sessions live in the database, read through the shared Redis cache when there is one, so any web process on any
# machine serves any request. A per-process cache (locmem) would serve stale sessions: then the database alone.
SESSION_ENGINE = "django.contrib.sessions.backends.cached_db" if REDIS_URL else "django.contrib.sessions.backends.db"

# Email: EMAIL_URL like smtp://user:pass@host:587?tls=1; console output when unset.
EMAIL_URL = os.environ.get("EMAIL_URL", "")
if EMAIL_URL:
    _email = urlparse(EMAIL_URL)
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    EMAIL_HOST = _email.hostname or "localhost"
    EMAIL_PORT = _email.port or 25
    EMAIL_HOST_USER = _email.username or ""
    EMAIL_HOST_PASSWORD = _email.password or ""
    EMAIL_USE_TLS = "tls=1" in (_email.query or "")
    EMAIL_USE_SSL = _email.scheme == "smtps"
else:
    EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "patrol@localhost")
# A hung mail server must not hold a worker (and the delivery's row lock) for ever.
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 30)
# Links in emails and SMS point here.
SITE_URL = os.environ.get("SITE_URL", "http://127.0.0.1:8000")
# A person's own email address: the confirmation link works this many days; another email to confirm an address
# can be asked for only after this many minutes, so the page cannot be used to flood someone's mailbox.
EMAIL_CONFIRM_DAYS = env_int("EMAIL_CONFIRM_DAYS", 3)
EMAIL_CONFIRM_RESEND_MINUTES = env_int("EMAIL_CONFIRM_RESEND_MINUTES", 5)
# SMS: "console" prints messages (development); "http" posts them to SMS_GATEWAY_URL with SMS_GATEWAY_TOKEN.
SMS_BACKEND = os.environ.get("SMS_BACKEND", "console")
SMS_GATEWAY_URL = os.environ.get("SMS_GATEWAY_URL", "")
SMS_GATEWAY_TOKEN = os.environ.get("SMS_GATEWAY_TOKEN", "")
SMS_SENDER = os.environ.get("SMS_SENDER", "PATROL")
# Two-way SMS: the gateway posts replies to /hooks/sms/ with this shared secret (header X-Gateway-Secret); empty
# turns the hook off (403).
SMS_INBOUND_SECRET = os.environ.get("SMS_INBOUND_SECRET", "")
SMS_TIMEOUT_SECONDS = env_int("SMS_TIMEOUT_SECONDS", 10)

# WhatsApp Business Cloud API: on when the token and the phone number id are set. Business-initiated messages are
# template messages: a template name per message kind ("*": any other kind) and the words that fill its {{1}}, {{2}}
# (from "subject", "body", "zone", "start", "link"); its quick-reply buttons, in order, carry the message's answers.
# WHATSAPP_TEMPLATES (JSON, same shape) replaces the defaults; WHATSAPP_LANGUAGES maps our languages to its codes.
WHATSAPP_API_URL = os.environ.get("WHATSAPP_API_URL", "https://graph.facebook.com/v21.0")
WHATSAPP_TOKEN = os.environ.get("WHATSAPP_TOKEN", "")
WHATSAPP_PHONE_NUMBER_ID = os.environ.get("WHATSAPP_PHONE_NUMBER_ID", "")
WHATSAPP_APP_SECRET = os.environ.get("WHATSAPP_APP_SECRET", "")
WHATSAPP_VERIFY_TOKEN = os.environ.get("WHATSAPP_VERIFY_TOKEN", "")
WHATSAPP_TEMPLATES = json.loads(os.environ.get("WHATSAPP_TEMPLATES", "") or "null") or {
    "shift_reminder": {"name": "patrol_shift_reminder", "params": ["zone", "start"]},
    "callout": {"name": "patrol_callout", "params": ["body", "link"]},
    "ok_prompt": {"name": "patrol_ok_prompt", "params": ["body"]},
    "sos_alarm": {"name": "patrol_sos_alarm", "params": ["body", "link"]},
    "ok_missed": {"name": "patrol_sos_alarm", "params": ["body", "link"]},
    "*": {"name": "patrol_notice", "params": ["subject", "body", "link"]},
}
WHATSAPP_LANGUAGES = {"kk": "kk", "ru": "ru", "en": "en"}
# A normal message on WhatsApp not reported delivered within this long goes to the person's next channel too.
WHATSAPP_DELIVERED_WITHIN_MINUTES = env_int("WHATSAPP_DELIVERED_WITHIN_MINUTES", 10)

# Telegram Bot API: on when the bot's token is set. Telegram posts updates to /hooks/telegram/ with
# TELEGRAM_WEBHOOK_SECRET in X-Telegram-Bot-Api-Secret-Token (setWebhook's secret_token). People link their chat from
# their profile with a one-time code (t.me/<TELEGRAM_BOT_USERNAME>?start=CODE) that works this many minutes.
TELEGRAM_API_URL = os.environ.get("TELEGRAM_API_URL", "https://api.telegram.org")
TELEGRAM_BOT_TOKEN = os.environ.get("TELEGRAM_BOT_TOKEN", "")
TELEGRAM_BOT_USERNAME = os.environ.get("TELEGRAM_BOT_USERNAME", "")
TELEGRAM_WEBHOOK_SECRET = os.environ.get("TELEGRAM_WEBHOOK_SECRET", "")
TELEGRAM_LINK_MINUTES = env_int("TELEGRAM_LINK_MINUTES", 15)

# Web push (VAPID): on when the private key is set (`manage.py vapid_keys` makes one); the public key is derived.
# VAPID_SUBJECT is the contact the push services may write to.
VAPID_PRIVATE_KEY = os.environ.get("VAPID_PRIVATE_KEY", "").strip()
try:
    _vapid_raw = base64.urlsafe_b64decode(VAPID_PRIVATE_KEY + "=" * (-len(VAPID_PRIVATE_KEY) % 4))
except ValueError:
    _vapid_raw = b""
if VAPID_PRIVATE_KEY and len(_vapid_raw) != 32:
    # The key itself is a secret: the message names the variable, not its value.
    raise ImproperlyConfigured(
        "VAPID_PRIVATE_KEY is not a raw P-256 private key (32 bytes, base64url); `manage.py vapid_keys` makes one."
    )
VAPID_SUBJECT = os.environ.get("VAPID_SUBJECT", "mailto:patrol@localhost")
WEBPUSH_TTL_SECONDS = env_int("WEBPUSH_TTL_SECONDS", 12 * 60 * 60)
# Messengers' HTTP calls: how long a send may take.
MESSENGER_TIMEOUT_SECONDS = env_int("MESSENGER_TIMEOUT_SECONDS", 10)
# What came back from messengers and the gateway holds phone numbers and chat ids: kept this many days.
INBOUND_KEEP_DAYS = env_int("INBOUND_KEEP_DAYS", 30)

# Deliveries: how often a failing one is tried, and when a pending one whose task was lost is queued again.
DELIVERY_MAX_ATTEMPTS = env_int("DELIVERY_MAX_ATTEMPTS", 5)
# Longer than a large backlog takes to drain (10,000 reminders take a few minutes), so the sweep does not queue
# again what still waits in the broker; a task lost with a dead worker is picked up after this long.
DELIVERY_REQUEUE_SECONDS = env_int("DELIVERY_REQUEUE_SECONDS", 600)
# Deliveries queued together (the sweep's reminders) go to the workers this many to a task: fewer trips through the
# broker. Each is still sent in its own transaction; the rest of a batch whose worker died waits for the requeue.
DELIVERY_BATCH_SIZE = env_int("DELIVERY_BATCH_SIZE", 20)
REMINDER_LEADS_HOURS = [24, 2]
# Reports escalated to the duty unit: the waits between delivery attempts (seconds) before giving up, and how long
# the unit's webhook may take to answer.
ESCALATION_RETRY_SECONDS = [30, 120, 600, 1800]
DUTY_WEBHOOK_TIMEOUT_SECONDS = env_int("DUTY_WEBHOOK_TIMEOUT_SECONDS", 10)

# HTTPS protections: on by default when DEBUG is off; HTTPS=0 serves plain http (a test harness on loopback).
HTTPS = env_bool("HTTPS", not DEBUG)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_AGE = 60 * 60 * 12
if HTTPS:
    SECURE_SSL_REDIRECT = True
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = 60 * 60 * 24 * 365
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]

# Signing in. Proxies in front of the app that append to X-Forwarded-For (0: the client is REMOTE_ADDR); the lockout
# and the API's rate limits both take the client's address from there.
TRUSTED_PROXIES = env_int("TRUSTED_PROXIES", 0)
# Lockout (django-axes): a username that fails this often from one address is refused for the cool-off, which
# restarts with every attempt made meanwhile. Other people behind the same address are not affected.
AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("AXES_COOLOFF_MINUTES", 30))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
# Beside the lockout of one username: this many failed sign-ins from one address within the window (whatever the
# usernames) refuse that address for the window. High enough for a mobile network's shared addresses.
SIGNIN_ADDRESS_FAILURES = env_int("SIGNIN_ADDRESS_FAILURES", 30)
SIGNIN_ADDRESS_WINDOW_MINUTES = env_int("SIGNIN_ADDRESS_WINDOW_MINUTES", 15)
AXES_CLIENT_IP_CALLABLE = "patrols.auth.client_ip"
AXES_LOCKOUT_CALLABLE = "patrols.auth.lockout_response"
# Only failures are kept (they make the lockout), not a row for every sign-in and sign-out.
AXES_DISABLE_ACCESS_LOG = True
# No banner on every start; failures and lockouts are still logged as warnings.
AXES_VERBOSE = False
# "This is a shared device" at sign-in: the session ends when the browser closes and after this long idle.
SHARED_DEVICE_SESSION_SECONDS = env_int("SHARED_DEVICE_SESSION_SECONDS", 15 * 60)
# Police and ministry accounts (inspector, chief, analyst, admin) sign in with a code from an authenticator app.
STAFF_2FA = env_bool("STAFF_2FA", not DEBUG)
OTP_TOTP_ISSUER = os.environ.get("OTP_TOTP_ISSUER", "Volunteer patrols")
# The admin lists and deletes people's authenticator devices but never shows their secrets.
OTP_ADMIN_HIDE_SENSITIVE_DATA = True


def env_rate(name: str, default: str) -> str | None:
    """A DRF rate such as "60/min" from the environment; "off" turns the limit off."""
    value = os.environ.get(name, "").strip() or default
    return None if value.lower() in {"off", "none", "0"} else value


# API rate limits, per signed-in user except the token (per address: many volunteers may share one mobile-network
# address, so it is generous; the lockout stops password guessing per username).
THROTTLE_RATES = {
    "token": env_rate("THROTTLE_TOKEN", "30/min"),
    "reports": env_rate("THROTTLE_REPORTS", "60/min"),
    "signup": env_rate("THROTTLE_SIGNUP", "30/min"),
    # Decoding a photo costs a web process tens of milliseconds: one volunteer cannot tie them all up.
    "photos": env_rate("THROTTLE_PHOTOS", "20/min"),
    "push": env_rate("THROTTLE_PUSH", "30/min"),
    # Certificate checks, per client address (the public page and the API together): nobody tries codes in bulk.
    "certificate_check": env_rate("THROTTLE_CERTIFICATE_CHECK", "20/min"),
}

SILENCED_SYSTEM_CHECKS = [
    # Debian 12 ships GDAL 3.6, older than the 3.9 that can block file and network access from spatial reference
    # strings. The app never passes user-supplied spatial reference strings to GDAL: SRIDs are fixed in code.
    "gis.W001",
    # SQLite (the embedded demo database) cannot make a NULL group unique in the daily tally. SQLite writes one
    # transaction at a time, so the tally code's update-then-insert cannot race there; PostgreSQL keeps the rule.
    "models.W047",
]

# API tokens (django-rest-knox, hashed, one per device): a token unused for API_TOKEN_IDLE_DAYS expires, and none
# lives longer than API_TOKEN_MAX_AGE_DAYS; each use moves the idle expiry on. A new password, deactivation, a new
# or removed authenticator and a role change revoke them all (patrols/signals.py).
API_TOKEN_IDLE_DAYS = env_int("API_TOKEN_IDLE_DAYS", 30)
API_TOKEN_MAX_AGE_DAYS = env_int("API_TOKEN_MAX_AGE_DAYS", 180)
KNOX_TOKEN_MODEL = "patrols.ApiToken"
# knox's own migrations make a table for its default token model even when it is swapped for ours: without them
# the app stays unmigrated and no such table (with a key to the users that would block a flush) is made.
MIGRATION_MODULES = {"knox": None}
REST_KNOX = {
    "TOKEN_TTL": timedelta(days=API_TOKEN_IDLE_DAYS),
    "AUTO_REFRESH": True,
    "AUTO_REFRESH_MAX_TTL": timedelta(days=API_TOKEN_MAX_AGE_DAYS),
    "MIN_REFRESH_INTERVAL": 60,
    "AUTH_HEADER_PREFIX": "Token",
}

# JSON bodies: larger or deeper ones are refused before parsing (patrols/api/parsers.py).
API_MAX_JSON_BYTES = env_int("API_MAX_JSON_BYTES", 1024 * 1024)
API_MAX_JSON_DEPTH = env_int("API_MAX_JSON_DEPTH", 32)

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "patrols.auth.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PARSER_CLASSES": [
        "patrols.api.parsers.BoundedJSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_PAGINATION_CLASS": "patrols.api.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "patrols.api.schema.PatrolAutoSchema",
    "EXCEPTION_HANDLER": "patrols.api.errors.exception_handler",
    "DEFAULT_THROTTLE_RATES": THROTTLE_RATES,
    "NUM_PROXIES": TRUSTED_PROXIES,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Volunteer patrol coordination API",
    "DESCRIPTION": "Patrols, volunteers and reports of Kazakhstan's public-order volunteers.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "VolunteerStatusEnum": "patrols.choices.VolunteerStatus",
        "GroupKindEnum": "patrols.choices.GroupKind",
        "RegionKindEnum": "patrols.choices.RegionKind",
        "RoleEnum": "patrols.choices.Role",
        "ZoneKindEnum": "patrols.choices.ZoneKind",
        "ShiftStatusEnum": "patrols.choices.ShiftStatus",
        "AssignmentStatusEnum": "patrols.choices.AssignmentStatus",
        "AttendanceMarkEnum": "patrols.api.serializers.ATTENDANCE_MARKS",
        "ShiftEventKindEnum": "patrols.choices.ShiftEventKind",
        "NotificationKindEnum": "patrols.choices.NotificationKind",
        "ReportStatusEnum": "patrols.choices.ReportStatus",
        "BenchmarkLevelEnum": "patrols.choices.BenchmarkLevel",
        "ReportEventKindEnum": "patrols.choices.ReportEventKind",
        "ReportFlagEnum": "patrols.choices.ReportFlag",
        "MeetingKindEnum": "patrols.choices.MeetingKind",
        "MeetingStatusEnum": "patrols.choices.MeetingStatus",
        "NewMeetingStatusEnum": "patrols.choices.NEW_MEETING_STATUSES",
        "InitiativeStatusEnum": "patrols.choices.InitiativeStatus",
        "CrimeStatusEnum": "patrols.choices.CrimeStatus",
        "RosterImportStatusEnum": "patrols.choices.RosterImportStatus",
        "DutyUnitLevelEnum": "patrols.choices.DutyUnitLevel",
        "SosKindEnum": "patrols.choices.SosKind",
        "SosStatusEnum": "patrols.choices.SosStatus",
        "SosEventKindEnum": "patrols.choices.SosEventKind",
        "SosChannelEnum": "patrols.choices.SosChannel",
        "EscalationReasonEnum": "patrols.choices.EscalationReason",
        "EscalationStatusEnum": "patrols.choices.EscalationStatus",
        "EscalationEventKindEnum": "patrols.choices.EscalationEventKind",
        "CallOutStatusEnum": "patrols.choices.CallOutStatus",
        "CallOutResultEnum": "patrols.choices.CallOutResult",
        "PhoneChannelEnum": "patrols.choices.INSTANT_CHANNELS",
        "RewardKindEnum": "patrols.choices.RewardKind",
        "NominationStatusEnum": "patrols.choices.NominationStatus",
        "RewardDecisionEnum": "patrols.choices.RewardDecision",
        "ExportFormatEnum": "patrols.choices.ExportFormat",
        "ExportStatusEnum": "patrols.choices.ExportStatus",
    },
    # Swagger UI served from our own static files: no CDN at run time.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # No badge from the public validator: the docs load nothing from other sites.
    "SWAGGER_UI_SETTINGS": {"deepLinking": True, "validatorUrl": None},
}

LEAFLET_CONFIG = {
    "DEFAULT_CENTER": (48.0, 67.0),
    "DEFAULT_ZOOM": 5,
    "MIN_ZOOM": 3,
    "MAX_ZOOM": 18,
    "TILES": [
        (
            "OpenStreetMap",
            "https://tile.openstreetmap.org/{z}/{x}/{y}.png",
            {"attribution": "&copy; OpenStreetMap contributors", "maxZoom": 19},
        )
    ],
}

# Content Security Policy: scripts and styles only from our own files, never inline; map tiles from the tile
# server; photo previews on the report form are blob: images; the service worker is /sw.js.
_TILES = urlparse(LEAFLET_CONFIG["TILES"][0][1])
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:", "blob:", f"{_TILES.scheme}://{_TILES.netloc}"],
        "connect-src": [SELF],
        "worker-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}

# Monitoring (README: Operations, Monitor). Logs: one line per request and per task on stderr, JSON by default in
# production (LOG_FORMAT=json), readable text with DEBUG on; IINs and phone numbers are replaced in every line
# (coordination/logs.py). The request id comes from X-Request-ID when a proxy set a safe one.
LOG_FORMAT = os.environ.get("LOG_FORMAT", "").strip().lower() or ("text" if DEBUG else "json")
if LOG_FORMAT not in LOG_FORMATS:
    raise ImproperlyConfigured(f"LOG_FORMAT={LOG_FORMAT!r} is not one of: {', '.join(LOG_FORMATS)}.")
LOG_LEVEL = os.environ.get("LOG_LEVEL", "").strip().upper() or "INFO"
if LOG_LEVEL not in {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}:
    raise ImproperlyConfigured(f"LOG_LEVEL={LOG_LEVEL!r} is not one of: DEBUG, INFO, WARNING, ERROR, CRITICAL.")
LOGGING = logging_config(log_format=LOG_FORMAT, level=LOG_LEVEL)
# Metrics (GET /metrics, Prometheus's text format): only for `Authorization: Bearer METRICS_TOKEN` or from the
# addresses (or networks) in METRICS_ALLOWED_IPS, as the lockout sees the client (TRUSTED_PROXIES); with neither set
# the address does not exist (404). The scrape may come over plain http from the machine itself.
METRICS_TOKEN = os.environ.get("METRICS_TOKEN", "").strip()
METRICS_ALLOWED_IPS = env_list("METRICS_ALLOWED_IPS", [])
for _network in METRICS_ALLOWED_IPS:
    try:
        ipaddress.ip_network(_network, strict=False)
    except ValueError:
        raise ImproperlyConfigured(
            f"METRICS_ALLOWED_IPS: {_network!r} is not an address or a network (such as 10.0.0.0/24)."
        ) from None
if HTTPS:
    SECURE_REDIRECT_EXEMPT = [*SECURE_REDIRECT_EXEMPT, r"^metrics$"]
# Errors to Sentry (or a server speaking its protocol) when SENTRY_DSN is set: nothing personal in them
# (coordination/sentry.py). Reading the settings starts the SDK (which asks git for the release when SENTRY_RELEASE
# is unset) but sends nothing.
SENTRY_DSN = os.environ.get("SENTRY_DSN", "").strip()
SENTRY_ENVIRONMENT = os.environ.get("SENTRY_ENVIRONMENT", "production")
if SENTRY_DSN:
    from coordination import sentry

    sentry.init(dsn=SENTRY_DSN, environment=SENTRY_ENVIRONMENT, release=os.environ.get("SENTRY_RELEASE"))
