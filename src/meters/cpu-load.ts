import { cpus } from 'node:os'
import { readSmallFile } from './sysfs.js'

/** Cumulative CPU time of the whole machine, in clock ticks (or ms from os.cpus()). */
export interface CpuTimes {
  readonly busy: number
  readonly total: number
}

/**
 * Parses the aggregate `cpu` line of /proc/stat. guest and guest_nice are left out: the kernel already
 * counts them inside user and nice. Busy time is everything but idle and iowait.
 */
export function parseProcStat(text: string): CpuTimes | null {
  const line = text.slice(0, text.indexOf('\n') === -1 ? text.length : text.indexOf('\n'))
  const fields = line.trim().split(/\s+/)
  if (fields[0] !== 'cpu' || fields.length < 5) return null
  const values = fields.slice(1, 9).map(Number)
  if (values.some((v) => !Number.isFinite(v) || v < 0)) return null
  const [user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0] = values
  const busy = user + nice + system + irq + softirq + steal
  return { busy, total: busy + idle + iowait }
}

/** The same totals from os.cpus(), for systems without /proc/stat. */
export function osCpuTimes(): CpuTimes | null {
  let busy = 0
  let total = 0
  for (const cpu of cpus()) {
    const { user, nice, sys, idle, irq } = cpu.times
    busy += user + nice + sys + irq
    total += user + nice + sys + irq + idle
  }
  return total > 0 ? { busy, total } : null
}

/** Reads machine CPU times from `procStatPath`, falling back to os.cpus() when it cannot be read. */
export function readCpuTimes(
  procStatPath: string,
  buffer: Buffer = Buffer.allocUnsafe(512),
): CpuTimes | null {
  try {
    const parsed = parseProcStat(readSmallFile(procStatPath, buffer))
    if (parsed) return parsed
  } catch {
    // not Linux, or /proc not mounted: os.cpus() below
  }
  return osCpuTimes()
}

/** Machine load in [0, 1] between two readings; null when no time passed. */
export function loadBetween(before: CpuTimes, after: CpuTimes): number | null {
  const total = after.total - before.total
  if (!(total > 0)) return null
  return Math.min(1, Math.max(0, (after.busy - before.busy) / total))
}
