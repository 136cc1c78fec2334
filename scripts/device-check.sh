#!/usr/bin/env bash
# The real-GPU validation run (docs/gpu-validation.md): one prepared script for a machine with an NVIDIA GPU,
# CUDA, nvidia-smi and a Python with PyTorch (or CuPy) and nvidia-ml-py, but no Node.js and no network.
#
#   bash scripts/device-bundle.sh             # here: builds .device/ (node, the package, its dependencies)
#   bash scripts/device-check.sh <out>        # there, from the repository root, with .device/ beside it
#
# Writes to <out>: check.log (everything printed), figures.json (every figure, by step) and raw.tar.gz (the
# traces, CSV rows and records behind them). Each step has its own time limit and a failed step does not stop
# the others. Read-only on the GPU: it never changes clocks, power limits, persistence or compute modes.
#
# Environment (all optional): DEVICE_BUNDLE (default .device), DEVICE_CHECK_PYTHON (python3),
# DEVICE_CHECK_LOAD (the load's command, default python3 scripts/device/load.py), and the windows in
# seconds: DEVICE_CHECK_IDLE_S (20), _LOAD_S (60), _ATTRIBUTION_S (30), _E2E_S (20), and the cost step's
# window in ms, DEVICE_CHECK_COST_MS (5000); DEVICE_CHECK_STEPS names the steps to run (default all). The dry run
# (test/device-check.test.ts) points these at the stub NVML, a fake nvidia-smi and a stand-in load.
set -u
out=${1:?usage: bash scripts/device-check.sh <output folder>}
mkdir -p "$out" && out=$(cd "$out" && pwd)
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
bundle=${DEVICE_BUNDLE:-$root/.device}
python=${DEVICE_CHECK_PYTHON:-python3}
export DEVICE_CHECK_PYTHON=$python
place=$(mktemp -d "${TMPDIR:-/tmp}/wattprint-device.XXXXXX")
work=$place/work
mkdir -p "$work" "$place/bin"
exec > >(tee -a "$out/check.log") 2>&1
began=$(date +%s)
echo "wattprint device check, $(date -u +%Y-%m-%dT%H:%M:%SZ), bundle $(basename "$bundle"), output $out"

# Node.js: the bundle's (xz), unpacked with xz or, where xz is missing, Python's lzma.
if [ -f "$bundle/node.xz" ]; then
  node=$place/bin/node
  xz -dc "$bundle/node.xz" >"$node" 2>/dev/null ||
    "$python" -c 'import lzma, shutil, sys; shutil.copyfileobj(lzma.open(sys.argv[1]), open(sys.argv[2], "wb"))' \
      "$bundle/node.xz" "$node"
  chmod +x "$node"
else
  node=$(command -v node || true)
fi
if [ -z "$node" ] || ! "$node" --version >/dev/null 2>&1; then
  echo "no usable node: run scripts/device-bundle.sh first (it packs this machine's node)"
  exit 2
fi
if [ ! -f "$bundle/app.tar.gz" ]; then
  echo "no $bundle/app.tar.gz: run scripts/device-bundle.sh first"
  exit 2
fi
tar -xzf "$bundle/app.tar.gz" -C "$place"
app=$place/app
echo "node $("$node" --version), package $(cd "$app" && "$node" -p 'require("./package.json").version')"
wp() { "$node" "$app/dist/cli.js" "$@"; }

printf '' >"$work/steps.tsv"
# step <name> <seconds allowed> <command...>: runs it under its time limit (in a bash of its own, which
# has the step functions below) and records how it ended.
step() {
  local name=$1 limit=$2
  shift 2
  # DEVICE_CHECK_STEPS="measure cost": only those steps (a rerun of what changed).
  case " ${DEVICE_CHECK_STEPS:-$name} " in *" $name "*) ;; *) return 0 ;; esac
  echo
  echo "== $name (limit ${limit} s) =="
  local t0=$SECONDS
  timeout -k 10 "$limit" bash -c '"$@"' step "$@"
  local rc=$?
  printf '%s\t%s\t%s\n' "$name" "$rc" "$((SECONDS - t0))" >>"$work/steps.tsv"
  [ "$rc" -eq 0 ] || echo "!! $name failed (exit $rc)"
  # What the finished steps wrote comes back even if a later one outlasts the whole run's limit.
  tar -czf "$out/raw.tar.gz" -C "$work" .
}

env_step() {
  echo "LD_LIBRARY_PATH=${LD_LIBRARY_PATH:-}"
  ldconfig -p 2>/dev/null | grep -E 'libnvidia-ml|libcuda\.' || echo "ldconfig knows no libnvidia-ml"
  nvidia-smi --query-gpu=index,name,uuid,driver_version,pci.bus_id,power.draw,power.draw.instant,enforced.power.limit,clocks.sm,temperature.gpu,persistence_mode,compute_mode --format=csv
  nvidia-smi -q >"$work/nvidia-smi-q.txt" 2>&1
  "$python" "$app/scripts/device/environment.py" >"$work/environment.json"
  cat "$work/environment.json"
}
detect_step() {
  wp detect
  wp detect --json >"$work/detect.json"
}
e2e_step() {
  local load
  read -r -a load <<<"$DEVICE_CHECK_LOAD"
  wp run -o "$work/e2e" -- "${load[@]}" --seconds "${DEVICE_CHECK_E2E_S:-20}" --size big &&
    "$python" "$app/scripts/device/e2e_row.py" "$work/e2e/emissions.csv" | tee "$work/e2e.json"
}
export DEVICE_CHECK_LOAD=${DEVICE_CHECK_LOAD:-$python $app/scripts/device/load.py}
export node app work python
export -f wp env_step detect_step e2e_step

idle=${DEVICE_CHECK_IDLE_S:-20}
busy=${DEVICE_CHECK_LOAD_S:-60}
step environment 60 env_step
step detect 60 detect_step
# Where wattprint cannot load NVML by its default name, the finding is in detect's output above; the
# remaining steps then name the library found on disk, so that the measurements still happen.
if [ -z "${WATTPRINT_NVML_LIBRARY:-}" ] &&
  ! (cd "$app" && "$node" -e 'require("koffi").load("libnvidia-ml.so.1")') >/dev/null 2>&1; then
  found=$(find /usr/local/nvidia /usr/lib /usr/lib64 /usr/local/cuda* /opt -name 'libnvidia-ml.so.1' \
    -not -path '*/stubs/*' 2>/dev/null | head -1)
  echo "!! libnvidia-ml.so.1 does not load by name; found: ${found:-nothing}"
  [ -n "$found" ] && export WATTPRINT_NVML_LIBRARY=$found
fi
step measure $((idle + busy + 150)) "$node" "$app/scripts/device/measure.mjs" "$work"
step attribution $((${DEVICE_CHECK_ATTRIBUTION_S:-30} + 120)) "$node" "$app/scripts/device/attribution.mjs" "$work"
step cost 100 "$node" "$app/scripts/device/cost.mjs" "$work"
step end-to-end $((${DEVICE_CHECK_E2E_S:-20} + 90)) e2e_step

"$node" "$app/scripts/device/summarize.mjs" "$work" "$out/figures.json"
tar -czf "$out/raw.tar.gz" -C "$work" .
echo "done in $(($(date +%s) - began)) s: $out/figures.json, $out/raw.tar.gz"
failed=$(awk -F'\t' '$2 != 0' "$work/steps.tsv" | wc -l)
rm -rf "$place"
[ "$failed" -eq 0 ]
