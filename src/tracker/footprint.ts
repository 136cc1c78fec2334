import { type FootprintFacts, headline } from '../accounting/record.js'
import { type HostEmbodied, type HostFacts, hostEmbodied } from '../footprint/embodied.js'
import { computeFootprint } from '../footprint/footprint.js'
import type { FootprintConfig } from '../footprint/options.js'
import type { FootprintFields } from '../model/footprint.js'
import { type GuestFacts, readGuest } from '../platform/guest.js'

/**
 * What a run's footprint looks up, kept by the run (its parts own one, made with them). The host is looked
 * up once per run (a table read, a few /proc and /sys files), again only if what it depends on changes: the
 * cloud is known once the intensity has been resolved. Whether the machine is a guest (a virtual machine, a
 * container's limits) is read once per run.
 */
export interface FootprintCache {
  host?: { readonly key: string; readonly host: HostEmbodied }
  guest?: GuestFacts
}

/**
 * The run's footprint, from its measurement and facts (footprintFacts), with the notes it adds; `cache` is
 * the run's own (its host and guest, looked up once).
 */
export function footprintOf(
  config: FootprintConfig,
  cache: FootprintCache,
  facts: FootprintFacts,
  system: { readonly sockets: number },
  detectedInstanceType: string | null,
): { fields: FootprintFields; notes: string[] } {
  const roots = { procRoot: config.procRoot, sysRoot: config.sysRoot }
  cache.guest ??= readGuest(roots)
  const hostFacts: HostFacts = {
    embodied: config.embodied,
    cloudProvider: facts.cloudProvider,
    instanceType: config.cloudInstanceType ?? detectedInstanceType,
    onCloud: facts.onCloud,
    sockets: system.sockets,
    cpuCount: facts.cpuCount,
    ramTotalGiB: facts.ramTotalSizeGiB,
    gpuCount: facts.gpuCount ?? 0,
    gpuModel: facts.gpuModel,
    guest: cache.guest,
  }
  const key = JSON.stringify(hostFacts)
  if (cache.host?.key !== key) cache.host = { key, host: hostEmbodied(hostFacts, roots) }
  // Water and SCI follow the figure emissionsScope prices: the whole machine at the wall by default.
  const priced = headline(facts)
  const wall = priced.what === 'at the wall'
  return computeFootprint(config, cache.host.host, {
    ...facts,
    energyKWh: priced.energyKWh,
    emissionsKg: priced.emissionsKg,
    machine: { ...facts.machine, energyKWh: wall ? facts.machine.wallKWh : facts.machine.energyKWh },
  })
}
