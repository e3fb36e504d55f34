#!/usr/bin/env bash
# Print the OpenAPI schema as the app serves it (`/api/schema/`), in English, for comparing two versions of the code:
#   scripts/schema-snapshot.sh > before.yaml; (change the code); scripts/schema-snapshot.sh | diff before.yaml -
# A refactoring that must not change the public contract shows no difference.
set -euo pipefail
cd "$(dirname "$0")/.."
DEBUG=1 .venv/bin/python manage.py spectacular --lang en --validate --fail-on-warn 2>/dev/null
