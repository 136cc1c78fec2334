"""Stands in for scripts/device/load.py in the device check's dry run, where there is no GPU: the same
arguments and stderr protocol, and instead of matrix products it lists itself as a compute process of the
stub NVML (NVML_STUB_PROCS) with an SM share by size (big 60 %, small 20 %), for as long as it runs."""

import argparse
import fcntl
import os
import sys
import time

SM = {"big": 60, "small": 20}


def edit(change) -> None:
    path = os.environ["NVML_STUB_PROCS"]
    with open(path, "a+") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        f.seek(0)
        lines = change([line for line in f.read().splitlines() if line.strip()])
        f.seek(0)
        f.truncate()
        f.write("".join(f"{line}\n" for line in lines))


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, required=True)
    parser.add_argument("--size", default="big")
    args = parser.parse_args()
    me = f"proc 0 {os.getpid()} {SM.get(args.size, 40)} 1024"
    edit(lambda lines: [*lines, me])
    try:
        print(f"LOAD ready backend=stub pid={os.getpid()} n=0 device=stub", file=sys.stderr, flush=True)
        start = time.monotonic()
        print(f"LOAD start {start:.6f}", file=sys.stderr, flush=True)
        time.sleep(args.seconds)
        end = time.monotonic()
        print(f"LOAD end {end:.6f} products=0 tflops=0", file=sys.stderr, flush=True)
    finally:
        edit(lambda lines: [line for line in lines if line != me])
    return 0


if __name__ == "__main__":
    sys.exit(main())
