#!/usr/bin/env bash
# Route notebooks through nbstripout (.gitattributes): outputs, execution counts and the metadata a
# kernel writes on save (language_info, the kernel's display name) never reach the repository, so
# running a chapter in JupyterLab leaves `git status` clean. Called by `make` when it sets up .venv.
set -euo pipefail
cd "$(dirname "$0")/.."
git rev-parse --is-inside-work-tree >/dev/null 2>&1 || exit 0
strip="$PWD/.venv/bin/nbstripout"
git config filter.nbstripout.clean "\"$strip\""
git config filter.nbstripout.smudge cat
git config filter.nbstripout.required true
git config filter.nbstripout.extrakeys "metadata.language_info metadata.kernelspec.display_name"
git config diff.ipynb.textconv "\"$strip\" -t"
