import { existsSync } from 'node:fs'
import type { Nvml, NvmlDevice } from '../meters/nvml.js'

// nvmlReturn_t codes this reader tells apart.
const SUCCESS = 0
const NOT_FOUND = 6
const INSUFFICIENT_SIZE = 7
/** sizeof(nvmlProcessInfo_t) for the _v3 call: pid, 4 bytes of padding, usedGpuMemory, two instance ids. */
const PROCESS_INFO_BYTES = 24
/** sizeof(nvmlProcessUtilizationSample_t): pid, padding, timeStamp (us), sm, mem, enc, dec. */
const SAMPLE_BYTES = 32

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

/**
 * Which share of each GPU a job's processes use, from nvmlDeviceGetComputeRunningProcesses_v3 and
 * nvmlDeviceGetProcessUtilization (SM utilisation sampled per process by the driver, as Kepler uses it).
 * Read in the sampler thread on the same Nvml as the meter. Never throws.
 */
export class GpuProcessReader {
  readonly #lastSeenUs: bigint[]
  #infos = Buffer.alloc(PROCESS_INFO_BYTES * 16)
  #samples = Buffer.alloc(SAMPLE_BYTES * 16)
  readonly #count = [0]

  constructor(
    private readonly nvml: Nvml,
    private readonly devices: readonly NvmlDevice[],
    private readonly procRoot = '/proc',
  ) {
    this.#lastSeenUs = devices.map(() => 0n)
  }

  /** Whether this NVML can list compute processes at all. */
  get supported(): boolean {
    return this.nvml.fn.getComputeProcesses !== undefined
  }

  /** Each GPU's share for the job whose live processes are `jobPids`, since the previous call. */
  read(jobPids: ReadonlySet<number>): GpuShare[] {
    return this.devices.map((device, i) => {
      try {
        return this.#share(device, i, jobPids)
      } catch {
        return { share: 0, method: 'unknown', processes: 0, jobProcesses: 0, foreignProcesses: 0 }
      }
    })
  }

  #share(device: NvmlDevice, i: number, jobPids: ReadonlySet<number>): GpuShare {
    const pids = this.#computePids(device)
    if (pids === null)
      return { share: 0, method: 'unknown', processes: 0, jobProcesses: 0, foreignProcesses: 0 }
    const jobProcesses = pids.filter((pid) => jobPids.has(pid)).length
    const foreignProcesses = pids.filter(
      (pid) => !jobPids.has(pid) && !existsSync(`${this.procRoot}/${pid}`),
    ).length
    const base = { processes: pids.length, jobProcesses, foreignProcesses }
    const sm = this.#smByPid(device, i)
    if (pids.length === 0) return { share: 0, method: 'idle', ...base }
    let total = 0
    let job = 0
    for (const [pid, util] of sm) {
      total += util
      if (jobPids.has(pid)) job += util
    }
    if (total > 0) return { share: job / total, method: 'sm', ...base }
    if (jobProcesses === 0 || jobProcesses === pids.length) {
      return { share: jobProcesses === 0 ? 0 : 1, method: 'exclusive', ...base }
    }
    return { share: jobProcesses / pids.length, method: 'count', ...base }
  }

  /** The pids of the GPU's compute processes; null when NVML cannot list them. */
  #computePids(device: NvmlDevice): number[] | null {
    const get = this.nvml.fn.getComputeProcesses
    if (!get) return null
    for (let attempt = 0; attempt < 3; attempt++) {
      this.#count[0] = this.#infos.length / PROCESS_INFO_BYTES
      const rc = get(device.handle, this.#count, this.#infos)
      const count = this.#count[0] ?? 0
      if (rc === INSUFFICIENT_SIZE) {
        this.#infos = Buffer.alloc(PROCESS_INFO_BYTES * (count + 8))
        continue
      }
      if (rc !== SUCCESS) return null
      return Array.from({ length: count }, (_, k) => this.#infos.readUInt32LE(k * PROCESS_INFO_BYTES))
    }
    return null
  }

  /** SM utilisation per pid over the samples since the last call, averaged per pid. */
  #smByPid(device: NvmlDevice, i: number): Map<number, number> {
    const sums = new Map<number, { sum: number; n: number }>()
    const get = this.nvml.fn.getProcessUtilization
    if (!get) return new Map()
    const lastSeen = this.#lastSeenUs[i] ?? 0n
    for (let attempt = 0; attempt < 3; attempt++) {
      this.#count[0] = this.#samples.length / SAMPLE_BYTES
      const rc = get(device.handle, this.#samples, this.#count, lastSeen)
      const count = this.#count[0] ?? 0
      if (rc === INSUFFICIENT_SIZE) {
        this.#samples = Buffer.alloc(SAMPLE_BYTES * (count + 8))
        continue
      }
      if (rc === NOT_FOUND || rc !== SUCCESS) break
      let newest = lastSeen
      for (let k = 0; k < count; k++) {
        const at = k * SAMPLE_BYTES
        const pid = this.#samples.readUInt32LE(at)
        const stamp = this.#samples.readBigUInt64LE(at + 8)
        if (stamp <= lastSeen) continue
        if (stamp > newest) newest = stamp
        const entry = sums.get(pid) ?? { sum: 0, n: 0 }
        entry.sum += this.#samples.readUInt32LE(at + 16)
        entry.n += 1
        sums.set(pid, entry)
      }
      this.#lastSeenUs[i] = newest
      break
    }
    return new Map([...sums].map(([pid, { sum, n }]) => [pid, sum / n]))
  }
}
