"""An independent reader of NVIDIA's NVML for the device check: not wattprint's code, nor koffi.

Reads GPU 0 through nvidia-ml-py (the `pynvml` module) when it is installed, else through ctypes on the
same library (`WATTPRINT_NVML_LIBRARY`, else libnvidia-ml.so.1). Writes:
  <out>.csv    mono_s,energy_mJ,power_mW,util_percent: a row each time the energy counter changes (polled
               every millisecond, so the counter's update period shows), and every 20 ms with the power
  <out>.procs.jsonl  with --procs, every 0.5 s: the compute processes and the per-process utilisation
               samples NVML returned since the last call, with its return codes
  <out>.meta.json    which binding, the versions, the device, and what failed
Runs until --seconds pass or SIGTERM. mono_s is CLOCK_MONOTONIC, the clock Node's process.hrtime reads.
Read-only: it queries, never sets.
"""

import argparse
import ctypes
import json
import os
import signal
import sys
import time

NOT_FOUND = 6
INSUFFICIENT_SIZE = 7


class ProcessInfo(ctypes.Structure):
    _fields_ = [
        ("pid", ctypes.c_uint),
        ("usedGpuMemory", ctypes.c_ulonglong),
        ("gpuInstanceId", ctypes.c_uint),
        ("computeInstanceId", ctypes.c_uint),
    ]


class UtilSample(ctypes.Structure):
    _fields_ = [
        ("pid", ctypes.c_uint),
        ("timeStamp", ctypes.c_ulonglong),
        ("smUtil", ctypes.c_uint),
        ("memUtil", ctypes.c_uint),
        ("encUtil", ctypes.c_uint),
        ("decUtil", ctypes.c_uint),
    ]


class Utilization(ctypes.Structure):
    _fields_ = [("gpu", ctypes.c_uint), ("memory", ctypes.c_uint)]


class NvmlError(Exception):
    def __init__(self, rc: int, where: str):
        super().__init__(f"{where}: NVML return code {rc}")
        self.rc = rc


class CtypesNvml:
    """NVML through ctypes: the functions wattprint calls, by the same names."""

    binding = "ctypes"

    def __init__(self) -> None:
        self.lib = ctypes.CDLL(os.environ.get("WATTPRINT_NVML_LIBRARY") or "libnvidia-ml.so.1")
        self.call("nvmlInit_v2")
        handle = ctypes.c_void_p()
        self.call("nvmlDeviceGetHandleByIndex_v2", ctypes.c_uint(0), ctypes.byref(handle))
        self.h = handle
        self.energy_out = ctypes.c_ulonglong()
        self.power_out = ctypes.c_uint()

    def call(self, name: str, *args) -> None:
        rc = getattr(self.lib, name)(*args)
        if rc != 0:
            raise NvmlError(rc, name)

    def text(self, name: str, *head) -> str:
        buffer = ctypes.create_string_buffer(96)
        self.call(name, *head, buffer, ctypes.c_uint(96))
        return buffer.value.decode()

    def meta(self) -> dict:
        def number(name: str, kind=ctypes.c_uint, *head):
            out = kind()
            self.call(name, *head, ctypes.byref(out))
            return out.value

        return fields(
            name=lambda: self.text("nvmlDeviceGetName", self.h),
            uuid=lambda: self.text("nvmlDeviceGetUUID", self.h),
            driver=lambda: self.text("nvmlSystemGetDriverVersion"),
            nvmlVersion=lambda: self.text("nvmlSystemGetNVMLVersion"),
            cudaDriver=lambda: number("nvmlSystemGetCudaDriverVersion_v2", ctypes.c_int),
            architecture=lambda: number("nvmlDeviceGetArchitecture", ctypes.c_uint, self.h),
            enforcedPowerLimitW=lambda: number("nvmlDeviceGetEnforcedPowerLimit", ctypes.c_uint, self.h) / 1000,
        )

    def energy_mj(self) -> int:
        self.call("nvmlDeviceGetTotalEnergyConsumption", self.h, ctypes.byref(self.energy_out))
        return self.energy_out.value

    def power_mw(self) -> int:
        self.call("nvmlDeviceGetPowerUsage", self.h, ctypes.byref(self.power_out))
        return self.power_out.value

    def util_percent(self) -> int:
        rates = Utilization()
        self.call("nvmlDeviceGetUtilizationRates", self.h, ctypes.byref(rates))
        return rates.gpu

    def processes(self) -> list:
        count = ctypes.c_uint(64)
        infos = (ProcessInfo * 64)()
        self.call("nvmlDeviceGetComputeRunningProcesses_v3", self.h, ctypes.byref(count), infos)
        return [{"pid": infos[i].pid, "usedGpuMemory": infos[i].usedGpuMemory} for i in range(count.value)]

    def samples(self, last_seen_us: int) -> list:
        count = ctypes.c_uint(256)
        samples = (UtilSample * 256)()
        self.call(
            "nvmlDeviceGetProcessUtilization", self.h, samples, ctypes.byref(count), ctypes.c_ulonglong(last_seen_us)
        )
        return [sample_dict(samples[i]) for i in range(count.value)]

    def close(self) -> None:
        self.lib.nvmlShutdown()


def fields(**getters) -> dict:
    """Each getter's value, or why it failed (a stub or an old driver lacks some)."""
    out = {}
    for key, get in getters.items():
        try:
            out[key] = get()
        except Exception as error:  # noqa: BLE001 - record it, go on
            out[key] = None
            out.setdefault("failed", {})[key] = repr(error)
    return out


def sample_dict(s) -> dict:
    return {"pid": s.pid, "timeStamp": s.timeStamp, "sm": s.smUtil, "mem": s.memUtil}


class PyNvml:
    """NVML through nvidia-ml-py."""

    binding = "nvidia-ml-py"

    def __init__(self) -> None:
        import pynvml

        self.n = pynvml
        pynvml.nvmlInit()
        self.h = pynvml.nvmlDeviceGetHandleByIndex(0)

    def meta(self) -> dict:
        n, h = self.n, self.h
        text = lambda v: v.decode() if isinstance(v, bytes) else v  # noqa: E731 - older versions return bytes

        def binding_version():
            from importlib.metadata import version

            return version("nvidia-ml-py")

        return fields(
            name=lambda: text(n.nvmlDeviceGetName(h)),
            uuid=lambda: text(n.nvmlDeviceGetUUID(h)),
            driver=lambda: text(n.nvmlSystemGetDriverVersion()),
            nvmlVersion=lambda: text(n.nvmlSystemGetNVMLVersion()),
            cudaDriver=n.nvmlSystemGetCudaDriverVersion_v2,
            architecture=lambda: n.nvmlDeviceGetArchitecture(h),
            enforcedPowerLimitW=lambda: n.nvmlDeviceGetEnforcedPowerLimit(h) / 1000,
            bindingVersion=binding_version,
        )

    def energy_mj(self) -> int:
        return self.n.nvmlDeviceGetTotalEnergyConsumption(self.h)

    def power_mw(self) -> int:
        return self.n.nvmlDeviceGetPowerUsage(self.h)

    def util_percent(self) -> int:
        return self.n.nvmlDeviceGetUtilizationRates(self.h).gpu

    def processes(self) -> list:
        return [
            {"pid": p.pid, "usedGpuMemory": p.usedGpuMemory} for p in self.n.nvmlDeviceGetComputeRunningProcesses(self.h)
        ]

    def samples(self, last_seen_us: int) -> list:
        try:
            return [sample_dict(s) for s in self.n.nvmlDeviceGetProcessUtilization(self.h, last_seen_us)]
        except self.n.NVMLError as error:
            raise NvmlError(getattr(error, "value", -1), "nvmlDeviceGetProcessUtilization") from error

    def close(self) -> None:
        self.n.nvmlShutdown()


def open_nvml(meta: dict):
    try:
        return PyNvml()
    except ImportError as error:
        meta["pynvml"] = f"not importable: {error}"
    except Exception as error:  # noqa: BLE001 - nvidia-ml-py could not open NVML: try the named library
        meta["pynvml"] = f"failed: {error!r}"
    return CtypesNvml()


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", required=True, help="path prefix of the files written")
    parser.add_argument("--seconds", type=float, required=True)
    parser.add_argument("--procs", action="store_true")
    args = parser.parse_args()
    stopping = []
    signal.signal(signal.SIGTERM, lambda *_: stopping.append(1))
    meta: dict = {"clock": "CLOCK_MONOTONIC"}
    nvml = open_nvml(meta)
    meta["binding"] = nvml.binding
    meta.update(nvml.meta())
    with open(f"{args.out}.meta.json", "w") as f:
        json.dump(meta, f, indent=1)
    trace = open(f"{args.out}.csv", "w")
    trace.write("mono_s,energy_mJ,power_mW,util_percent\n")
    procs = open(f"{args.out}.procs.jsonl", "w") if args.procs else None
    print("READER ready", file=sys.stderr, flush=True)
    start = time.monotonic()
    last_energy = None
    last_row = 0.0
    last_procs = 0.0
    last_seen_us = 0
    errors = 0
    while not stopping and time.monotonic() - start < args.seconds:
        now = time.monotonic()
        try:
            energy = nvml.energy_mj()
            if energy != last_energy or now - last_row >= 0.02:
                power = nvml.power_mw() if now - last_row >= 0.02 else ""
                util = nvml.util_percent() if power != "" else ""
                trace.write(f"{now:.6f},{energy},{power},{util}\n")
                if power != "":
                    last_row = now
                last_energy = energy
        except NvmlError as error:
            errors += 1
            if errors <= 5:
                print(f"READER {error}", file=sys.stderr, flush=True)
        if procs and now - last_procs >= 0.5:
            last_procs = now
            line: dict = {"mono_s": round(now, 6)}
            try:
                line["processes"] = nvml.processes()
            except NvmlError as error:
                line["processesRc"] = error.rc
            try:
                found = nvml.samples(last_seen_us)
                line["samples"] = found
                if found:
                    last_seen_us = max(s["timeStamp"] for s in found)
            except NvmlError as error:
                line["samplesRc"] = error.rc
            line["lastSeenUs"] = last_seen_us
            procs.write(json.dumps(line) + "\n")
            procs.flush()
        time.sleep(0.001)
    trace.close()
    if procs:
        procs.close()
    nvml.close()
    print(f"READER done errors={errors}", file=sys.stderr, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
