import type { MemoryMeasure } from '../model/attribution.js'
import { readSmallFile } from '../platform/sysfs.js'

/** The memory of a set of processes, and how it was counted. */
export interface ProcessMemory {
  readonly bytes: number
  /** `pss` when every process's smaps_rollup was read; `rss` when any fell back to its resident set. */
  readonly measure: MemoryMeasure
  /** Processes neither file could be read for (ended meanwhile, or another user's without ptrace rights). */
  readonly unreadable: number
}

const KIB = 1024

/** The `Pss:` line of /proc/<pid>/smaps_rollup, in bytes; null when absent. */
export function parsePss(smapsRollup: string): number | null {
  const match = /^Pss:\s+(\d+) kB$/m.exec(smapsRollup)
  return match ? Number(match[1]) * KIB : null
}

/** The `VmRSS:` line of /proc/<pid>/status, in bytes; null when absent (a kernel thread, a zombie). */
export function parseVmRss(status: string): number | null {
  const match = /^VmRSS:\s+(\d+) kB$/m.exec(status)
  return match ? Number(match[1]) * KIB : null
}

/** The resident pages of /proc/<pid>/statm (its second field); null when absent. */
export function parseResidentPages(statm: string): number | null {
  const resident = Number(statm.split(' ')[1])
  return Number.isFinite(resident) && resident >= 0 ? resident : null
}

/**
 * Sums the proportional set size (PSS: shared pages split among their users, so processes sharing a
 * library are not each charged for all of it) of `pids`, falling back to the resident set (RSS) for a
 * process whose smaps_rollup cannot be read (before Linux 4.14, or without ptrace rights). Never throws.
 */
export class ProcessMemoryReader {
  // smaps_rollup is a few hundred bytes; status about 1.5 kB.
  readonly #buffer = Buffer.allocUnsafe(8192)
  /** The last PSS read per pid, with the resident pages then, to scale it by between reads. */
  readonly #pss = new Map<number, { bytes: number; residentPages: number; atMs: number }>()

  constructor(
    private readonly procRoot = '/proc',
    /**
     * How often smaps_rollup is read again for a process: the kernel walks every mapping to answer it
     * (0.7 ms for a Node process), so in between the PSS is scaled by the resident set, from statm (10 µs).
     */
    private readonly pssRefreshMs = 10_000,
  ) {}

  read(pids: readonly number[]): ProcessMemory {
    let bytes = 0
    let measure: MemoryMeasure = 'pss'
    let unreadable = 0
    const nowMs = Date.now()
    for (const pid of pids) {
      const pss = this.#pssOf(pid, nowMs)
      if (pss !== null) {
        bytes += pss
        continue
      }
      const rss = this.#parse(`${this.procRoot}/${pid}/status`, parseVmRss)
      if (rss !== null) {
        bytes += rss
        measure = 'rss'
      } else unreadable++
    }
    if (this.#pss.size > 0) {
      const live = new Set(pids)
      for (const pid of this.#pss.keys()) if (!live.has(pid)) this.#pss.delete(pid)
    }
    return { bytes, measure, unreadable }
  }

  /** A process's PSS: read afresh every pssRefreshMs, else the last one scaled by its resident pages. */
  #pssOf(pid: number, nowMs: number): number | null {
    const resident = this.#parse(`${this.procRoot}/${pid}/statm`, parseResidentPages)
    const last = this.#pss.get(pid)
    if (last && resident !== null && last.residentPages > 0 && nowMs - last.atMs < this.pssRefreshMs) {
      return last.bytes * (resident / last.residentPages)
    }
    const pss = this.#parse(`${this.procRoot}/${pid}/smaps_rollup`, parsePss)
    if (pss !== null && resident !== null)
      this.#pss.set(pid, { bytes: pss, residentPages: resident, atMs: nowMs })
    return pss
  }

  #parse(path: string, parse: (text: string) => number | null): number | null {
    try {
      return parse(readSmallFile(path, this.#buffer))
    } catch {
      return null
    }
  }
}
