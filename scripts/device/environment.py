"""Step 1 of the device check: what the machine is. Prints one JSON object; never fails (a part that cannot
be read says why)."""

import glob
import json
import os
import platform
import sys

sys.path.insert(0, os.path.dirname(__file__))
from nvml_reader import open_nvml  # noqa: E402 - next to this file


def attempt(get):
    try:
        return get()
    except Exception as error:  # noqa: BLE001 - say why, go on
        return {"error": repr(error)}


def cpu_model():
    with open("/proc/cpuinfo") as f:
        return next((line.split(":", 1)[1].strip() for line in f if line.startswith("model name")), None)


def torch_info():
    import torch

    return {
        "version": torch.__version__,
        "cuda": torch.version.cuda,
        "available": torch.cuda.is_available(),
        "device": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None,
    }


def nvml_info():
    meta = {}
    nvml = open_nvml(meta)
    meta["binding"] = nvml.binding
    meta.update(nvml.meta())
    nvml.close()
    return meta


def readable(path):
    try:
        with open(path) as f:
            return f.read().strip()[:80]
    except OSError as error:
        return f"unreadable: {error.strerror}"


def powercap():
    if not os.path.isdir("/sys/class/powercap"):
        return "absent"
    zones = sorted(glob.glob("/sys/class/powercap/*"))
    return {os.path.basename(z): readable(os.path.join(z, "energy_uj")) for z in zones}


def hwmon():
    if not os.path.isdir("/sys/class/hwmon"):
        return "absent"
    return {os.path.basename(h): readable(os.path.join(h, "name")) for h in sorted(glob.glob("/sys/class/hwmon/*"))}


print(
    json.dumps(
        {
            "kernel": platform.release(),
            "python": platform.python_version(),
            "cpu": attempt(cpu_model),
            "logicalCpus": os.cpu_count(),
            "torch": attempt(torch_info),
            "nvml": attempt(nvml_info),
            "powercap": attempt(powercap),
            "hwmon": attempt(hwmon),
        },
        indent=1,
    )
)
