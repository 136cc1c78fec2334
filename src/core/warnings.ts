/** Kinds of warning a tracker reports. */
export type WarningCode =
  | 'RAPL_UNREADABLE'
  | 'CPU_UNKNOWN'
  | 'ESTIMATE_FAILED'
  | 'GPU_NOT_FOUND'
  | 'GPU_UNAVAILABLE'
  | 'LOCATION_UNKNOWN'
  | 'NO_COUNTRY_FIGURE'
  | 'LOCATION_GUESSED'
  | 'CLOUD_REGION_UNKNOWN'
  | 'LIVE_INTENSITY_FAILED'
  | 'METER_READ_FAILED'
  | 'METER_RECOVERED'
  | 'COUNTER_RESET'
  | 'COUNTER_IMPLAUSIBLE'
  | 'COUNTER_FROZEN'
  | 'GPU_DIE_ZERO'
  | 'WORKER_UNAVAILABLE'
  | 'WORKER_FAILED'
  | 'ACCOUNTING_FAILED'
  | 'SNAPSHOT_TIMEOUT'
  | 'CSV_BACKED_UP'
  | 'CSV_ROW_CUT'
  | 'CSV_MIGRATED'
  | 'CSV_WRITE_FAILED'
  | 'CHECKPOINT_FAILED'
  | 'SINK_FAILED'
  | 'RUN_RECOVERED'
  | 'NOT_RUNNING'
  | 'ALREADY_STARTED'
  | 'UNKNOWN_TASK'
  | 'TASK_RESTARTED'
  | 'START_FAILED'
  | 'ATTRIBUTION_UNAVAILABLE'
  | 'ATTRIBUTION_SHARED'
  | 'INVALID_ARGUMENT'
  | 'REQUESTS_OPEN'
  | 'ROUTE_LABELS_CAPPED'
  | 'DEPRECATED_OPTION'
  | 'INTEGRATION_FAILED'

/** Something the tracker could not do as asked; the run goes on. */
export interface TrackerWarning {
  /** The kind of warning, for code to tell them apart (docs/reference/warnings.md says what each means). */
  readonly code: WarningCode
  /** What happened and what to do about it, in a sentence or two for people. */
  readonly message: string
}

/**
 * What each warning means and what to do about it, one paragraph per code: the source of
 * docs/reference/warnings.md (`npm run docs:reference`). A code added to WarningCode without its paragraph
 * here fails the type check.
 */
export const WARNING_DOCS: Readonly<Record<WarningCode, string>> = {
  RAPL_UNREADABLE:
    "The RAPL energy counters under `/sys/class/powercap` (or `raplRoot`) cannot be read, most often because since Linux 5.10 (CVE-2020-8694, \"PLATYPUS\") they are readable by root only: the CPU's energy is estimated from the power model and the load instead (or, when only the DRAM counters are unreadable, the RAM's). The message gives the fix: make the counters readable (`sudo chmod a+r /sys/class/powercap/intel-rapl*/energy_uj` until the next reboot, a systemd-tmpfiles rule for every boot), on machines you trust, since any local user can then observe the CPU's power; in a container, mount the host's powercap tree and point `raplRoot` at it. Printed once per process.",
  CPU_UNKNOWN:
    'The CPU, estimated where RAPL cannot be read, is not in the TDP table: its threads stand in for its TDP, with a wider interval. Set `cpuPowerW` (`--cpu-power`) to its TDP, all sockets together, for a narrower one. Printed once per process.',
  ESTIMATE_FAILED:
    'The power model could not be evaluated (a broken install: its files ship with the package): the estimated components read as unknown. Reinstall wattprint.',
  GPU_NOT_FOUND:
    'A `gpuIds` entry (or one of `CUDA_VISIBLE_DEVICES`, `NVIDIA_VISIBLE_DEVICES` or the AMD variables, where the selection came from there) matches no GPU: those are not measured. Compare the indices and UUID prefixes with what `wattprint detect` lists.',
  GPU_UNAVAILABLE:
    "A GPU seems present but neither NVML nor nvidia-smi can read it: GPU energy is not counted. The message gives both reasons; install the driver's NVML library, or point `nvmlLibraryPath` or `nvidiaSmiPath` at it.",
  LOCATION_UNKNOWN:
    'No location was given and none could be guessed: emissions use the world average intensity. Set `country`, `zone`, `cloudProvider` with `cloudRegion` (or `WATTPRINT_COUNTRY`), or a measured intensity with `carbonIntensityGPerKWh`. Printed once per process.',
  NO_COUNTRY_FIGURE:
    "The shipped tables have no yearly intensity for the country or zone given: emissions use the world average. Set `carbonIntensityGPerKWh` to your grid's figure.",
  LOCATION_GUESSED:
    'No location was given: the country was guessed from the time zone, and every row says so (`intensity_source` `timezone-guess:…`). Set the location (`country`, `zone`, `cloudProvider` with `cloudRegion`) or `carbonIntensityGPerKWh`. Printed once per process.',
  CLOUD_REGION_UNKNOWN:
    "The cloud region, given or detected, is not in wattprint's table, so its grid is unknown. Set `zone` to the region's Electricity Maps zone.",
  LIVE_INTENSITY_FAILED:
    "A live intensity API (Electricity Maps, the UK Carbon Intensity API) gave no figure, or cannot be asked (Electricity Maps without a location, `ukCarbonIntensity` outside Great Britain): the yearly figure is used until it answers again (for the rest of the run when it refused), and the run goes on. Check the token, the location and the network; `intensityTimeoutMs` sets a request's time limit.",
  METER_READ_FAILED:
    "A meter could not be read: its gaps are bridged from the neighbouring readings and counted as blind time, and the message goes into the row's notes. `METER_RECOVERED` follows when it can be read again.",
  METER_RECOVERED:
    'A meter that could not be read (`METER_READ_FAILED`) can be read again. Printed at the info level.',
  COUNTER_RESET:
    'An energy counter went down, and it has no known range to have wrapped at: taken as a reset, that interval counts 0 J for it, never a negative or invented figure. Nothing to do unless it recurs (a driver reloaded under the run).',
  COUNTER_IMPLAUSIBLE:
    'An energy counter moved by more than its zone can draw in the time (above 2 kW for a RAPL zone): a glitch or a wrong range, counted as 0 J for that interval rather than as an invented figure.',
  COUNTER_FROZEN:
    "A GPU's energy counter (amdsmi, ROCm SMI, Level Zero) stands still while the GPU draws power: frozen, not idle. Its energy is bridged by its power reading until the counter moves again, which a second warning says.",
  GPU_DIE_ZERO:
    "A GPU die reads 0 W beside a sibling on the same package that draws: a working die never draws 0 W, so its power is taken to be inside the sibling's figure (as MI250 reports the package on one die), and the package is counted once.",
  WORKER_UNAVAILABLE:
    'The sampler could not run in a worker thread: sampling goes on inline, on the main thread, where a busy main thread makes intervals longer; the record says so in its notes.',
  WORKER_FAILED:
    'The sampler worker failed mid-run (or the final reading failed): sampling goes on inline, and the record says for how long nothing was measured.',
  ACCOUNTING_FAILED:
    "An interval's readings could not be turned into energy and emissions (an error while accounting it, or while handling the sampler's message): that interval is left out and the run goes on. A bug: report it with the message.",
  SNAPSHOT_TIMEOUT:
    "The sampler did not answer a request for a reading in time (at `flush()`, `stopTask()`, a request's end …): the figures are as of its last interval.",
  CSV_BACKED_UP:
    "The CSV has another header (CodeCarbon's own, say): it is renamed to `emissions.backup-<time>.csv` (never overwritten) and a new one started. Give wattprint and other tools different files.",
  CSV_ROW_CUT:
    'The CSV was cut off in the middle of a row (by a full disk or a crash, before rows were appended whole): it stays where it is, every byte kept; the cut row is ended where it stops (its open quote closed, a line end added), so readers skip it as one malformed row, and new rows follow it.',
  CSV_MIGRATED:
    "The CSV has one of wattprint's earlier headers: it is rewritten under the current header in one step (by column name, the columns added since left empty), the original kept as `emissions.backup-<time>.csv`.",
  CSV_WRITE_FAILED:
    "The row could not be written to the CSV (the message says why: a full disk, no permission …): the record is still returned, and the row is kept in the run's checkpoint, which the next tracker on that folder or `wattprint recover` appends once the file can be written. Logged as an error.",
  CHECKPOINT_FAILED:
    "The run's checkpoint could not be written in its output folder: it is kept in the state folder instead (`$XDG_STATE_HOME/wattprint`, else `~/.local/state/wattprint`, else the temp folder), or, where it cannot be saved anywhere, a killed process would lose its row. Make the output folder writable.",
  SINK_FAILED:
    'A sink failed: a Prometheus push, an OpenTelemetry export or a sink of your own that threw. Said once per sink and call, and the run goes on; the message names the sink and the error.',
  RUN_RECOVERED:
    'A tracker starting on an output folder found the checkpoint of a run whose process died (SIGKILL, a crash), or a row kept because its CSV could not take it, and appended that row (status `interrupted` for a run that died). Printed at the info level.',
  NOT_RUNNING:
    'A method that needs a running tracker was called on one that is not (`stop()` before `start()`, `flush()`, `startTask()`, `request()` on a tracker not measuring): nothing is measured or written for it. Call and await `start()` first.',
  ALREADY_STARTED:
    '`start()` was called on a tracker that is already starting, running or stopped: ignored. Use a new tracker for a new run.',
  UNKNOWN_TASK:
    '`stopTask(name)` named no running task (never started, already stopped, or misspelt): it returns `undefined`.',
  TASK_RESTARTED: '`startTask(name)` named a task already running: it starts over from now.',
  START_FAILED:
    'The tracker could not start measuring (the message says why): the run goes on unmeasured, an `error` event is emitted, and `stop()` returns a record with status `failed`.',
  ATTRIBUTION_UNAVAILABLE:
    "The job's share cannot be read as `attribution` asks (not Linux, `/proc` not where `procRoot` says, no such process, no cgroup v2): the message says what is attributed instead (the whole machine, or the process tree), and why.",
  ATTRIBUTION_SHARED:
    "The cgroup holds more than the job (the root cgroup, or other processes, named): their CPU time and memory count as the job's. Run the job in a cgroup of its own (`systemd-run --user --scope -- <command>`, a container), or use `attribution: 'process'`.",
  INVALID_ARGUMENT:
    "A method was given what its types refuse, as plain JavaScript can (a `stop()` status, a task name that is not a non-empty string, `predict()` progress outside `0 ≤ done ≤ total`, an unknown event name, a listener that is not a function, `tfjsCallback`'s `epochs` or `predictAfter` that is not a whole number from 1; a request's count given under both its name and its former name with different values): the message names the value and what is allowed, and the call does the sane thing (the row `finished`, no task, no prediction, no listener, the new name's count).",
  REQUESTS_OPEN:
    'Request spans were still open at `stop()`: they are ended there, with a note in the record. End each span (`span.end()`) when its request ends.',
  ROUTE_LABELS_CAPPED:
    'More distinct request names than `maxRouteLabels` (default 100): the metric sinks count the rest under the route `other`. Name requests by route or model, not by user or URL, or raise `maxRouteLabels` (`WATTPRINT_MAX_ROUTE_LABELS`).',
  DEPRECATED_OPTION:
    "An option, a field or an environment variable was given by its former name, which is still read: `carbonIntensity` is `carbonIntensityGPerKWh` (`WATTPRINT_CARBON_INTENSITY` is `WATTPRINT_CARBON_INTENSITY_G_PER_KWH`), `wue` is `wueLPerKWh` (`WATTPRINT_WUE`: `WATTPRINT_WUE_L_PER_KWH`), `waterIntensity` is `waterIntensityLPerKWh` (`WATTPRINT_WATER_INTENSITY`: `WATTPRINT_WATER_INTENSITY_L_PER_KWH`), `embodied.kgCO2e` is `embodied.emissionsKg`, and the request counts `tokensIn` and `tokensOut` (of `span.end()`, `measure()`, the HTTP adapters' counts and `measurePipeline()`'s option) are `inputTokens` and `outputTokens`. The message names the new name: use it, with the same value (the unit is the same). Giving both names with different values is refused (an `OptionError` for an option; for the counts of a request, the new name's value is taken, with an `INVALID_ARGUMENT` warning). Printed once per process for each name. A tracker given a forecast option (`wattTime*`, `carbonAware*`, `forecastProvider`), which it never read, says so under this code too, and ignores it: pass it to `forecast()` or `bestWindow()`.",
  INTEGRATION_FAILED:
    "An integration could not do part of its work, and the call went on: a runtime wrapper (`measureOnnxSession`, `measurePipeline`, `measureLlamaSession`) could not open, mark or end its request span (the call runs unmeasured), could not count a call's tokens or items (the count is left out), or its `onRecord` threw; or `tfjsCallback` would stop training on the budget but was given no `model` to stop (pass `{ model }`). Said through the tracker the integration was given, once per message and tracker; an object that is not an `EmissionsTracker` (one of your own that opens spans) gets a process warning instead.",
}

/**
 * The method every tracker reports warnings through (its `warning` event and its stderr line), under a
 * registered symbol: the integrations, handed a tracker, report through it without importing the tracker,
 * and two copies of the package in one process still find each other's.
 */
export const WARN: unique symbol = Symbol.for('wattprint.warn')

/** What has a warning channel: an EmissionsTracker. */
export interface WarningChannel {
  [WARN](warning: TrackerWarning): void
}

/**
 * Reports `warning` through `tracker`'s channel. False when `tracker` has none (it is no EmissionsTracker:
 * a test's fake, an object of the user's that opens spans), and nothing was said. Never throws.
 */
export function warnThrough(tracker: unknown, warning: TrackerWarning): boolean {
  try {
    const warn =
      typeof tracker === 'object' && tracker !== null ? (tracker as Partial<WarningChannel>)[WARN] : undefined
    if (typeof warn !== 'function') return false
    warn.call(tracker, warning)
  } catch {
    // a tracker's warn never throws; an object whose property throws is no tracker of ours
  }
  return true
}
