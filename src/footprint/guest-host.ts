import { ASSUMED_HOST } from '../estimates/assumed-host.js'
import { CLOUD_PROVIDERS } from '../intensity/cloud-regions.js'
import type { InstanceHost } from '../meters/detect.js'
import type { GuestFacts } from '../platform/guest.js'
import type { HostHardware } from './hardware.js'
import type { EmbodiedHostOption } from './options.js'
import { type ComponentModel, findInstanceEmbodied } from './tables.js'

export { ASSUMED_HOST }

/** A guest as its share of a host is taken: its vCPUs and memory, and how they were told. */
export interface GuestSize {
  /** A virtual machine (its host is elsewhere) rather than a container (its host is this machine). */
  readonly vm: boolean
  readonly vcpus: number
  readonly memoryGiB: number
  /** Whether a cgroup limit sized its vCPUs (then fewer than the machine shows). */
  readonly cpuLimited: boolean
  /** Whether a cgroup limit sized its memory. */
  readonly memoryLimited: boolean
  /** What the guest is and how it was sized, for the notes: `a virtual machine (DMI sys_vendor "QEMU")`. */
  readonly basis: string
}

/** What the guest's size is read from. */
export interface GuestInputs {
  readonly guest: GuestFacts | null
  readonly host: EmbodiedHostOption | undefined
  /** Logical CPUs this machine shows (a VM's vCPUs; a container sees its host's). */
  readonly cpuCount: number
  readonly ramTotalGiB: number
}

const num = (n: number) => String(Math.round(n * 100) / 100)

/**
 * The guest this run is a share of, or null on bare metal. With `limits`, a container's cgroup limits
 * size it (what it reserved); without, the machine the meters measure: a virtual machine whole, and no
 * guest for a container on bare metal (its meters read the host's CPUs).
 */
export function guestSize(inputs: GuestInputs, limits: boolean): GuestSize | null {
  const facts = inputs.guest
  // A limit at or above the machine's size (cgroup v1's "none" is 2^63) limits nothing.
  const cpuLimit = facts?.cpuLimit && facts.cpuLimit.cpus < inputs.cpuCount ? facts.cpuLimit : null
  const memoryLimit =
    facts?.memoryLimit && facts.memoryLimit.gib < inputs.ramTotalGiB ? facts.memoryLimit : null
  const cpu = limits ? cpuLimit : null
  const memory = limits ? memoryLimit : null
  // A host given where nothing says guest: a virtual machine that hides it (a container shows its limits).
  const unlimited = cpuLimit === null && memoryLimit === null
  const vm = facts?.vm ?? (inputs.host && unlimited ? 'embodied.host given' : null)
  if (vm === null && cpu === null && memory === null) return null
  const vcpus = cpu?.cpus ?? inputs.cpuCount
  const memoryGiB = memory?.gib ?? inputs.ramTotalGiB
  const limited = [
    cpu && `${cpu.from}: ${num(cpu.cpus)} CPUs`,
    memory && `${memory.from}: ${num(memory.gib)} GiB`,
  ]
    .filter((s) => s)
    .join(', ')
  const what = vm !== null ? `a virtual machine (${vm})` : 'a container'
  const basis = `${what}${limited ? ` limited by ${limited}` : ''}, ${num(vcpus)} vCPUs and ${num(memoryGiB)} GiB`
  return {
    vm: vm !== null,
    vcpus,
    memoryGiB,
    cpuLimited: cpu !== null,
    memoryLimited: memory !== null,
    basis,
  }
}

/** A host in the component model, and what of it the guest has whole. */
export interface ModelHost {
  readonly sockets: number
  readonly threads: number
  readonly memoryGiB: number
  /** The host's drives, shared by its guests: a container's host's own. */
  readonly sharedDrives: { readonly ssd: number; readonly hdd: number } | null
  /** Drives the guest has whole: a virtual machine's drives that are no virtual disk (passed through). */
  readonly ownDrives: { readonly ssd: number; readonly hdd: number } | null
  /** GPUs the guest sees, which it has whole (passed through, or a container's own). */
  readonly gpus: number
  readonly gpuKg: number
}

/** The host of a virtual machine: the user's (embodied.host), else the assumed one, grown to hold the guest. */
export function vmHost(
  guest: GuestSize,
  given: EmbodiedHostOption | undefined,
  hardware: HostHardware,
  gpus: number,
  gpuKg: number,
): ModelHost {
  return {
    sockets: ASSUMED_HOST.sockets,
    threads: given?.threads ?? Math.max(ASSUMED_HOST.threads, Math.ceil(guest.vcpus)),
    memoryGiB: given?.memoryGiB ?? Math.max(ASSUMED_HOST.memoryGiB, guest.memoryGiB),
    sharedDrives: null,
    ownDrives: hardware.drives,
    gpus,
    gpuKg,
  }
}

const drivesKg = (d: { ssd: number; hdd: number } | null, model: ComponentModel) =>
  d ? d.ssd * model.perSsdKg + d.hdd * model.perHddKg : 0

/**
 * The host's kg in the component model and the guest's part of it, part by part as Boavizta allocates a
 * cloud instance's share of its platform: memory by the guest's memory over the host's, the rest (the
 * chassis, the boards, the CPUs, shared drives) by its vCPUs over the host's threads; what the guest has
 * whole (its GPUs, a drive passed through), whole.
 */
export function splitHost(
  host: ModelHost,
  guest: GuestSize,
  model: ComponentModel,
): { hostKg: number; guestKg: number; parts: string } {
  const cpuShare = Math.min(1, guest.vcpus / host.threads)
  const memoryShare = Math.min(1, guest.memoryGiB / host.memoryGiB)
  const platformKg = model.baseKg + (host.sockets - 1) * model.perExtraSocketKg
  const ramKg = Math.max(0, host.memoryGiB - 16) * model.perGbAbove16Kg
  const sharedKg = drivesKg(host.sharedDrives, model)
  const ownKg = drivesKg(host.ownDrives, model)
  const gpuKg = host.gpus * host.gpuKg
  const byCpu = `${num(guest.vcpus)}/${num(host.threads)} vCPUs`
  const parts = [
    `platform ${num(platformKg)} kg × ${byCpu}`,
    ramKg > 0 ? `RAM ${num(ramKg)} kg × ${num(guest.memoryGiB)}/${num(host.memoryGiB)} GiB` : '',
    sharedKg > 0 ? `drives ${num(sharedKg)} kg × ${byCpu}` : '',
    ownKg > 0 ? `own drives ${num(ownKg)} kg whole` : '',
    gpuKg > 0 ? `${host.gpus} GPUs ${num(gpuKg)} kg whole` : '',
  ]
  return {
    hostKg: platformKg + ramKg + sharedKg + ownKg + gpuKg,
    guestKg: (platformKg + sharedKg) * cpuShare + ramKg * memoryShare + ownKg + gpuKg,
    parts: parts.filter((p) => p).join(' + '),
  }
}

/**
 * The host platform's threads of a CPU instance type in Cloud Carbon Footprint's table: the type given or
 * detected, else the one the firmware names (DMI product_name, as AWS writes it). Null when unknown, or a
 * GPU instance (whose share is by GPUs, not vCPUs).
 */
export function instanceHostPlatform(
  instance: { readonly provider: string | null; readonly type: string | null } | null,
): (firmwareType: string | null) => InstanceHost | null {
  return (firmwareType) => {
    const type = instance?.type ?? firmwareType
    if (!type) return null
    const provider = instance?.type ? instance.provider : 'aws'
    const rows = (provider ? [provider] : CLOUD_PROVIDERS)
      .map((p) => findInstanceEmbodied(p, type))
      .filter((r) => r !== null)
    const row = rows.length === 1 ? rows[0] : undefined
    if (!row || row.gpus > 0 || !(row.platformVcpus > 0)) return null
    return {
      threads: row.platformVcpus,
      label: `${row.provider}/${row.instanceType}'s host platform of ${row.platformVcpus} threads, Cloud Carbon Footprint's table`,
    }
  }
}
