import { type GuestRoots, HOST_ROOTS, readGuest } from '../guest.js'

export { underHypervisor } from '../guest.js'

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

/**
 * The memory this machine owns when it is a guest: a container's cgroup limit (v2 memory.max, v1
 * memory.limit_in_bytes, the smallest along its hierarchy), else a virtual machine's whole memory (a VM owns
 * what it was given, not the host's DIMMs). Null on bare metal without a limit.
 */
export function guestMemory(totalBytes: number, roots: GuestRoots = HOST_ROOTS): GuestMemory | null {
  const guest = readGuest(roots)
  const limitBytes = guest.memoryLimit === null ? null : guest.memoryLimit.gib * 2 ** 30
  // v1 writes "no limit" as a huge number: only a limit below the machine's memory is one.
  if (limitBytes !== null && limitBytes < totalBytes) {
    return {
      allocatedGB: limitBytes / GB,
      why: `a container's memory limit of ${(limitBytes / GB).toFixed(1)} GB`,
    }
  }
  if (guest.vm !== null) {
    return { allocatedGB: totalBytes / GB, why: `a virtual machine's ${(totalBytes / GB).toFixed(1)} GB` }
  }
  return null
}
