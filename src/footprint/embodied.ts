import { CLOUD_PROVIDERS } from '../intensity/cloud-regions.js'
import { type HardwareRoots, readHostHardware } from './hardware.js'
import type { EmbodiedOption } from './options.js'
import { componentModel, findInstanceEmbodied } from './tables.js'

/** The hardware a run is charged a share of: its total embodied kg and the share the run reserved. */
export type HostEmbodied =
  | {
      /** kg CO2e of the whole host (SCI's TE). */
      readonly kg: number
      /** RR / ToR of the host before attribution, 0 to 1. */
      readonly share: number
      /** Whether `share` was given by the user (then attribution does not scale it). */
      readonly shareGiven: boolean
      /** Where TE came from: `option`, `ccf-embodied:aws/p4d.24xlarge`, `ccf-components`. */
      readonly source: string
      /** How TE and the share were found, for the notes. */
      readonly detail: string
    }
  | { readonly kg: null; readonly note: string }

/** What the host lookup reads of the run. */
export interface HostFacts {
  readonly embodied: EmbodiedOption | null
  readonly cloudProvider: string | null
  /** The instance type as given (cloudInstanceType) or detected. */
  readonly instanceType: string | null
  readonly onCloud: boolean
  readonly sockets: number
  readonly ramTotalGiB: number
  readonly gpuCount: number
  readonly gpuModel: string | null
}

/** Seconds in a year of 365.25 days. */
export const SECONDS_PER_YEAR = 365.25 * 86_400

const share = (part: number, whole: number) => Math.min(1, part / whole)
const round = (n: number) => Math.round(n * 100) / 100

/** The instance type's host from Cloud Carbon Footprint's table, or why not. */
function fromInstanceType(provider: string | null, type: string, given: EmbodiedOption | null): HostEmbodied {
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
          : `embodied emissions unknown: instance type ${type} is not in Cloud Carbon Footprint's table for ${where}; set embodied: { kgCO2e }`,
    }
  }
  // A GPU instance reserves GPUs, the host's dearest parts; a CPU instance its vCPUs (CCF's rule).
  const byGpu = row.gpus > 0 && row.platformGpus > 0
  const reserved = byGpu ? share(row.gpus, row.platformGpus) : share(row.vcpus, row.platformVcpus)
  const ratio = byGpu ? `${row.gpus}/${row.platformGpus} GPUs` : `${row.vcpus}/${row.platformVcpus} vCPUs`
  return {
    kg: row.platformEmbodiedKg,
    share: given?.share ?? (Number.isFinite(reserved) && reserved > 0 ? reserved : 1),
    shareGiven: given?.share !== undefined,
    source: `ccf-embodied:${row.provider}/${row.instanceType}`,
    detail: `host ${row.platformEmbodiedKg} kg (Cloud Carbon Footprint), ${given?.share !== undefined ? 'share as given' : `share ${ratio}`}`,
  }
}

/** A bare-metal server from the component model (Cloud Carbon Footprint's coefficients), or why not. */
function fromComponents(facts: HostFacts, given: EmbodiedOption | null, roots?: HardwareRoots): HostEmbodied {
  const hardware = readHostHardware(roots)
  if (hardware.server === false) {
    return {
      kg: null,
      note: `embodied emissions unknown: the component model is for servers and this chassis (SMBIOS type ${hardware.chassisType}) is not one; set embodied: { kgCO2e }`,
    }
  }
  const model = componentModel()
  const sockets = Math.max(1, facts.sockets)
  const gpuKg = model.perGpuKg.get((facts.gpuModel ?? '').toLowerCase()) ?? model.perGpuKg.get('') ?? 0
  const parts: [string, number][] = [
    ['base', model.baseKg],
    [`${sockets - 1} more sockets`, (sockets - 1) * model.perExtraSocketKg],
    [
      `${round(Math.max(0, facts.ramTotalGiB - 16))} GB RAM over 16`,
      Math.max(0, facts.ramTotalGiB - 16) * model.perGbAbove16Kg,
    ],
    [`${facts.gpuCount} GPUs`, facts.gpuCount * gpuKg],
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
 * Footprint's table, else (off the cloud) the server component model; or a note saying why none is known.
 * Never throws.
 */
export function hostEmbodied(facts: HostFacts, roots?: HardwareRoots): HostEmbodied {
  const given = facts.embodied
  try {
    if (given?.kgCO2e !== undefined) {
      return {
        kg: given.kgCO2e,
        share: given.share ?? 1,
        shareGiven: given.share !== undefined,
        source: 'option',
        detail: `${given.kgCO2e} kg as given`,
      }
    }
    if (facts.instanceType) return fromInstanceType(facts.cloudProvider, facts.instanceType, given)
    if (facts.onCloud) {
      return {
        kg: null,
        note: `embodied emissions unknown: the ${facts.cloudProvider ?? 'cloud'} instance type is unknown; set cloudInstanceType (or detectCloud) or embodied: { kgCO2e }`,
      }
    }
    return fromComponents(facts, given, roots)
  } catch (error) {
    return { kg: null, note: `embodied emissions unknown: the tables could not be read (${String(error)})` }
  }
}
