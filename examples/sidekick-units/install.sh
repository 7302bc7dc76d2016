#!/bin/sh
# Renders the units with this checkout's `berth` and installs them.
#   examples/sidekick-units/install.sh                 -> /etc/systemd/system (needs root), daemon-reload
#   examples/sidekick-units/install.sh /tmp/units      -> just render there (to read or verify)
set -eu
here=$(cd "$(dirname "$0")" && pwd)
berth=$(cd "$here/../.." && pwd)/bin/berth
dest=${1:-/etc/systemd/system}
mkdir -p "$dest"
for unit in "$here"/units/*.service; do
  sed "s#@BERTH@#$berth#g" "$unit" > "$dest/$(basename "$unit")"
done
if [ "$dest" = /etc/systemd/system ] && command -v systemctl >/dev/null 2>&1; then systemctl daemon-reload; fi
echo "units installed in $dest; start with: systemctl enable --now web@8080.service web-announce@8080.service"
