import { arch, cpus, type as osType, release, totalmem } from 'node:os'
import { describeError } from '../core/errors.js'
import { BYTES_PER_GIB } from '../core/units.js'
import { LINUX_ROOTS, type LinuxRoots, readLinuxSystem } from './linux-system.js'

/** What wattprint knows of the machine, gathered once per process at the first start(). */
export interface SystemInfo {
  /** CPU brand string as the OS reports it (`Intel(R) Xeon(R) Gold 6248 CPU @ 2.50GHz`). */
  readonly cpuModel: string
  /** Logical CPUs (threads). */
  readonly cpuCount: number
  /** Physical CPU packages. */
  readonly sockets: number
  readonly ramTotalGiB: number
  /** Populated memory modules when the firmware tables could be read (the SMBIOS table, as root), else null. */
  readonly memoryModules: number | null
  readonly isArm: boolean
  /** `Linux-6.1.0-x86_64`-style description. */
  readonly os: string
  /** Problems met while gathering this (kept for detect and debug logs). */
  readonly problems: readonly string[]
}

let cached: Promise<SystemInfo> | undefined

/**
 * Gathers the machine's description once per process. On Linux it is a few reads of /proc and /sys, with
 * no child process; elsewhere systeminformation asks the OS's tools (tens of milliseconds to seconds:
 * never in the sampling loop). Never rejects: missing facts fall back to os.*.
 */
export function getSystemInfo(): Promise<SystemInfo> {
  cached ??=
    process.platform === 'linux'
      ? Promise.resolve(linuxSystemInfo())
      : gatherElsewhere().catch((error: unknown) => ({
          ...fallbackSystemInfo(),
          problems: [`systeminformation could not be used: ${describeError(error)}`],
        }))
  return cached
}

/** The machine's description from `/proc` and `/sys` under `roots` (os.* for what they lack). */
export function linuxSystemInfo(roots: LinuxRoots = LINUX_ROOTS): SystemInfo {
  const facts = readLinuxSystem(roots)
  const fallback = fallbackSystemInfo()
  return {
    ...fallback,
    cpuModel: facts.cpu?.model || fallback.cpuModel,
    cpuCount: facts.cpu?.logicalCpus || fallback.cpuCount || 1,
    sockets: facts.sockets ?? 1,
    memoryModules: facts.memoryModules,
    problems: facts.problems,
  }
}

/** macOS, Windows and the BSDs: systeminformation, imported only there (it costs ~50 ms to load). */
async function gatherElsewhere(): Promise<SystemInfo> {
  const problems: string[] = []
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
  // memLayout returns one synthetic entry (no type, no bank) when the layout cannot be read.
  const realModules = layout.filter((m) => m.size > 0 && (m.type !== '' || m.bank !== ''))
  const fallback = fallbackSystemInfo()
  const brand =
    fallback.cpuModel !== 'unknown'
      ? fallback.cpuModel
      : [cpu?.manufacturer, cpu?.brand].filter(Boolean).join(' ')
  return {
    ...fallback,
    cpuModel: brand || 'unknown',
    cpuCount: fallback.cpuCount || cpu?.cores || 1,
    sockets: Math.max(1, cpu?.processors ?? 1),
    memoryModules: realModules.length > 0 ? realModules.length : null,
    problems,
  }
}

/** What is known from os.* alone, for a tracker whose start failed early. */
export function fallbackSystemInfo(): SystemInfo {
  const osCpus = cpus()
  return {
    cpuModel: osCpus[0]?.model?.trim() || 'unknown',
    cpuCount: osCpus.length,
    sockets: 1,
    ramTotalGiB: totalmem() / BYTES_PER_GIB,
    memoryModules: null,
    isArm: arch().startsWith('arm'),
    os: `${osType()}-${release()}-${arch()}`,
    problems: [],
  }
}
