#!/usr/bin/env bash
# Print a Python 3.11+ whose sqlite3 can load extensions (SpatiaLite needs it); Debian's own first.
for candidate in /usr/bin/python3 python3.11 python3; do
  path=$(command -v "$candidate" 2>/dev/null) || continue
  if "$path" -c 'import sqlite3, sys, venv; assert sys.version_info >= (3, 11); assert hasattr(sqlite3.Connection, "enable_load_extension")' 2>/dev/null; then
    echo "$path"
    exit 0
  fi
done
echo "No Python 3.11+ with a sqlite3 that loads extensions (and venv) was found: install python3-venv." >&2
exit 1
