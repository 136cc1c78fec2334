#!/usr/bin/env bash
# Packs what the real-GPU validation run (scripts/device-check.sh) needs on a machine without Node.js or a
# network, into .device/ (ignored by git):
#   node.xz      this machine's node binary, xz-compressed
#   app.tar.gz   the built package (dist/, data/, package.json), its production dependencies only (koffi
#                and its linux-x64 build included), scripts/device/ and bench/child.mjs
# Prints each file's size and fails when the whole is over 48 MiB (the machine takes 64 MiB in all, the
# repository included).
#
#   bash scripts/device-bundle.sh [--no-node] [--no-build] [<folder>]
# --no-node leaves node out (the check then uses the node on PATH: the dry run); --no-build packs dist/ as
# it is.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
with_node=1
build=1
dest=$root/.device
for arg in "$@"; do
  case $arg in
  --no-node) with_node=0 ;;
  --no-build) build=0 ;;
  -*) echo "unknown option $arg" >&2 && exit 2 ;;
  *) dest=$arg ;;
  esac
done
mkdir -p "$dest"
cd "$root"
if [ "$build" = 1 ]; then npx tsup --silent; fi
[ -f dist/cli.js ] || { echo "dist/ is not built: run npm run build" >&2 && exit 2; }

staging=$(mktemp -d)
trap 'rm -rf "$staging"' EXIT
app=$staging/app
mkdir -p "$app/scripts" "$app/bench"
cp package.json package-lock.json "$app/"
# Production dependencies only, from the lockfile; no install scripts (koffi's prebuilt binary comes as
# its platform package, and the package's own prepare script needs the dev tools).
(cd "$app" && npm ci --omit=dev --ignore-scripts --no-audit --no-fund --prefer-offline --loglevel=error)
cp -R dist data "$app/"
cp -R scripts/device "$app/scripts/"
cp bench/child.mjs "$app/bench/"
find "$app/scripts" -name '__pycache__' -prune -exec rm -rf {} +
tar -czf "$dest/app.tar.gz" -C "$staging" app

if [ "$with_node" = 1 ]; then
  node_bin=$(command -v node)
  # Packed again only when the binary changed.
  stamp="$(node --version) $(stat -c %s "$node_bin")"
  if [ ! -f "$dest/node.xz" ] || [ "$(cat "$dest/node.stamp" 2>/dev/null)" != "$stamp" ]; then
    echo "compressing $node_bin ($(node --version)) with xz: about half a minute"
    xz -T0 -6 -c "$node_bin" >"$dest/node.xz.tmp" && mv "$dest/node.xz.tmp" "$dest/node.xz"
    echo "$stamp" >"$dest/node.stamp"
  fi
else
  rm -f "$dest/node.xz" "$dest/node.stamp"
fi

total=0
for file in "$dest"/*; do
  size=$(stat -c %s "$file")
  total=$((total + size))
  awk -v n="$(basename "$file")" -v s="$size" 'BEGIN { printf "%-12s %6.1f MiB\n", n, s / 1048576 }'
done
awk -v s="$total" 'BEGIN { printf "%-12s %6.1f MiB (limit 48 MiB)\n", "total", s / 1048576 }'
[ "$total" -le $((48 * 1048576)) ] || { echo "the bundle is too big for the device machine" >&2 && exit 1; }
