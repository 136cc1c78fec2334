import { closeSync, fstatSync, openSync, readSync } from 'node:fs'
import { cpus } from 'node:os'

/** Cumulative CPU time of the whole machine, in clock ticks (or ms from os.cpus()). */
export interface CpuTimes {
  readonly busy: number
  readonly total: number
}

const SPACE = 0x20
const TAB = 0x09
const NEWLINE = 0x0a
const DIGIT_0 = 0x30
const DIGIT_9 = 0x39
/** user nice system idle iowait irq softirq steal: the fields read (guest and guest_nice come after). */
const FIELDS = 8
/** The aggregate line is under 200 bytes on any machine (ten counters of at most 20 digits). */
const LINE_BYTES = 512

/**
 * Parses the aggregate `cpu` line at the start of /proc/stat, from its bytes (no string is made: this
 * runs every sample). guest and guest_nice are left out: the kernel already counts them inside user and
 * nice. Busy time is everything but idle and iowait.
 */
export function parseProcStatBytes(bytes: Uint8Array, length = bytes.length): CpuTimes | null {
  const end = Math.min(length, bytes.length)
  if (end < 4 || bytes[0] !== 0x63 || bytes[1] !== 0x70 || bytes[2] !== 0x75) return null // "cpu"
  if (bytes[3] !== SPACE && bytes[3] !== TAB) return null // "cpu0 …" first: not /proc/stat
  const values = [0, 0, 0, 0, 0, 0, 0, 0]
  let count = 0
  let i = 3
  while (i < end && count < FIELDS) {
    const c = bytes[i] as number
    if (c === NEWLINE) break
    if (c === SPACE || c === TAB) {
      i += 1
      continue
    }
    let value = 0
    let digit = c
    while (digit >= DIGIT_0 && digit <= DIGIT_9) {
      value = value * 10 + (digit - DIGIT_0)
      i += 1
      digit = i < end ? (bytes[i] as number) : NEWLINE
    }
    // A field that is not a plain non-negative integer makes the line unreadable.
    if (digit !== SPACE && digit !== TAB && digit !== NEWLINE) return null
    values[count++] = value
  }
  if (count < 4) return null
  const [user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0] = values
  const busy = user + nice + system + irq + softirq + steal
  return { busy, total: busy + idle + iowait }
}

/** parseProcStatBytes() for text. */
export function parseProcStat(text: string): CpuTimes | null {
  return parseProcStatBytes(Buffer.from(text.slice(0, LINE_BYTES), 'latin1'))
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

/** Reads machine CPU times from `procStatPath` once, falling back to os.cpus() when it cannot be read. */
export function readCpuTimes(procStatPath: string): CpuTimes | null {
  const reader = new CpuTimesReader(procStatPath)
  try {
    return reader.read()
  } finally {
    reader.close()
  }
}

/**
 * Reads machine CPU times from `procStatPath` again and again, as a meter does every sample. A procfs file
 * (size 0: generated on each read) stays open and is read at offset 0, which regenerates it: the open and
 * close were most of a cold read's cost. Any other file (a test's fixture, which may be replaced) is
 * opened anew each time. Falls back to os.cpus() when the file cannot be read; close() when done.
 */
export class CpuTimesReader {
  #fd: number | null = null
  #keepOpen = false
  readonly #buffer = Buffer.allocUnsafe(LINE_BYTES)

  constructor(readonly path: string) {}

  read(): CpuTimes | null {
    try {
      const parsed = parseProcStatBytes(this.#buffer, this.#readBytes())
      if (parsed) return parsed
    } catch {
      // not Linux, or /proc not mounted: os.cpus() below
      this.close()
    }
    return osCpuTimes()
  }

  close(): void {
    const fd = this.#fd
    this.#fd = null
    if (fd === null) return
    try {
      closeSync(fd)
    } catch {
      // already gone
    }
  }

  #readBytes(): number {
    if (this.#fd === null) {
      this.#fd = openSync(this.path, 'r')
      this.#keepOpen = fstatSync(this.#fd).size === 0
    }
    try {
      return readSync(this.#fd, this.#buffer, 0, LINE_BYTES, 0)
    } finally {
      if (!this.#keepOpen) this.close()
    }
  }
}

/** Machine load in [0, 1] between two readings; null when no time passed. */
export function loadBetween(before: CpuTimes, after: CpuTimes): number | null {
  const total = after.total - before.total
  if (!(total > 0)) return null
  return Math.min(1, Math.max(0, (after.busy - before.busy) / total))
}
