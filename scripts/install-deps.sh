#!/usr/bin/env bash
# Installs the Debian packages runctl needs, only those that are missing.
set -euo pipefail
# postgresql and libpq-dev: the PostgreSQL backend and the throwaway cluster its tests run on
# (scripts/with-postgres.sh).
packages=(g++ cmake make libcli11-dev libsqlitecpp-dev nlohmann-json3-dev doctest-dev libsqlite3-dev sqlite3
          postgresql libpq-dev)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "installing: ${missing[*]}" >&2
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
