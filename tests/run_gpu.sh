#!/usr/bin/env bash
# `make test-gpu`: on a machine with CUDA, the library's tests (tests/test_cuda.py among them) and every
# chapter executed on CUDA at the default budget (full there), with each chapter's time.
set -uo pipefail
cd "$(dirname "$0")/.."
source .venv/bin/activate
export THESIS_PROGRESS=off THESIS_DEVICE=cuda THESIS_CACHE="$PWD/_build/model-cache-gpu"
python -c "import torch, sys; sys.exit(0 if torch.cuda.is_available() else 'make test-gpu needs a CUDA device; this machine has none')" || exit 2
status=0
start=$SECONDS
python -m pytest -q tests --ignore=tests/test_book.py --ignore=tests/test_lab.py || status=1
echo "library: $((SECONDS - start)) s"
for chapter in chapters/*.ipynb; do
  start=$SECONDS
  python -m pytest -q --nbval-lax "$chapter" || status=1
  echo "$chapter: $((SECONDS - start)) s"
done
exit $status
