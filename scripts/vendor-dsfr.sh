#!/usr/bin/env bash
# Vendor the front-end assets served by siseri-server itself (no CDN):
#   - @gouvfr/dsfr  -> crates/siseri-server/assets/dsfr/   (served at /static/dsfr/)
#   - htmx.org      -> crates/siseri-server/assets/htmx/   (served at /static/htmx/)
#
# Only what a server-rendered site needs is kept. The layout under assets/dsfr/
# mirrors the package's dist/ layout, so relative url() references inside the
# CSS resolve. Icon SVGs are copied only if a kept CSS file references them.
#
# Local modifications to upstream files (deterministic, checked below):
#   - dsfr.min.css: the `.woff` fallback is removed from each @font-face `src`
#     (only .woff2 is shipped; every browser supporting the rest of the DSFR
#     supports woff2).
#   - *.min.js: the trailing `//# sourceMappingURL=` comment is removed
#     (source maps are not shipped).
#
# Requirements: bash, npm (registry access), node, tar, coreutils.
# Idempotent: the output folders are rebuilt from scratch on every run.
set -euo pipefail

DSFR_VERSION="1.15.3"
DSFR_INTEGRITY="sha512-R9AALZc1LfZjtytWZMOaUIOHWTkllBZ/sZlsL8TpKZVgF3qUKXt/uNYh+L1D1Fh4p92ZqWxbtNcebsigBZe5pQ=="
HTMX_VERSION="2.0.11"
HTMX_INTEGRITY="sha512-Thx/WtpeOQqSrqBCw/A1cwGJGg4UrVa3+sW0GmrM3p4gJgO89ecH4qtbnyzDDWFvBTqjnIMCgELTNt636dtamA=="

SCRIPT_DIR="$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd -P)"
REPO_ROOT="$(cd -- "$SCRIPT_DIR/.." && pwd -P)"
ASSETS_DIR="$REPO_ROOT/crates/siseri-server/assets"
DSFR_DEST="$ASSETS_DIR/dsfr"
HTMX_DEST="$ASSETS_DIR/htmx"

die() { echo "vendor-dsfr: error: $*" >&2; exit 1; }
for cmd in npm node tar realpath; do
  command -v "$cmd" >/dev/null 2>&1 || die "'$cmd' is required"
done

WORK="$(mktemp -d "${TMPDIR:-/tmp}/vendor-dsfr.XXXXXX")"
trap 'rm -rf -- "$WORK"' EXIT

# fetch <name> <version> <integrity> <outdir>: npm pack + integrity check + untar.
fetch() {
  local name="$1" version="$2" integrity="$3" out="$4" tgz actual
  mkdir -p "$WORK/tgz" "$out"
  tgz="$(cd "$WORK/tgz" && npm pack --silent --ignore-scripts "$name@$version" | tail -n1)"
  [[ -f "$WORK/tgz/$tgz" ]] || die "npm pack did not produce a tarball for $name@$version"
  actual="sha512-$(node -e 'const c=require("crypto"),f=require("fs");process.stdout.write(c.createHash("sha512").update(f.readFileSync(process.argv[1])).digest("base64"))' "$WORK/tgz/$tgz")"
  [[ "$actual" == "$integrity" ]] || die "integrity mismatch for $name@$version: $actual"
  tar -xzf "$WORK/tgz/$tgz" -C "$out" --no-same-owner
  [[ -d "$out/package" ]] || die "unexpected tarball layout for $name@$version"
}

echo "vendor-dsfr: fetching @gouvfr/dsfr@$DSFR_VERSION and htmx.org@$HTMX_VERSION"
fetch "@gouvfr/dsfr" "$DSFR_VERSION" "$DSFR_INTEGRITY" "$WORK/dsfr"
fetch "htmx.org" "$HTMX_VERSION" "$HTMX_INTEGRITY" "$WORK/htmx"

SRC="$WORK/dsfr/package/dist"
STAGE="$WORK/out/dsfr"
mkdir -p "$STAGE"

# copy_rel <path relative to dist>: copy preserving the relative path.
copy_rel() {
  local rel="$1"
  [[ -f "$SRC/$rel" ]] || die "missing in package: dist/$rel"
  mkdir -p "$STAGE/$(dirname -- "$rel")"
  cp -- "$SRC/$rel" "$STAGE/$rel"
  chmod 0644 "$STAGE/$rel"
}

# 1. Stylesheets and scripts.
CSS_FILES=(dsfr.min.css utility/icons/icons.min.css)
JS_FILES=(dsfr.module.min.js dsfr.nomodule.min.js)
for f in "${CSS_FILES[@]}" "${JS_FILES[@]}"; do copy_rel "$f"; done

# 2. Fonts: woff2 only; drop the woff fallback from the @font-face rules.
css="$STAGE/dsfr.min.css"
before="$(grep -oE ',url\(fonts/[A-Za-z0-9_-]+\.woff\) format\("woff"\)' "$css" | wc -l)"
[[ "$before" -gt 0 ]] || die "no woff fallback found in dsfr.min.css (upstream @font-face changed?)"
sed -E -i 's#,url\(fonts/[A-Za-z0-9_-]+\.woff\) format\("woff"\)##g' "$css"
if grep -qE 'url\([^)]*\.woff\)' "$css"; then
  die "dsfr.min.css still references .woff files after rewrite"
fi
for f in "${JS_FILES[@]}"; do
  sed -i '/^\/\/# sourceMappingURL=/d' "$STAGE/$f"
done

# 3. Copy exactly the local files referenced by url(...) in the kept CSS
#    (fonts, icon SVGs, ...), resolved relative to each CSS file.
for f in "${CSS_FILES[@]}"; do
  dir="$(dirname -- "$f")"
  grep -oE "url\((\"[^\"]*\"|'[^']*'|[^)\"']*)\)" "$STAGE/$f" \
    | sed -E "s/^url\(//; s/\)\$//; s/^[\"']//; s/[\"']\$//" \
    | { grep -vE '^(data:|#|https?:|//)' || true; } \
    | sed -E 's/[?#].*$//' \
    | sort -u \
    | while IFS= read -r ref; do
        rel="$(realpath -m --relative-to="$SRC" -- "$SRC/$dir/$ref")"
        case "$rel" in ../*|/*) die "reference escapes dist/: $ref (in $f)";; esac
        copy_rel "$rel"
      done
done

# 4. Favicons (whole folder: png, ico, svg, webmanifest).
for f in "$SRC"/favicon/*; do copy_rel "favicon/$(basename -- "$f")"; done

# 5. Licence and version.
cp -- "$WORK/dsfr/package/LICENSE.md" "$STAGE/LICENSE.md"
printf '@gouvfr/dsfr %s\n' "$DSFR_VERSION" > "$STAGE/VERSION"

# Safety: no source maps, no .woff.
if find "$STAGE" -name '*.map' -o -name '*.woff' | grep -q .; then
  die "source maps or .woff files ended up in the output"
fi

# htmx: dist/htmx.min.js + LICENSE.
HSTAGE="$WORK/out/htmx"
mkdir -p "$HSTAGE"
cp -- "$WORK/htmx/package/dist/htmx.min.js" "$HSTAGE/htmx.min.js"
cp -- "$WORK/htmx/package/LICENSE" "$HSTAGE/LICENSE"
chmod 0644 "$HSTAGE"/*

# Replace the destinations (removes stale files from previous versions).
mkdir -p "$ASSETS_DIR"
rm -rf -- "$DSFR_DEST" "$HTMX_DEST"
mv -- "$STAGE" "$DSFR_DEST"
mv -- "$HSTAGE" "$HTMX_DEST"
find "$DSFR_DEST" "$HTMX_DEST" -type d -exec chmod 0755 {} +

echo "vendor-dsfr: wrote $DSFR_DEST ($(find "$DSFR_DEST" -type f | wc -l) files)"
echo "vendor-dsfr: wrote $HTMX_DEST ($(find "$HTMX_DEST" -type f | wc -l) files)"
