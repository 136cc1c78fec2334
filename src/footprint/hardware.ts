import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'

/** The parts of a machine the component model counts, as far as they could be read. */
export interface HostHardware {
  /** Whether the firmware calls the chassis a laptop, desktop or other non-server; null when unreadable. */
  readonly server: boolean | null
  /** The chassis type's SMBIOS number, for the note; null when unreadable. */
  readonly chassisType: number | null
  /** Local drives by kind; null when /sys/block could not be read. */
  readonly drives: { readonly ssd: number; readonly hdd: number } | null
  /**
   * Virtual disks, never counted as drives: a hypervisor's or a cloud's (virtio, Xen, QEMU, Hyper-V,
   * VMware, EBS, Persistent Disk), named with what gave them away: `vda (virtio)`.
   */
  readonly virtualDisks: readonly string[]
}

/** Where the facts are read: `/sys`, or a copy (a container's mount of the host's, a test's tree). */
export interface HardwareRoots {
  readonly sysRoot: string
}

const ROOTS: HardwareRoots = { sysRoot: '/sys' }

// SMBIOS 3.x chassis types that are not servers: desktops, laptops, tablets, all-in-ones, mini PCs, sticks.
const NOT_SERVERS = new Set([3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 14, 15, 16, 30, 31, 32, 33, 34, 35, 36])
// Block devices that are no drive at all: loops, RAM disks, device-mapper and RAID layers, optical, network.
const NOT_DRIVES = /^(loop|ram|zram|dm-|md|sr|nbd|fd|rbd|drbd)/

/**
 * What gives a virtual disk away: its kernel name (virtio-blk `vd*`, Xen `xvd*`), else the vendor, model or
 * PCI vendor id its device reports (a SCSI disk's `device/vendor` and `device/model`; an NVMe namespace's
 * controller `device/model` and its PCI function's `device/device/vendor`). Their rotational flag says
 * nothing: virtio and QEMU disks say 1 whatever the storage behind them.
 */
const VIRTUAL_NAMES: readonly [RegExp, string][] = [
  [/^vd[a-z]/, 'virtio'],
  [/^xvd/, 'Xen'],
]
const VIRTUAL_MAKERS: readonly [RegExp, string][] = [
  [/^(0x1af4$|red hat|virtio)/i, 'virtio'],
  [/qemu/i, 'QEMU'],
  [/vbox|virtualbox/i, 'VirtualBox'],
  [/^(vmware|vmw)|^0x15ad$/i, 'VMware'],
  [/^(msft|microsoft)|^0x1414$/i, 'Hyper-V'],
  [/^amazon|elastic block store|^0x1d0f$/i, 'Amazon'],
  [/^google|persistentdisk|nvme_card|^0x1ae0$/i, 'Google'],
  [/^xen|^0x5853$/i, 'Xen'],
  [/^virtual disk/i, 'virtual'],
]

const readText = (path: string): string | null => {
  try {
    return readFileSync(path, 'utf8').trim()
  } catch {
    return null
  }
}

/** Why a block device is a virtual disk (`virtio`, `QEMU`), or null for a drive of the machine's own. */
export function virtualDisk(blockRoot: string, name: string): string | null {
  for (const [pattern, what] of VIRTUAL_NAMES) if (pattern.test(name)) return what
  const device = join(blockRoot, name, 'device')
  for (const file of ['vendor', 'model', join('device', 'vendor')]) {
    const text = readText(join(device, file))
    if (!text) continue
    for (const [pattern, what] of VIRTUAL_MAKERS) if (pattern.test(text)) return what
  }
  return null
}

/** Reads the chassis type and the drives (a few small files; never throws). */
export function readHostHardware(roots: HardwareRoots = ROOTS): HostHardware {
  const chassis = Number.parseInt(readText(join(roots.sysRoot, 'class/dmi/id/chassis_type')) ?? '', 10)
  const chassisType = Number.isInteger(chassis) && chassis > 0 ? chassis : null
  const blockRoot = join(roots.sysRoot, 'block')
  let drives: HostHardware['drives'] = null
  const virtualDisks: string[] = []
  try {
    let ssd = 0
    let hdd = 0
    for (const name of readdirSync(blockRoot).sort()) {
      if (NOT_DRIVES.test(name)) continue
      // A drive with no size (an empty card reader) is no drive.
      if (Number(readText(join(blockRoot, name, 'size')) ?? 0) <= 0) continue
      const virtual = virtualDisk(blockRoot, name)
      if (virtual !== null) {
        virtualDisks.push(`${name} (${virtual})`)
        continue
      }
      const rotational = readText(join(blockRoot, name, 'queue', 'rotational'))
      if (rotational === '1') hdd += 1
      else ssd += 1
    }
    drives = { ssd, hdd }
  } catch {
    drives = null
  }
  // 1 (Other) and 2 (Unknown), what most virtual machines say, tell nothing.
  const known = chassisType !== null && chassisType > 2
  return { server: known ? !NOT_SERVERS.has(chassisType) : null, chassisType, drives, virtualDisks }
}
