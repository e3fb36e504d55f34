"""The load of `make load`: volunteers on phones, inspectors at the verification queue, chiefs at the dashboard.

Logins come from the JSON that `bench/load_accounts.py` writes (LOAD_ACCOUNTS): volunteers use the API token their
phone keeps (one in twenty signs in again with the password, as on a new phone); inspectors and chiefs sign in to
the web pages with the login form at the start, and use their token for the API. Each simulated volunteer has an
account of its own, so its sign-ups and reports are its own story; so has each inspector (one per district of
Almaty Region); the chiefs share the region's one account.

Requests are named by endpoint (ids as `{id}`), so the statistics are per endpoint.
"""

from __future__ import annotations

import datetime
import itertools
import json
import os
import random
import re
import uuid
from pathlib import Path
from zoneinfo import ZoneInfo

from locust import FastHttpUser, between, task

ACCOUNTS = json.loads(Path(os.environ.get("LOAD_ACCOUNTS", "var/load/accounts.json")).read_text(encoding="utf-8"))
ALMATY = ZoneInfo("Asia/Almaty")
YEAR = int(os.environ.get("LOAD_YEAR") or datetime.datetime.now(ALMATY).year)
# A phone that signs in with its password (PBKDF2, on purpose slow) instead of the token it keeps.
NEW_PHONE_SHARE = float(os.environ.get("LOAD_NEW_PHONE_SHARE", 0.05))
CSRF_INPUT = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
OUTCOMES = ("prevented", "prevented", "prevented", "handed_over", "assistance", "info", "solved")
DESCRIPTIONS = (
    "Жасөспірімдер тобы аялдамада төбелесті бастады; сөйлесіп, таратып жібердік.",
    "У магазина пьяный мужчина приставал к прохожим, передали наряду полиции.",
    "Кешкі патрульде көшедегі шамдар жанбайтынын байқадық, әкімдікке хабарладық.",
    "Помогли пожилой женщине найти дорогу домой.",
)
_next = {"volunteer": itertools.count(), "inspector": itertools.count(), "chief": itertools.count()}


def _account(kind: str) -> dict:
    accounts = ACCOUNTS[f"{kind}s"]
    return accounts[next(_next[kind]) % len(accounts)]


def _overlaps(a: tuple[str, str], b: tuple[str, str]) -> bool:
    return a[0] < b[1] and b[0] < a[1]


def _moment(value: str) -> datetime.datetime:
    return datetime.datetime.fromisoformat(value.replace("Z", "+00:00"))


class _Person(FastHttpUser):
    abstract = True

    def api_headers(self) -> dict[str, str]:
        return {"Authorization": f"Token {self.account['token']}", "Accept": "application/json"}

    def get_json(self, path: str, *, name: str) -> dict | list | None:
        with self.client.get(path, headers=self.api_headers(), name=name, catch_response=True) as response:
            if response.status_code != 200:
                response.failure(f"{response.status_code}: {(response.text or '')[:200]}")
                return None
            return response.json()

    def post_json(self, path: str, body: dict | None, *, name: str, expect: tuple[int, ...] = (200, 201)):
        with self.client.post(
            path, json=body or {}, headers=self.api_headers(), name=name, catch_response=True
        ) as response:
            if response.status_code not in expect:
                response.failure(f"{response.status_code}: {(response.text or '')[:300]}")
                return None
            return response.json()

    def web_login(self) -> None:
        """Sign in through the login form, as a person at a desk does once a day."""
        page = self.client.get("/accounts/login/", name="GET /accounts/login/")
        match = CSRF_INPUT.search(page.text or "")
        if match is None:
            raise RuntimeError("no CSRF token on the login page")
        with self.client.post(
            "/accounts/login/",
            data={
                "username": self.account["username"],
                "password": ACCOUNTS["password"],
                "csrfmiddlewaretoken": match.group(1),
            },
            headers={"Referer": f"{self.host}/accounts/login/"},
            name="POST /accounts/login/",
            allow_redirects=False,
            catch_response=True,
        ) as response:
            if response.status_code != 302:
                response.failure(f"login failed: {response.status_code}")

    def page(self, path: str, *, name: str) -> None:
        with self.client.get(path, name=name, catch_response=True, allow_redirects=False) as response:
            if response.status_code != 200:
                response.failure(f"{response.status_code} {response.headers.get('Location', '')}")


class Volunteer(_Person):
    """A volunteer on a phone: open shifts, signing up and cancelling, filing reports, reading their own."""

    weight = 10
    # Seconds between two taps: a volunteer reads the list, walks, types a report.
    wait_time = between(float(os.environ.get("LOAD_WAIT_MIN", 2)), float(os.environ.get("LOAD_WAIT_MAX", 8)))

    def on_start(self) -> None:
        self.account = dict(_account("volunteer"))
        self.points = ACCOUNTS["points"][self.account["district"]]
        self.rng = random.Random(self.account["username"])
        if self.rng.random() < NEW_PHONE_SHARE:
            answer = self.post_json(
                "/api/v1/auth/token/",
                {"username": self.account["username"], "password": ACCOUNTS["password"]},
                name="POST /api/v1/auth/token/",
                expect=(200,),
            )
            if answer:
                self.account["token"] = answer["token"]
        listed = self.get_json("/api/v1/categories/", name="GET /api/v1/categories/") or []
        self.categories = [row["code"] for row in listed] or ["petty_hooliganism"]
        self.open_shifts: list[dict] = []
        self.busy: list[tuple[str, str]] = []
        self.mine: int | None = None
        self.refresh_mine()

    def refresh_mine(self) -> None:
        today = datetime.datetime.now(ALMATY).date().isoformat()
        answer = self.get_json(f"/api/v1/shifts/?mine=1&from={today}", name="GET /api/v1/shifts/?mine=1&from=")
        if answer is not None:
            self.busy = [(row["starts_at"], row["ends_at"]) for row in answer["results"]]

    @task(4)
    def list_open_shifts(self) -> None:
        answer = self.get_json("/api/v1/shifts/?open=1", name="GET /api/v1/shifts/?open=1")
        if answer is not None:
            self.open_shifts = answer["results"]

    @task(2)
    def sign_up_or_cancel(self) -> None:
        """Cancel the sign-up made earlier, else take a seat on a free evening."""
        if self.mine is not None:
            shift, self.mine = self.mine, None
            self.post_json(
                f"/api/v1/shifts/{shift}/cancel-signup/", None, name="POST /api/v1/shifts/{id}/cancel-signup/"
            )
            self.refresh_mine()
            return
        free = [
            row
            for row in self.open_shifts
            if row["my_assignment"] is None
            and _moment(row["starts_at"]) > datetime.datetime.now(datetime.UTC) + datetime.timedelta(minutes=10)
            and not any(_overlaps((row["starts_at"], row["ends_at"]), busy) for busy in self.busy)
        ]
        if not free:
            return
        shift = self.rng.choice(free)
        if self.post_json(f"/api/v1/shifts/{shift['id']}/signup/", None, name="POST /api/v1/shifts/{id}/signup/"):
            self.mine = shift["id"]
            self.open_shifts.remove(shift)
            self.busy.append((shift["starts_at"], shift["ends_at"]))

    @task(2)
    def file_report(self) -> None:
        lat, lng = self.rng.choice(self.points)
        outcome = self.rng.choice(OUTCOMES)
        body = {
            "client_uuid": str(uuid.uuid4()),
            "occurred_at": (datetime.datetime.now(datetime.UTC) - datetime.timedelta(minutes=self.rng.randint(5, 600)))
            .isoformat()
            .replace("+00:00", "Z"),
            "lat": lat,
            "lng": lng,
            "category": self.rng.choice(self.categories),
            "outcome": outcome,
            "description": self.rng.choice(DESCRIPTIONS),
            "case_number": f"{self.rng.randrange(10**14, 10**15)}" if outcome == "solved" else "",
        }
        self.post_json("/api/v1/reports/", body, name="POST /api/v1/reports/", expect=(201,))

    @task(2)
    def my_reports(self) -> None:
        self.get_json("/api/v1/reports/?mine=1", name="GET /api/v1/reports/?mine=1")

    @task(1)
    def inbox(self) -> None:
        self.get_json("/api/v1/notifications/?unread=1", name="GET /api/v1/notifications/?unread=1")


class Inspector(_Person):
    """A district inspector at the verification queue: reads it, verifies most reports and rejects a few."""

    fixed_count = int(os.environ.get("LOAD_INSPECTORS") or len(ACCOUNTS["inspectors"]))
    wait_time = between(2, 5)

    def on_start(self) -> None:
        self.account = _account("inspector")
        self.rng = random.Random(f"{self.account['username']}:{id(self)}")
        self.queue: list[int] = []
        self.web_login()

    @task(3)
    def read_queue(self) -> None:
        answer = self.get_json("/api/v1/reports/?status=submitted", name="GET /api/v1/reports/?status=submitted")
        if answer is not None:
            self.queue = [row["id"] for row in answer["results"]]

    @task(3)
    def decide(self) -> None:
        if not self.queue:
            return
        report = self.queue.pop(self.rng.randrange(len(self.queue)))
        if self.rng.random() < 0.8:
            self.post_json(f"/api/v1/reports/{report}/verify/", None, name="POST /api/v1/reports/{id}/verify/")
        else:
            self.post_json(
                f"/api/v1/reports/{report}/reject/",
                {"reason": "Орны мен уақыты патрульге сәйкес келмейді."},
                name="POST /api/v1/reports/{id}/reject/",
            )

    @task(2)
    def verify_page(self) -> None:
        self.page("/verify/", name="GET /verify/")


class Chief(_Person):
    """The regional chief: the year's totals against the benchmark, through the API and the dashboard page."""

    fixed_count = int(os.environ.get("LOAD_CHIEFS") or 3)
    wait_time = between(2, 6)

    def on_start(self) -> None:
        self.account = _account("chief")
        self.web_login()

    @task(3)
    def totals(self) -> None:
        self.get_json(f"/api/v1/dashboard/totals/?year={YEAR}", name="GET /api/v1/dashboard/totals/?year=")

    @task(2)
    def dashboard_page(self) -> None:
        self.page("/dashboard/", name="GET /dashboard/")
