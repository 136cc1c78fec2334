import { headline } from '../accounting/record.js'
import { type HostEmbodied, type HostFacts, hostEmbodied } from '../footprint/embodied.js'
import { computeFootprint } from '../footprint/footprint.js'
import type { FootprintConfig } from '../footprint/options.js'
import type { FootprintFields } from '../model/footprint.js'
import type { EmissionsRecord } from '../model/record.js'
import { type GuestFacts, readGuest } from '../platform/guest.js'

// The host is looked up once per run (a table read, a few /proc and /sys files), again only if what it
// depends on changes: the cloud is known once the intensity has been resolved. Whether the machine is a
// guest (a virtual machine, a container's limits) is read once per run.
const hosts = new WeakMap<object, { key: string; host: HostEmbodied }>()
const guests = new WeakMap<object, GuestFacts>()

/** The run's record with its footprint filled in and its notes added; `run` keys the host lookup's cache. */
export function withFootprint(
  config: FootprintConfig,
  run: object,
  record: EmissionsRecord,
  system: { readonly sockets: number },
  detectedInstanceType: string | null,
): EmissionsRecord {
  const roots = { procRoot: config.procRoot, sysRoot: config.sysRoot }
  let guest = guests.get(run)
  if (!guest) {
    guest = readGuest(roots)
    guests.set(run, guest)
  }
  const facts: HostFacts = {
    embodied: config.embodied,
    cloudProvider: record.cloudProvider,
    instanceType: config.cloudInstanceType ?? detectedInstanceType,
    onCloud: record.onCloud,
    sockets: system.sockets,
    cpuCount: record.cpuCount,
    ramTotalGiB: record.ramTotalSizeGiB,
    gpuCount: record.gpuCount ?? 0,
    gpuModel: record.gpuModel,
    guest,
  }
  const key = JSON.stringify(facts)
  let cached = hosts.get(run)
  if (cached?.key !== key) {
    cached = { key, host: hostEmbodied(facts, roots) }
    hosts.set(run, cached)
  }
  // Water and SCI follow the figure emissionsScope prices: the whole machine at the wall by default.
  const priced = headline(record)
  const wall = priced.what === 'at the wall'
  const { fields, notes } = computeFootprint(config, cached.host, {
    ...record,
    energyKWh: priced.energyKWh,
    emissionsKg: priced.emissionsKg,
    machine: { ...record.machine, energyKWh: wall ? record.machine.wallKWh : record.machine.energyKWh },
  })
  const footprint: FootprintFields = fields
  return { ...record, ...footprint, notes: [...record.notes, ...notes] }
}
