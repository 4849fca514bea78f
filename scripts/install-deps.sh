#!/usr/bin/env bash
# Installs the Debian packages runctl needs, only those that are missing.
set -euo pipefail
#   --tool   only what building the runctl binary needs (`make build`, `make demo`)
# libpq-dev: the PostgreSQL backend. doctest-dev, sqlite3 and postgresql: the tests, the throwaway
# cluster they run on (scripts/with-postgres.sh); zsh: the completion test loads the zsh script;
# graphviz: the picture tests hand the DOT output to dot.
packages=(g++ cmake make libcli11-dev libsqlitecpp-dev nlohmann-json3-dev libsqlite3-dev libpq-dev)
[ "${1:-}" = "--tool" ] || packages+=(doctest-dev sqlite3 postgresql zsh graphviz)
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
