"""The embedded default: a fresh SpatiaLite file migrates and takes the demo, as `make run` does on a new machine."""

import os
import subprocess
import sys

import pytest
from django.conf import settings

DEMO_PASSWORD = "demo12345"


@pytest.mark.spatialite
def test_a_fresh_spatialite_database_migrates_and_seeds_the_demo(tmp_path):
    env = {
        **os.environ,
        "DATABASE_URL": f"spatialite:///{tmp_path / 'db.sqlite3'}",
        "DEBUG": "1",
        "VAR_DIR": str(tmp_path),
    }

    def manage(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=settings.BASE_DIR,
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
        )

    # migrate runs the system checks (with the SpatiaLite database's own); the commands after it would run the same
    # ones again, so they skip them.
    migrate = manage("migrate", "--noinput", "-v", "0")
    assert migrate.returncode == 0, migrate.stderr
    seed = manage("seed_demo", "--skip-checks")
    assert seed.returncode == 0, seed.stderr
    again = manage("seed_demo", "--once", "--skip-checks")
    assert again.returncode == 0, again.stderr

    # The dashboards' kept counts work on SpatiaLite too (Almaty days, NULL groups) and agree with the reports.
    tallies = manage("rebuild_tallies", "--check", "--skip-checks")
    assert tallies.returncode == 0, tallies.stdout + tallies.stderr

    # One shell for both reads (each start of Django takes a while): the logins and the country, then the figures.
    check = manage(
        "shell",
        "-v",
        "0",
        "-c",
        "import datetime\n"
        "from django.contrib.auth import authenticate\n"
        "from patrols.models import District, User, Volunteer\n"
        "from patrols.services.figures import dashboard_area, dashboard_totals\n"
        "names = ['volunteer', 'leader', 'inspector', 'chief', 'analyst', 'admin']\n"
        f"logged_in = [n for n in names if authenticate(username=n, password={DEMO_PASSWORD!r})]\n"
        "print(','.join(logged_in), District.objects.count() >= 60, Volunteer.objects.count() >= 500)\n"
        "chief = User.objects.get(username='chief')\n"
        "totals = dashboard_totals(dashboard_area(chief), datetime.date.today().year)\n"
        "print(totals.area.code, totals.prevented.count > 0, totals.prevented.benchmark_scope)\n"
        # The prepared queries (patrols/prepared.py) are built each time off PostgreSQL: a token and a point still
        # find what the ORM finds.
        "from knox.models import get_token_model\n"
        "from patrols.auth import ApiTokenAuthentication\n"
        "from patrols.services.reporting import district_for_point\n"
        "_, key = get_token_model().objects.create(user=User.objects.get(username='volunteer'))\n"
        "user, _ = ApiTokenAuthentication().authenticate_credentials(key.encode())\n"
        "point = District.objects.get(code='KZ-19-BAL').centre\n"
        "holder = District.objects.filter(boundary__intersects=point).order_by('code').first()\n"
        "print(user.username, user.volunteer is not None, district_for_point(point).code == holder.code)\n",
    )
    assert check.returncode == 0, check.stderr
    assert check.stdout.strip().splitlines()[-3:] == [
        "volunteer,leader,inspector,chief,analyst,admin True True",
        "KZ-19 True region",
        "volunteer True True",
    ]
