import { arch, cpus, type as osType, release, totalmem } from 'node:os'
import { describeError } from './errors.js'
import { BYTES_PER_GIB } from './units.js'

/** What wattprint knows of the machine, gathered once per process at the first start(). */
export interface SystemInfo {
  /** CPU brand string as the OS reports it (`Intel(R) Xeon(R) Gold 6248 CPU @ 2.50GHz`). */
  readonly cpuModel: string
  /** Logical CPUs (threads). */
  readonly cpuCount: number
  /** Physical CPU packages. */
  readonly sockets: number
  readonly ramTotalGiB: number
  /** Populated memory modules when the firmware tables could be read (dmidecode, as root), else null. */
  readonly memoryModules: number | null
  readonly isArm: boolean
  /** `Linux-6.1.0-x86_64`-style description. */
  readonly os: string
  /** Problems met while gathering this (kept for detect and debug logs). */
  readonly problems: readonly string[]
}

let cached: Promise<SystemInfo> | undefined

/**
 * Gathers the machine's description once per process (systeminformation spawns lscpu and dmidecode,
 * tens of milliseconds: never in the sampling loop). Never rejects: missing facts fall back to os.*.
 */
export function getSystemInfo(): Promise<SystemInfo> {
  cached ??= gather().catch((error: unknown) => ({
    ...fallbackSystemInfo(),
    problems: [`systeminformation could not be used: ${describeError(error)}`],
  }))
  return cached
}

async function gather(): Promise<SystemInfo> {
  const problems: string[] = []
  const osCpus = cpus()
  // Imported here, not at the top: it costs ~50 ms to load, and only a started tracker needs it.
  const si = (await import('systeminformation')).default
  const [cpu, layout] = await Promise.all([
    si.cpu().catch((error: unknown) => {
      problems.push(`systeminformation.cpu(): ${describeError(error)}`)
      return null
    }),
    si.memLayout().catch((error: unknown) => {
      problems.push(`systeminformation.memLayout(): ${describeError(error)}`)
      return []
    }),
  ])
  // memLayout returns one synthetic entry (no type, no bank) when dmidecode is missing or not root.
  const realModules = layout.filter((m) => m.size > 0 && (m.type !== '' || m.bank !== ''))
  const brand = osCpus[0]?.model?.trim() || [cpu?.manufacturer, cpu?.brand].filter(Boolean).join(' ')
  return {
    cpuModel: brand || 'unknown',
    cpuCount: osCpus.length || cpu?.cores || 1,
    sockets: Math.max(1, cpu?.processors ?? 1),
    ramTotalGiB: totalmem() / BYTES_PER_GIB,
    memoryModules: realModules.length > 0 ? realModules.length : null,
    isArm: arch().startsWith('arm'),
    os: `${osType()}-${release()}-${arch()}`,
    problems,
  }
}

/** What is known without systeminformation, for a tracker whose start failed early. */
export function fallbackSystemInfo(): SystemInfo {
  return {
    cpuModel: cpus()[0]?.model?.trim() || 'unknown',
    cpuCount: cpus().length,
    sockets: 1,
    ramTotalGiB: totalmem() / BYTES_PER_GIB,
    memoryModules: null,
    isArm: arch().startsWith('arm'),
    os: `${osType()}-${release()}-${arch()}`,
    problems: [],
  }
}
