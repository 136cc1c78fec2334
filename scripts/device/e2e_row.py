"""Step 7 of the device check: the row `wattprint run` wrote, read back with Python's csv module."""

import csv
import json
import sys

with open(sys.argv[1], newline="") as f:
    rows = list(csv.DictReader(f))
keep = ["run_id", "status", "duration", "energy_consumed", "emissions", "cpu_source", "ram_source",
        "gpu_source", "gpu_model", "gpu_count", "gpu_energy", "gpu_power", "gpu_utilization_percent",
        "cpu_energy", "ram_energy", "intensity_source"]
print(json.dumps({"rows": len(rows), **{k: rows[-1].get(k) for k in keep}} if rows else {"rows": 0}, indent=1))
