import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'

/** The parts of a bare-metal machine the component model counts, as far as they could be read. */
export interface HostHardware {
  /** Whether the firmware calls the chassis a laptop, desktop or other non-server; null when unreadable. */
  readonly server: boolean | null
  /** The chassis type's SMBIOS number, for the note; null when unreadable. */
  readonly chassisType: number | null
  /** Local drives by kind; null when /sys/block could not be read. */
  readonly drives: { readonly ssd: number; readonly hdd: number } | null
}

/** Where the facts are read; tests point them at a temporary tree. */
export interface HardwareRoots {
  readonly dmiRoot: string
  readonly blockRoot: string
}

const ROOTS: HardwareRoots = { dmiRoot: '/sys/class/dmi/id', blockRoot: '/sys/block' }

// SMBIOS 3.x chassis types that are not servers: desktops, laptops, tablets, all-in-ones, mini PCs, sticks.
const NOT_SERVERS = new Set([3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 14, 15, 16, 30, 31, 32, 33, 34, 35, 36])
// Block devices that are no local drive: loops, RAM disks, device-mapper and RAID layers, optical, network.
const VIRTUAL = /^(loop|ram|zram|dm-|md|sr|nbd|fd|rbd|drbd|xvd)/

const readText = (path: string): string | null => {
  try {
    return readFileSync(path, 'utf8').trim()
  } catch {
    return null
  }
}

/** Reads the chassis type and the local drives (a few small files; never throws). */
export function readHostHardware(roots: HardwareRoots = ROOTS): HostHardware {
  const chassis = Number.parseInt(readText(join(roots.dmiRoot, 'chassis_type')) ?? '', 10)
  const chassisType = Number.isInteger(chassis) && chassis > 0 ? chassis : null
  let drives: HostHardware['drives'] = null
  try {
    let ssd = 0
    let hdd = 0
    for (const name of readdirSync(roots.blockRoot)) {
      if (VIRTUAL.test(name)) continue
      // A drive with no size (an empty card reader) is no drive.
      if (Number(readText(join(roots.blockRoot, name, 'size')) ?? 0) <= 0) continue
      const rotational = readText(join(roots.blockRoot, name, 'queue', 'rotational'))
      if (rotational === '1') hdd += 1
      else ssd += 1
    }
    drives = { ssd, hdd }
  } catch {
    drives = null
  }
  // 1 (Other) and 2 (Unknown), what most virtual machines say, tell nothing.
  const known = chassisType !== null && chassisType > 2
  return { server: known ? !NOT_SERVERS.has(chassisType) : null, chassisType, drives }
}
