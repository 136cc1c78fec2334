import { existsSync } from 'node:fs'
import type { GpuShare } from '../model/attribution.js'
import type { Nvml, NvmlDevice } from '../platform/nvml.js'

// nvmlReturn_t codes this reader tells apart.
const SUCCESS = 0
const INSUFFICIENT_SIZE = 7
/** sizeof(nvmlProcessInfo_t) for the _v3 call: pid, 4 bytes of padding, usedGpuMemory, two instance ids. */
const PROCESS_INFO_BYTES = 24
/** sizeof(nvmlProcessUtilizationSample_t): pid, padding, timeStamp (us), sm, mem, enc, dec. */
const SAMPLE_BYTES = 32
/**
 * How far back the share looks, at least: the driver keeps one sample every 200 ms, each of ONE process
 * (seen on an H200, docs/gpu-validation.md), so an interval shorter than this would be judged on one sample
 * or none. 1 s holds five or six.
 */
const WINDOW_US = 1_000_000n

/** One of the driver's samples: who held the GPU then, and how busy its SMs were. */
interface Sample {
  readonly stampUs: bigint
  readonly pid: number
  readonly sm: number
}

/**
 * Which share of each GPU a job's processes use, from nvmlDeviceGetComputeRunningProcesses_v3 and
 * nvmlDeviceGetProcessUtilization (SM utilisation sampled per process by the driver, as Kepler uses it).
 * The share is the job's part of the SM utilisation summed over the samples since the last read and at
 * least the last second: a sample is one process's, so a process that holds the GPU in more samples gets
 * more (a mean per process would give two processes the same share whatever their turns).
 * Read in the sampler thread on the same Nvml as the meter. Never throws.
 */
export class GpuProcessReader {
  readonly #lastSeenUs: bigint[]
  /** Each GPU's recent samples, oldest first. */
  readonly #recent: Sample[][]
  #infos = Buffer.alloc(PROCESS_INFO_BYTES * 16)
  #sampleBuffer = Buffer.alloc(SAMPLE_BYTES * 16)
  readonly #count = [0]

  constructor(
    private readonly nvml: Nvml,
    private readonly devices: readonly NvmlDevice[],
    private readonly procRoot = '/proc',
  ) {
    this.#lastSeenUs = devices.map(() => 0n)
    this.#recent = devices.map(() => [])
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
    const samples = this.#recentSamples(device, i)
    if (pids.length === 0) return { share: 0, method: 'idle', ...base }
    let total = 0
    let job = 0
    for (const { pid, sm } of samples) {
      total += sm
      if (jobPids.has(pid)) job += sm
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

  /** The samples since the last call, and those of the last WINDOW_US before the newest. */
  #recentSamples(device: NvmlDevice, i: number): readonly Sample[] {
    const recent = this.#recent[i] ?? []
    const get = this.nvml.fn.getProcessUtilization
    if (!get) return recent
    const lastSeen = this.#lastSeenUs[i] ?? 0n
    let newest = lastSeen
    for (let attempt = 0; attempt < 3; attempt++) {
      this.#count[0] = this.#sampleBuffer.length / SAMPLE_BYTES
      const rc = get(device.handle, this.#sampleBuffer, this.#count, lastSeen)
      const count = this.#count[0] ?? 0
      if (rc === INSUFFICIENT_SIZE) {
        this.#sampleBuffer = Buffer.alloc(SAMPLE_BYTES * (count + 8))
        continue
      }
      // NOT_FOUND: no sample newer than lastSeen.
      if (rc !== SUCCESS) break
      for (let k = 0; k < count; k++) {
        const at = k * SAMPLE_BYTES
        const stampUs = this.#sampleBuffer.readBigUInt64LE(at + 8)
        if (stampUs <= lastSeen) continue
        if (stampUs > newest) newest = stampUs
        recent.push({
          stampUs,
          pid: this.#sampleBuffer.readUInt32LE(at),
          sm: this.#sampleBuffer.readUInt32LE(at + 16),
        })
      }
      break
    }
    this.#lastSeenUs[i] = newest
    // Keep what came since the last call, and at least the last second of samples; at the first call, the
    // last second only (the driver's buffer holds samples from before the job).
    const from = lastSeen > 0n && lastSeen < newest - WINDOW_US ? lastSeen + 1n : newest - WINDOW_US
    const kept = recent.filter((s) => s.stampUs >= from).sort((a, b) => (a.stampUs < b.stampUs ? -1 : 1))
    this.#recent[i] = kept
    return kept
  }
}
