#!/usr/bin/env bash
# Fetches the official SBOM JSON schemas that tests/sbom validates `arca sbom`
# output against, into DEST (default: $ARCA_SCHEMA_DIR or
# ~/.cache/arca/sbom-schemas). Does nothing when DEST already holds them
# (each file checked against its pinned SHA-256 below).
#
# The schemas come from the npm registry, the one source this project's
# machines and CI reach: the tarball of @cyclonedx/cdxgen carries, under
# package/data/,
#   bom-1.6.schema.json     CycloneDX 1.6 (draft-07)
#   spdx.schema.json        SPDX licence ids, referenced by bom-1.6
#   jsf-0.82.schema.json    JSON signature format, referenced by bom-1.6
#   spdx-export.schema.json SPDX 3.0.1 JSON-LD (draft 2020-12, shacl2code)
# `npm pack` only downloads the tarball: nothing is installed or run.
set -euo pipefail

version=12.8.4
dest=${1:-${ARCA_SCHEMA_DIR:-$HOME/.cache/arca/sbom-schemas}}
files=(bom-1.6.schema.json spdx.schema.json jsf-0.82.schema.json spdx-export.schema.json)
# The SHA-256 of each file as published in that version: what is fetched must
# be exactly these, whatever the registry or a mirror of it serves.
sums="\
25dea08cd6f87451a8d2b3bf328e04d88cdb5ab149be0f3865f616900c28208b  bom-1.6.schema.json
b4daa44a5aec1e44e92769af0192a2fea8e664a680df85443cc2266c1f70d348  spdx.schema.json
679d39def1f9b4fddbaf5b2466862718a0299ea8190ac19cd9173a8e20a37527  jsf-0.82.schema.json
873ff9d3177a0c12495fe585c5012f7bec0aa70aabed1f2f1e79f25bd95eb107  spdx-export.schema.json"

# Whether directory $1 holds all four files with the right digests.
check() {
  (cd "$1" 2>/dev/null && printf '%s\n' "$sums" | sha256sum --check --status --strict)
}
check "$dest" && exit 0

command -v npm >/dev/null || { echo "fetch-sbom-schemas: npm is needed (apt-get install npm)" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
echo "fetch-sbom-schemas: fetching @cyclonedx/cdxgen@$version from npm for its schemas" >&2
tarball=$(cd "$tmp" && npm pack --silent "@cyclonedx/cdxgen@$version" | tail -n 1)
[ -f "$tmp/$tarball" ] || { echo "fetch-sbom-schemas: npm pack gave no tarball" >&2; exit 1; }
members=()
for f in "${files[@]}"; do members+=("package/data/$f"); done
tar -xzf "$tmp/$tarball" -C "$tmp" "${members[@]}"
check "$tmp/package/data" || {
  echo "fetch-sbom-schemas: the schemas in $tarball do not have the expected SHA-256 digests" >&2
  exit 1
}
mkdir -p "$dest"
for f in "${files[@]}"; do
  # Into place atomically, so an interrupted run never leaves half a schema.
  cp "$tmp/package/data/$f" "$dest/.$f.tmp"
  mv "$dest/.$f.tmp" "$dest/$f"
done
echo "fetch-sbom-schemas: wrote ${files[*]} to $dest" >&2
