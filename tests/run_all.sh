#!/usr/bin/env bash
# Every test of the project, stage by stage, with a timing summary at the end (used by `make test`).
# `tests/run_all.sh portable` (make test-portable) runs the library tests and the chapters under a
# second CPU-kernel configuration ($PORTABLE_ENV, set by the Makefile) instead. Both runs under that
# configuration also emulate CUDA's fp32 kernels (THESIS_EMULATE_CUDA_FP32=1: convolutions and matrix
# products round their operands to TF32 wherever CUDA's precision flags would), so a check that
# holds only at full fp32 while the policy allows TF32 fails here first.
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

portable=(env ${PORTABLE_ENV:?run through make, which sets PORTABLE_ENV} THESIS_EMULATE_CUDA_FP32=1)
if [ "${1:-}" = portable ]; then
  stage "library, portable+CUDA fp32" "${portable[@]}" python -m pytest -q tests --ignore=tests/test_book.py \
    --ignore=tests/test_lab.py
  stage "chapters, portable+CUDA fp32" "${portable[@]}" python -m pytest -q --nbval-lax chapters
else
  stage "library (pytest)" python -m pytest -q --durations=10 tests --ignore=tests/test_book.py \
    --ignore=tests/test_lab.py
  # The chapters under the second kernel configuration would add about 5 minutes to CI's 15 (see
  # README, "make test-portable"); CI runs the library under it.
  stage "library, portable+CUDA fp32" "${portable[@]}" python -m pytest -q tests --ignore=tests/test_book.py \
    --ignore=tests/test_lab.py
  stage "JupyterLab (browser)" python -m pytest -q tests/test_lab.py
  stage "chapters (nbval)" python -m pytest -q --nbval-lax chapters
  stage "book build" bash tools/build_book.sh
  [ -f tests/test_book.py ] && stage "rendered book (pytest)" python -m pytest -q tests/test_book.py
fi

echo
echo "Stage timings:"
printf '  %s\n' "${summary[@]}"
exit $status
