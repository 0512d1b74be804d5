#!/usr/bin/env bash
# Installs Arca's build and test dependencies from Debian's packages, then
# the SBOM JSON schemas the tests validate against (scripts/fetch-sbom-schemas.sh,
# into $ARCA_SCHEMA_DIR or ~/.cache/arca/sbom-schemas, which `make clean`
# leaves alone). Does nothing when they are all present. Runs apt-get as
# root, or via sudo.
set -euo pipefail

packages=(
  cmake g++ make ninja-build pkg-config
  libssl-dev libzstd-dev librocksdb-dev libsodium-dev libcpp-httplib-dev
  nlohmann-json3-dev libcli11-dev libgtest-dev libgmock-dev libbenchmark-dev
  clang libclang-rt-14-dev
  python3 python3-securesystemslib python3-nacl python3-jsonschema
)
# npm fetches the SBOM schemas; Debian's package only where none is installed.
command -v npm >/dev/null || packages+=(npm)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "install-deps: installing ${missing[*]}" >&2
  sudo=""
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || { echo "install-deps: need root or sudo to install: ${missing[*]}" >&2; exit 1; }
    sudo="sudo"
  fi
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# Not fatal here: without the schemas only the SBOM schema test fails, and it
# says how to fetch them.
schema_dir=${ARCA_SCHEMA_DIR:-$HOME/.cache/arca/sbom-schemas}
bash "$(dirname "$0")/fetch-sbom-schemas.sh" "$schema_dir" ||
  echo "install-deps: warning: could not fetch the SBOM schemas into $schema_dir;" \
       "the sbom_schema_validation test will fail until scripts/fetch-sbom-schemas.sh succeeds" >&2
