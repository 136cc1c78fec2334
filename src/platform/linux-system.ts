import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describeError } from '../core/errors.js'

/** Where the Linux reader looks: the real `/proc` and `/sys`, or a copy (a container's mount, a test fixture). */
export interface LinuxRoots {
  readonly procRoot: string
  readonly sysRoot: string
}

/** The default roots. */
export const LINUX_ROOTS: LinuxRoots = { procRoot: '/proc', sysRoot: '/sys' }

/** What /proc/cpuinfo says of the CPUs. */
export interface CpuInfo {
  /** The brand string (`model name`), or an Arm core's name from its implementer and part; null if none. */
  readonly model: string | null
  /** Logical CPUs online (`processor` entries). */
  readonly logicalCpus: number
  /** Distinct `physical id` values; 0 when the file has none (most Arm kernels). */
  readonly physicalIds: number
}

/** The machine as Linux describes it in files, read without running any program. */
export interface LinuxSystemFacts {
  readonly cpu: CpuInfo | null
  /** Physical CPU packages; null when neither sysfs topology nor cpuinfo says. */
  readonly sockets: number | null
  /** Populated memory modules from the SMBIOS table (readable by root only, as for dmidecode); else null. */
  readonly memoryModules: number | null
  readonly problems: readonly string[]
}

/** The names lscpu gives the commonest Arm server and SBC cores (implementer 0x41 Arm, 0xc0 Ampere). */
const ARM_PARTS: Readonly<Record<string, string>> = {
  '0x41:0xd03': 'Cortex-A53',
  '0x41:0xd05': 'Cortex-A55',
  '0x41:0xd07': 'Cortex-A57',
  '0x41:0xd08': 'Cortex-A72',
  '0x41:0xd0b': 'Cortex-A76',
  '0x41:0xd0c': 'Neoverse-N1',
  '0x41:0xd40': 'Neoverse-V1',
  '0x41:0xd49': 'Neoverse-N2',
  '0x41:0xd4f': 'Neoverse-V2',
  '0x41:0xd84': 'Neoverse-V3',
  '0x41:0xd8e': 'Neoverse-N3',
  '0xc0:0xac3': 'Ampere-1',
  '0xc0:0xac4': 'Ampere-1a',
}

/** Parses /proc/cpuinfo (x86 `model name` and `physical id`; Arm `CPU implementer` and `CPU part`). */
export function parseCpuInfo(text: string): CpuInfo {
  let model: string | null = null
  let hardware: string | null = null
  let implementer: string | null = null
  let part: string | null = null
  let logicalCpus = 0
  const physicalIds = new Set<string>()
  for (const line of text.split('\n')) {
    const colon = line.indexOf(':')
    if (colon === -1) continue
    const key = line.slice(0, colon).trim().toLowerCase()
    const value = line.slice(colon + 1).trim()
    if (key === 'processor' && /^\d+$/.test(value)) logicalCpus += 1
    else if (key === 'model name' && value) model ??= value
    else if (key === 'physical id') physicalIds.add(value)
    else if (key === 'cpu implementer') implementer ??= value.toLowerCase()
    else if (key === 'cpu part') part ??= value.toLowerCase()
    else if (key === 'hardware' && value) hardware ??= value
  }
  const arm = implementer && part ? (ARM_PARTS[`${implementer}:${part}`] ?? null) : null
  return { model: model ?? arm ?? hardware, logicalCpus, physicalIds: physicalIds.size }
}

/** Distinct CPU packages from `<sysRoot>/devices/system/cpu/cpuN/topology/physical_package_id`; null if none. */
export function countPackages(sysRoot: string): number | null {
  const cpuDir = join(sysRoot, 'devices/system/cpu')
  const packages = new Set<number>()
  for (const name of readdirSync(cpuDir)) {
    if (!/^cpu\d+$/.test(name)) continue
    try {
      const id = Number(readFileSync(join(cpuDir, name, 'topology/physical_package_id'), 'latin1').trim())
      if (Number.isInteger(id) && id >= 0) packages.add(id)
    } catch {
      // an offline CPU has no topology folder
    }
  }
  return packages.size > 0 ? packages.size : null
}

/** SMBIOS structure types used here. */
const SMBIOS_MEMORY_DEVICE = 17
const SMBIOS_END_OF_TABLE = 127
/** Offset of a memory device's Size word; 0 means an empty slot, 0xFFFF an unknown size. */
const MEMORY_DEVICE_SIZE_OFFSET = 0x0c

/**
 * Counts the populated memory devices (SMBIOS type 17 with a size) in a raw SMBIOS table, as in
 * `/sys/firmware/dmi/tables/DMI`: the same table dmidecode reads, so the same count as its `-t memory`.
 */
export function countMemoryModules(table: Uint8Array): number {
  const view = new DataView(table.buffer, table.byteOffset, table.byteLength)
  let modules = 0
  let at = 0
  while (at + 4 <= table.length) {
    const type = table[at] as number
    const length = table[at + 1] as number
    if (length < 4 || at + length > table.length) break
    if (type === SMBIOS_MEMORY_DEVICE && length >= MEMORY_DEVICE_SIZE_OFFSET + 2) {
      const size = view.getUint16(at + MEMORY_DEVICE_SIZE_OFFSET, true)
      if (size !== 0 && size !== 0xffff) modules += 1
    }
    if (type === SMBIOS_END_OF_TABLE) break
    // The formatted area is followed by its strings, each NUL-terminated, the set ended by one more NUL.
    let end = at + length
    while (end + 1 < table.length && (table[end] !== 0 || table[end + 1] !== 0)) end += 1
    at = end + 2
  }
  return modules
}

/**
 * Reads the CPU model and count, the sockets and the memory modules from `/proc` and `/sys`: a few file
 * reads, against the 20-odd processes (lscpu, dmidecode, grep, cat through /bin/sh) systeminformation
 * starts for the same facts. Never throws: a fact that cannot be read is null, with the reason in problems.
 */
export function readLinuxSystem(roots: LinuxRoots = LINUX_ROOTS): LinuxSystemFacts {
  const problems: string[] = []
  const attempt = <T>(
    what: string,
    read: () => T,
    quiet?: (code: string | undefined) => boolean,
  ): T | null => {
    try {
      return read()
    } catch (error) {
      if (!quiet?.((error as NodeJS.ErrnoException).code)) problems.push(`${what}: ${describeError(error)}`)
      return null
    }
  }
  const cpuinfoPath = join(roots.procRoot, 'cpuinfo')
  const cpu = attempt(cpuinfoPath, () => parseCpuInfo(readFileSync(cpuinfoPath, 'latin1')))
  const packages = attempt(join(roots.sysRoot, 'devices/system/cpu'), () => countPackages(roots.sysRoot))
  const sockets = packages ?? (cpu && cpu.physicalIds > 0 ? cpu.physicalIds : null)
  const dmiPath = join(roots.sysRoot, 'firmware/dmi/tables/DMI')
  // Root only, and absent in most VMs and containers: not a problem worth a line, as dmidecode's wasn't.
  const modules = attempt(
    dmiPath,
    () => countMemoryModules(readFileSync(dmiPath)),
    (code) => code === 'EACCES' || code === 'ENOENT' || code === 'EPERM',
  )
  return { cpu, sockets, memoryModules: modules !== null && modules > 0 ? modules : null, problems }
}
