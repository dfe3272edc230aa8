#!/usr/bin/env bash
# Every test of the project, stage by stage, with a timing summary at the end (used by `make test`).
set -uo pipefail
cd "$(dirname "$0")/.."
source .venv/bin/activate
export THESIS_PROGRESS=off
# Idle OpenMP threads of one torch process must not spin while another process computes.
export OMP_WAIT_POLICY=PASSIVE
# Models trained while the chapters execute are cached inside _build, so a test run never
# depends on (or touches) the user's own cache; the book build then loads them.
export THESIS_CACHE="$PWD/_build/model-cache"

summary=()
status=0
stage() {
  local name=$1; shift
  local start=$SECONDS
  echo "=== $name: $*"
  "$@"
  local rc=$?
  summary+=("$(printf '%-28s %5ds  %s' "$name" $((SECONDS - start)) "$([ $rc = 0 ] && echo ok || echo "FAILED ($rc)")")")
  [ $rc = 0 ] || status=1
}

stage "library (pytest)" python -m pytest -q tests --ignore=tests/test_book.py
stage "chapters (nbval)" python -m pytest -q --nbval-lax chapters
stage "book build" jupyter-book build --all -W -n --keep-going .
[ -f tests/test_book.py ] && stage "rendered book (pytest)" python -m pytest -q tests/test_book.py

echo
echo "Stage timings:"
printf '  %s\n' "${summary[@]}"
exit $status
