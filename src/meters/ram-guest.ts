import { readFileSync } from 'node:fs'
import { ownCgroupDir } from '../attribution/cgroup.js'

/**
 * Watts per GB of memory allocated to a virtual machine or container: Cloud Carbon Footprint's memory
 * coefficient (0.392 W/GB, its methodology's "Memory" section, from the power of DDR4 modules per GB),
 * used where the module model would count DIMMs the guest does not own.
 */
export const GUEST_RAM_W_PER_GB = 0.392

const GB = 1e9

/** The memory a guest owns, and why it is a guest; null on a machine that owns its memory. */
export interface GuestMemory {
  readonly allocatedGB: number
  readonly why: string
}

/** Whether /proc/cpuinfo shows the `hypervisor` flag, which CPUs set when running under one. */
export function underHypervisor(cpuinfo: string): boolean {
  return /^flags\s*:.*\bhypervisor\b/m.test(cpuinfo)
}

/** The memory limit of this process's cgroup (v2 memory.max, else v1 memory.limit_in_bytes), bytes; null if none. */
function cgroupMemoryLimit(procRoot: string, totalBytes: number): number | null {
  const read = (path: string): number | null => {
    try {
      const text = readFileSync(path, 'utf8').trim()
      return /^\d+$/.test(text) ? Number(text) : null
    } catch {
      return null
    }
  }
  const own = ownCgroupDir('self', procRoot)
  const v2 = own.dir === null ? null : read(`${own.dir}/memory.max`)
  let v1: number | null = null
  try {
    const line = readFileSync(`${procRoot}/self/cgroup`, 'utf8')
      .split('\n')
      .find((l) => /^\d+:(?:[^:]*,)?memory(?:,[^:]*)?:/.test(l))
    const path = line?.slice(line.lastIndexOf(':') + 1)
    if (path !== undefined) v1 = read(`/sys/fs/cgroup/memory${path}/memory.limit_in_bytes`)
  } catch {}
  // v1 writes "no limit" as a huge number: only a limit below the machine's memory is one.
  const limits = [v2, v1].filter((l): l is number => l !== null && l > 0 && l < totalBytes)
  return limits.length > 0 ? Math.min(...limits) : null
}

/**
 * The memory this machine owns when it is a guest: a container's cgroup limit, else a virtual machine's
 * whole memory (a VM owns what it was given, not the host's DIMMs). Null on bare metal without a limit.
 */
export function guestMemory(totalBytes: number, procRoot = '/proc'): GuestMemory | null {
  const limit = cgroupMemoryLimit(procRoot, totalBytes)
  if (limit !== null) {
    return { allocatedGB: limit / GB, why: `a container's memory limit of ${(limit / GB).toFixed(1)} GB` }
  }
  let cpuinfo = ''
  try {
    cpuinfo = readFileSync(`${procRoot}/cpuinfo`, 'utf8')
  } catch {}
  if (underHypervisor(cpuinfo)) {
    return { allocatedGB: totalBytes / GB, why: `a virtual machine's ${(totalBytes / GB).toFixed(1)} GB` }
  }
  return null
}
