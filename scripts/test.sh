#!/usr/bin/env bash
# The test command: install into .venv, make sure Postgres and Redis answer and Chromium is
# installed, then run the linters, the type checker, the import contracts and every test.
# Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ ! -x .venv/bin/python ]; then
  python3 -m venv .venv
fi
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q -e '.[dev]'

bash scripts/services.sh
bash scripts/chromium.sh

export PATH="$PWD/.venv/bin:$PATH"
echo "== ruff";          ruff check . && ruff format --check .
echo "== mypy (strict)"; mypy
echo "== import-linter"; lint-imports
echo "== pytest"
set +e
pytest "$@"
status=$?
set -e
if [ "$status" -eq 5 ]; then
  echo "pytest collected no tests: that is a failure" >&2
  exit 1
fi
exit "$status"
