/** How a set of processes' memory was counted. */
export type MemoryMeasure = 'pss' | 'rss'

/** How a GPU's share was found for one interval. */
export type GpuShareMethod =
  /** By the SM utilisation NVML sampled per process. */
  | 'sm'
  /** Every compute process was the job's, or none was: all or nothing. */
  | 'exclusive'
  /** Processes of the job and of others, with no SM samples: split by the count of processes. */
  | 'count'
  /** No compute process at all: the GPU idled, as far as NVML can tell. */
  | 'idle'
  /** NVML cannot list processes here (an old driver, or an error). */
  | 'unknown'

/** One GPU's share for one interval. */
export interface GpuShare {
  /** The job's share of the GPU's active power, in [0, 1]. */
  readonly share: number
  readonly method: GpuShareMethod
  /** Compute processes NVML listed. */
  readonly processes: number
  /** Of them, the job's. */
  readonly jobProcesses: number
  /** Listed processes that do not exist in this PID namespace (a container without `--pid=host`). */
  readonly foreignProcesses: number
}

/** The job's and the machine's use of each component over one interval: plain numbers for the ledger. */
export interface AttributionSample {
  /** CPU seconds the job used in the interval; null when they could not be read (the cgroup's cpu.stat). */
  readonly jobCpuS: number | null
  /**
   * CPU seconds the tracker itself used in the interval (its sampler thread, or all of `wattprint run`'s
   * process, and the processes it started), never part of jobCpuS; null where its time cannot be told
   * from the job's (sampling on the job's own thread) or read.
   */
  readonly trackerCpuS: number | null
  /** CPU seconds the whole machine was busy in it (all CPUs), from /proc/stat. */
  readonly machineBusyCpuS: number
  /** CPU seconds the machine had in it (busy and idle). */
  readonly machineTotalCpuS: number
  /**
   * The job's memory at the interval's end (PSS, RSS or the cgroup's memory.current); null when unknown
   * (no process's could be read), never 0 for unknown.
   */
  readonly jobMemoryBytes: number | null
  /** The machine's used memory then (MemTotal − MemAvailable); null if unknown. */
  readonly usedMemoryBytes: number | null
  readonly memoryMeasure: MemoryMeasure | 'cgroup' | null
  /** Live processes of the job (0 once the process tree has ended). */
  readonly processes: number
  /** Each measured GPU's share, in the GPU meter's channel order; null without NVML's process queries. */
  readonly gpu: readonly GpuShare[] | null
}
