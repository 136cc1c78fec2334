import { existsSync } from 'node:fs'
import { jobCgroup } from './cgroup.js'
import { ProcessMemoryReader } from './memory.js'

/** Which attribution this machine allows, and why not where it does not: for `wattprint detect`. */
export interface AttributionDetection {
  /** `--attribution process`: possible, or why not. */
  readonly process: string
  /**
   * `--attribution cgroup`: this process's cgroup v2 folder, whether other processes share it and how its
   * memory is read; or why there is none to read (the root cgroup is the machine's, not a job's).
   */
  readonly cgroup: string
  /** How a process's memory is counted here. */
  readonly memory: string
  /** How a GPU's share is found here. */
  readonly gpu: string
}

/**
 * Looks at /proc (under `procRoot`) as the attribution readers would. `nvmlProcesses`: whether the NVML
 * loaded can list compute processes; null when no GPU is measured through NVML.
 */
export function detectAttribution(procRoot: string, nvmlProcesses: boolean | null): AttributionDetection {
  const self = `${procRoot}/${process.pid}`
  const process_ = !existsSync(`${self}/stat`)
    ? `not possible: ${self}/stat cannot be read (not Linux, or /proc is elsewhere: procRoot)`
    : existsSync(`${self}/task/${process.pid}/children`)
      ? 'possible: process trees from /proc/<pid>/task/*/children'
      : 'possible: process trees by scanning every process in /proc (no children files in this kernel), slower with many processes'
  const own = jobCgroup(null, procRoot)
  const cgroup =
    own.dir === null
      ? `not possible: ${own.why}; a run asked for it attributes to its process tree instead`
      : `${
          own.others.length > 0
            ? `possible, but this process's cgroup ${own.dir} also holds ${own.others.length} process(es) that are ` +
              "not this one, its children or its parents, which would count as the job's (run the job in a cgroup " +
              'of its own: systemd-run --user --scope -- <command>, a container)'
            : `possible: this process's cgroup is ${own.dir}`
        }; memory by ${own.memoryCurrent ? 'its memory.current' : "its processes' PSS (no memory.current there: the memory controller is not enabled for it)"}`
  const memory = new ProcessMemoryReader(procRoot).read([process.pid])
  return {
    process: process_,
    cgroup,
    memory:
      memory.unreadable > 0
        ? 'unknown: /proc/<pid>/smaps_rollup and status cannot be read'
        : memory.measure === 'pss'
          ? 'PSS from /proc/<pid>/smaps_rollup'
          : 'RSS from /proc/<pid>/status (no smaps_rollup: Linux before 4.14)',
    gpu:
      nvmlProcesses === null
        ? 'no GPU measured through NVML: GPU energy is not attributed'
        : nvmlProcesses
          ? 'by SM samples per process (NVML)'
          : 'not possible: this NVML cannot list compute processes; GPU energy is not attributed',
  }
}
