#!/usr/bin/env bash
# Build the book (make book, make test). Executed outputs are reused from the execution cache only
# while everything they may depend on is unchanged: the library, the chapters (the errata page reads
# them all), the committed manifests (the results page reads them) and the configuration. Any change
# there empties the cache, so no page shows outputs of older code.
set -euo pipefail
cd "$(dirname "$0")/.."
digest=$(.venv/bin/python -c "from thesis_lib.book.pages import build_inputs_digest; print(build_inputs_digest())")
stamp=_build/.execution-inputs
if [ -f "$stamp" ] && [ "$(cat "$stamp")" != "$digest" ]; then
  echo "library, chapters or manifests changed since the last build: executing every page again"
  rm -rf _build/.jupyter_cache
fi
mkdir -p _build
.venv/bin/jupyter-book build --all -W -n --keep-going .
echo "$digest" > "$stamp"
