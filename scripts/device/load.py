"""A GPU load for the device check: bf16 matrix products in a loop for a given time.

Prints its protocol on stderr, one line each (stdout stays free for a tracker's --json):
  LOAD ready backend=<torch|cupy> pid=<pid> n=<n> device=<name>   after the warm-up
  LOAD start <CLOCK_MONOTONIC s>                  as the timed loop begins
  LOAD end <CLOCK_MONOTONIC s> products=<n> tflops=<x>
Usage: python3 load.py --seconds 60 [--size big|small|<n>]
"""

import argparse
import os
import sys
import time

SIZES = {"big": 8192, "small": 2048}


def say(line: str) -> None:
    print(f"LOAD {line}", file=sys.stderr, flush=True)


def torch_backend(n: int):
    import torch

    if not torch.cuda.is_available():
        raise RuntimeError("torch sees no CUDA device")
    a = torch.randn(n, n, device="cuda", dtype=torch.bfloat16)
    b = torch.randn(n, n, device="cuda", dtype=torch.bfloat16)
    out = torch.empty(n, n, device="cuda", dtype=torch.bfloat16)
    return ("torch", torch.cuda.get_device_name(0), lambda: torch.matmul(a, b, out=out), torch.cuda.synchronize)


def cupy_backend(n: int):
    import cupy

    a = cupy.random.standard_normal((n, n), dtype=cupy.float32).astype(cupy.float16)
    b = cupy.random.standard_normal((n, n), dtype=cupy.float32).astype(cupy.float16)
    name = cupy.cuda.runtime.getDeviceProperties(0)["name"].decode()
    return ("cupy", name, lambda: cupy.matmul(a, b), cupy.cuda.Device(0).synchronize)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, required=True)
    parser.add_argument("--size", default="big")
    args = parser.parse_args()
    n = SIZES.get(args.size) or int(args.size)
    errors = []
    for make in (torch_backend, cupy_backend):
        try:
            backend, device, product, sync = make(n)
            break
        except Exception as error:  # noqa: BLE001 - any failure: try the next backend, say why
            errors.append(f"{make.__name__}: {error}")
    else:
        say("failed " + "; ".join(errors))
        return 3
    # Warm-up: kernels chosen and clocks up before the timed loop.
    for _ in range(5):
        product()
    sync()
    say(f"ready backend={backend} pid={os.getpid()} n={n} device={device}")
    # A small product is over in microseconds: synchronise less often so the loop is not all waiting.
    batch = 20 if n >= 4096 else 200
    start = time.monotonic()
    say(f"start {start:.6f}")
    products = 0
    while time.monotonic() - start < args.seconds:
        for _ in range(batch):
            product()
        sync()
        products += batch
    end = time.monotonic()
    tflops = 2 * n**3 * products / (end - start) / 1e12
    say(f"end {end:.6f} products={products} tflops={tflops:.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
