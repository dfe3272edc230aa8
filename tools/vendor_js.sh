#!/usr/bin/env bash
# Local copies of the JavaScript the rendered book needs (MathJax, RequireJS and the Jupyter
# widget manager), fetched from the npm registry at build time into _vendor/ (git-ignored) and
# served from the book's root through html_extra_path, so pages work without a network.
set -euo pipefail
cd "$(dirname "$0")/.."
PACKAGES=(mathjax@3.2.2 @jupyter-widgets/html-manager@1.0.15 requirejs@2.3.8)
STAMP=_vendor/.packages
WANT="${PACKAGES[*]} layout-3"
[ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$WANT" ] && exit 0
command -v npm >/dev/null || { echo "npm is needed to fetch ${PACKAGES[*]} (apt-get install npm)" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && npm pack --silent "${PACKAGES[@]}" >/dev/null)
for tgz in "$tmp"/*.tgz; do mkdir -p "${tgz%.tgz}" && tar -xzf "$tgz" -C "${tgz%.tgz}"; done
new=$(mktemp -d _vendor.XXXX)
cp -r "$tmp"/mathjax-*/package/es5 "$new/mathjax"
cp "$tmp"/jupyter-widgets-html-manager-*/package/dist/embed-amd.js "$new/embed-amd.js"
# the widget manager loads its icon fonts from @jupyter-widgets/html-manager/dist/ relative to the
# page, and every notebook page of the book is in chapters/
fonts="$new/chapters/@jupyter-widgets/html-manager/dist"
mkdir -p "$fonts"
cp "$tmp"/jupyter-widgets-html-manager-*/package/dist/*.{woff2,woff,ttf,eot,svg} "$fonts/"
cp "$tmp"/requirejs-*/package/require.js "$new/require.js"
echo "$WANT" > "$new/.packages"
rm -rf _vendor && mv "$new" _vendor
echo "fetched ${PACKAGES[*]} into _vendor/"
