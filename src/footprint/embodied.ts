import { CLOUD_PROVIDERS } from '../intensity/cloud-regions.js'
import type { GuestFacts } from '../platform/guest.js'
import { ASSUMED_HOST, type GuestSize, guestSize, type ModelHost, splitHost, vmHost } from './guest-host.js'
import { type HardwareRoots, type HostHardware, readHostHardware } from './hardware.js'
import type { EmbodiedOption } from './options.js'
import {
  type CloudInstanceEmbodied,
  componentModel,
  cpuHostKgPerVcpu,
  findInstanceEmbodied,
} from './tables.js'

/** A share of the host and how it was found. */
export interface HostShare {
  /** RR / ToR of the host before attribution, 0 to 1. */
  readonly share: number
  /** How TE and the share were found, for the source. */
  readonly detail: string
}

/** The hardware a run is charged a share of: its total embodied kg and the share the run reserved. */
export type HostEmbodied =
  | (HostShare & {
      /** kg CO2e of the whole host (SCI's TE). */
      readonly kg: number
      /** Whether `share` was given by the user (then attribution does not scale it). */
      readonly shareGiven: boolean
      /** Where TE came from: `option`, `ccf-embodied:aws/p4d.24xlarge`, `ccf-components`. */
      readonly source: string
      /**
       * Under attribution, the share of the host of the machine the meters measure, which the job's
       * share of the energy is taken of: a container's host itself, not its limits. Absent: `share`.
       */
      readonly measured?: HostShare
      /** An assumption the row's notes state (the host of a virtual machine, assumed). */
      readonly note?: string
    })
  | { readonly kg: null; readonly note: string }

/** What the host lookup reads of the run. */
export interface HostFacts {
  readonly embodied: EmbodiedOption | null
  readonly cloudProvider: string | null
  /** The instance type as given (cloudInstanceType) or detected. */
  readonly instanceType: string | null
  readonly onCloud: boolean
  readonly sockets: number
  /** Logical CPUs this machine shows: a virtual machine's vCPUs; a container sees its host's. */
  readonly cpuCount: number
  readonly ramTotalGiB: number
  readonly gpuCount: number
  readonly gpuModel: string | null
  /** What says this is a virtual machine or a container (readGuest); null on bare metal. */
  readonly guest: GuestFacts | null
}

/** Seconds in a year of 365.25 days. */
export const SECONDS_PER_YEAR = 365.25 * 86_400

const share = (part: number, whole: number) => Math.min(1, part / whole)
const round = (n: number) => Math.round(n * 100) / 100

/** The guest as it reserved its host (limits), and as the meters measure it (for attribution). */
interface Guests {
  readonly reserved: GuestSize
  readonly measured: GuestSize | null
}

function guestsOf(facts: HostFacts): Guests | null {
  const inputs = { ...facts, host: facts.embodied?.host }
  const reserved = guestSize(inputs, true)
  if (reserved === null) return null
  const limited = reserved.cpuLimited || reserved.memoryLimited
  return { reserved, measured: limited ? guestSize(inputs, false) : reserved }
}

/** The instance type's host from Cloud Carbon Footprint's table, or why not. */
function fromInstanceType(
  provider: string | null,
  type: string,
  given: EmbodiedOption | null,
  guests: Guests | null,
): HostEmbodied {
  const candidates = provider ? [provider] : CLOUD_PROVIDERS
  const rows = candidates.map((p) => findInstanceEmbodied(p, type)).filter((r) => r !== null)
  const row = rows.length === 1 ? rows[0] : undefined
  if (!row) {
    const where = provider ?? 'AWS, GCP or Azure'
    return {
      kg: null,
      note:
        rows.length > 1
          ? `embodied emissions unknown: instance type ${type} is in more than one cloud's table; set cloudProvider`
          : `embodied emissions unknown: instance type ${type} is not in Cloud Carbon Footprint's table for ${where}; set embodied: { emissionsKg }`,
    }
  }
  const reserved = instanceShare(row, guests?.reserved ?? null)
  const measured = instanceShare(row, guests?.measured ?? null)
  // A guest's host is the instance type's; its kg the user's, where given.
  const host =
    given?.emissionsKg !== undefined
      ? `host ${given.emissionsKg} kg as given, the host of ${row.provider}/${row.instanceType}`
      : `host ${row.platformEmbodiedKg} kg (Cloud Carbon Footprint)`
  return {
    kg: given?.emissionsKg ?? row.platformEmbodiedKg,
    share: given?.share ?? reserved.share,
    shareGiven: given?.share !== undefined,
    source: given?.emissionsKg !== undefined ? 'option' : `ccf-embodied:${row.provider}/${row.instanceType}`,
    detail: `${host}, ${given?.share !== undefined ? 'share as given' : `share ${reserved.ratio}`}`,
    ...(measured.share !== reserved.share && given?.share === undefined
      ? { measured: { share: measured.share, detail: `${host}, share ${measured.ratio}` } }
      : {}),
  }
}

/**
 * A GPU instance reserves GPUs, the host's dearest parts; a CPU instance its vCPUs (CCF's rule), or the
 * fewer CPUs a container in it is limited to.
 */
function instanceShare(
  row: CloudInstanceEmbodied,
  guest: GuestSize | null,
): { share: number; ratio: string } {
  if (row.gpus > 0 && row.platformGpus > 0)
    return { share: share(row.gpus, row.platformGpus), ratio: `${row.gpus}/${row.platformGpus} GPUs` }
  const vcpus = guest?.cpuLimited ? Math.min(row.vcpus, guest.vcpus) : row.vcpus
  const reserved = share(vcpus, row.platformVcpus)
  const ok = Number.isFinite(reserved) && reserved > 0
  return { share: ok ? reserved : 1, ratio: `${round(vcpus)}/${row.platformVcpus} vCPUs` }
}

/** The GPUs' kg in the component model: the model's own row, else the any-model row. */
function gpuKgOf(facts: HostFacts): number {
  const model = componentModel()
  return model.perGpuKg.get((facts.gpuModel ?? '').toLowerCase()) ?? model.perGpuKg.get('') ?? 0
}

/** The host a guest is a share of, in the component model: a VM's assumed or given one, a container's own. */
function guestHost(
  facts: HostFacts,
  guest: GuestSize,
  hardware: HostHardware,
): { host: ModelHost; label: string } | { host: null; note: string } {
  const given = facts.embodied?.host
  const gpuKg = gpuKgOf(facts)
  if (guest.vm) {
    const host = vmHost(guest, given, hardware, facts.gpuCount, gpuKg)
    const grown = host.threads > ASSUMED_HOST.threads || host.memoryGiB > ASSUMED_HOST.memoryGiB
    const label = given
      ? 'host as given (embodied.host)'
      : `assumed host${grown ? ', grown to hold the guest' : ''}`
    return { host, label }
  }
  if (hardware.server === false) {
    return {
      host: null,
      note: `embodied emissions unknown: the component model is for servers and this container's host (SMBIOS type ${hardware.chassisType}) is not one; set embodied: { emissionsKg }`,
    }
  }
  return {
    host: {
      sockets: Math.max(1, facts.sockets),
      threads: given?.threads ?? facts.cpuCount,
      memoryGiB: given?.memoryGiB ?? facts.ramTotalGiB,
      sharedDrives: hardware.drives,
      ownDrives: null,
      gpus: facts.gpuCount,
      gpuKg,
    },
    label: given ? 'host as given (embodied.host)' : "this machine, the container's host",
  }
}

/** `2 sockets, 96 threads, 384 GiB, no drives`. */
function describeHost(host: ModelHost): string {
  const drives = host.sharedDrives ?? host.ownDrives
  const driveText =
    drives && drives.ssd + drives.hdd > 0 ? `${drives.ssd} SSDs, ${drives.hdd} HDDs` : 'no drives'
  return `${host.sockets} sockets, ${round(host.threads)} threads, ${round(host.memoryGiB)} GiB, ${driveText}`
}

/**
 * A guest's share of its host in the component model (the host assumed, given or this machine), or of
 * the user's kg; the note states an assumed host, with what the table's hosts would make of the guest.
 */
function fromGuest(
  facts: HostFacts,
  guests: Guests,
  roots: HardwareRoots | undefined,
  why: string,
): HostEmbodied {
  const given = facts.embodied
  const hardware = readHostHardware(roots)
  const found = guestHost(facts, guests.reserved, hardware)
  if (found.host === null) return { kg: null, note: found.note }
  const host = found.host
  const model = componentModel()
  const virtual =
    hardware.virtualDisks.length > 0
      ? `; virtual disks not counted (${hardware.virtualDisks.join(', ')})`
      : ''
  const split = (guest: GuestSize) => {
    const parts = splitHost(host, guest, model)
    return { ...parts, text: `${guest.basis}; share by part: ${parts.parts}${virtual}` }
  }
  const reserved = split(guests.reserved)
  const assumed = guests.reserved.vm && !given?.host
  const range = cpuHostKgPerVcpu()
  // How far the assumption may be off, in the row itself: the table's CPU hosts' kg per vCPU.
  const spread = assumed
    ? ` (the table's CPU hosts: ${round(range.p10)}–${round(range.p90)} kg per vCPU, 10th–90th percentile)`
    : ''
  const hostText = `${found.label}: ${describeHost(host)}, ${round(reserved.hostKg)} kg${spread}`
  const kgText =
    given?.emissionsKg !== undefined
      ? `host ${given.emissionsKg} kg as given, split as the ${hostText}`
      : hostText
  let measured: HostShare | undefined
  if (guests.measured !== guests.reserved && given?.share === undefined) {
    const of = guests.measured ? split(guests.measured) : null
    measured = of
      ? { share: of.guestKg / of.hostKg, detail: `${kgText}; ${of.text}` }
      : {
          share: 1,
          detail: `${kgText}; the container's meters read this machine: the job's share of its energy`,
        }
  }
  let note: string | undefined
  if (assumed && given?.emissionsKg === undefined && given?.share === undefined) {
    const vcpus = guests.reserved.vcpus
    note =
      `embodied emissions: ${guests.reserved.basis}${why}, on an unknown host assumed to be ${describeHost(host)} ` +
      `(${round(reserved.hostKg)} kg), charged ${round(reserved.guestKg)} kg of it; on the CPU hosts of Cloud ` +
      `Carbon Footprint's table its ${round(vcpus)} vCPUs would be ${round(vcpus * range.p10)}–` +
      `${round(vcpus * range.p90)} kg (10th–90th percentile); set cloudInstanceType or embodied.host for its real host`
  }
  return {
    kg: given?.emissionsKg ?? reserved.hostKg,
    share: given?.share ?? reserved.guestKg / reserved.hostKg,
    shareGiven: given?.share !== undefined,
    source:
      given?.emissionsKg !== undefined
        ? 'option'
        : assumed
          ? 'ccf-components:assumed-host'
          : 'ccf-components',
    detail: given?.share !== undefined ? `${kgText}; share as given` : `${kgText}; ${reserved.text}`,
    ...(measured ? { measured } : {}),
    ...(note ? { note } : {}),
  }
}

/** A bare-metal server from the component model (Cloud Carbon Footprint's coefficients), or why not. */
function fromComponents(facts: HostFacts, given: EmbodiedOption | null, roots?: HardwareRoots): HostEmbodied {
  const hardware = readHostHardware(roots)
  if (hardware.server === false) {
    return {
      kg: null,
      note: `embodied emissions unknown: the component model is for servers and this chassis (SMBIOS type ${hardware.chassisType}) is not one; set embodied: { emissionsKg }`,
    }
  }
  const model = componentModel()
  const sockets = Math.max(1, facts.sockets)
  const parts: [string, number][] = [
    ['base', model.baseKg],
    [`${sockets - 1} more sockets`, (sockets - 1) * model.perExtraSocketKg],
    [
      `${round(Math.max(0, facts.ramTotalGiB - 16))} GB RAM over 16`,
      Math.max(0, facts.ramTotalGiB - 16) * model.perGbAbove16Kg,
    ],
    [`${facts.gpuCount} GPUs`, facts.gpuCount * gpuKgOf(facts)],
  ]
  if (hardware.drives) {
    parts.push([`${hardware.drives.ssd} SSDs`, hardware.drives.ssd * model.perSsdKg])
    parts.push([`${hardware.drives.hdd} HDDs`, hardware.drives.hdd * model.perHddKg])
  }
  const kg = parts.reduce((sum, [, part]) => sum + part, 0)
  const counted = parts.filter(([, part]) => part > 0).map(([what, part]) => `${what} ${round(part)} kg`)
  return {
    kg,
    share: given?.share ?? 1,
    shareGiven: given?.share !== undefined,
    source: 'ccf-components',
    detail:
      `server component model ${round(kg)} kg (${counted.join(' + ')})` +
      (hardware.drives ? '' : '; drives not counted (/sys/block unreadable)') +
      (hardware.virtualDisks.length > 0
        ? `; virtual disks not counted (${hardware.virtualDisks.join(', ')})`
        : ''),
  }
}

/**
 * The host a run is charged a share of: the user's figure, else the cloud instance type's in Cloud Carbon
 * Footprint's table (given, detected, or named by the firmware of a virtual machine), else for a virtual
 * machine or a container its share of its host (assumed, given or this machine), else (off the cloud) the
 * server component model; or a note saying why none is known. Never throws.
 */
export function hostEmbodied(facts: HostFacts, roots?: HardwareRoots): HostEmbodied {
  const given = facts.embodied
  try {
    const guests = guestsOf(facts)
    if (given?.emissionsKg !== undefined && (guests === null || given.share !== undefined)) {
      return {
        kg: given.emissionsKg,
        share: given.share ?? 1,
        shareGiven: given.share !== undefined,
        source: 'option',
        detail: `${given.emissionsKg} kg as given`,
      }
    }
    const firmware = guests?.reserved.vm ? (facts.guest?.firmwareInstanceType ?? null) : null
    // The user's host wins over the table's.
    const type = given?.host ? null : (facts.instanceType ?? firmware)
    let unlisted = ''
    if (type) {
      const provider = facts.instanceType ? facts.cloudProvider : 'aws'
      const found = fromInstanceType(provider, type, given, guests)
      if (found.kg !== null) {
        return firmware && !facts.instanceType
          ? { ...found, detail: `${found.detail}; instance type from the firmware (DMI product_name)` }
          : found
      }
      if (guests === null) return { kg: null, note: found.note }
      unlisted = ` (instance type ${type} is not in Cloud Carbon Footprint's table)`
    }
    if (guests) return fromGuest(facts, guests, roots, unlisted)
    if (facts.onCloud) {
      return {
        kg: null,
        note: `embodied emissions unknown: the ${facts.cloudProvider ?? 'cloud'} instance type is unknown; set cloudInstanceType (or detectCloud) or embodied: { emissionsKg }`,
      }
    }
    return fromComponents(facts, given, roots)
  } catch (error) {
    return { kg: null, note: `embodied emissions unknown: the tables could not be read (${String(error)})` }
  }
}
