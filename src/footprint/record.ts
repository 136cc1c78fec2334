import type { EmissionsRecord } from '../record.js'
import { type HostEmbodied, type HostFacts, hostEmbodied } from './embodied.js'
import { computeFootprint, type FootprintFields } from './footprint.js'
import type { FootprintConfig } from './options.js'

// The host is looked up once per run (a table read, a few /sys files), again only if what it depends on
// changes: the cloud is known once the intensity has been resolved.
const hosts = new WeakMap<object, { key: string; host: HostEmbodied }>()

/** The run's record with its footprint filled in and its notes added; `run` keys the host lookup's cache. */
export function withFootprint(
  config: FootprintConfig,
  run: object,
  record: EmissionsRecord,
  system: { readonly sockets: number },
  detectedInstanceType: string | null,
): EmissionsRecord {
  const facts: HostFacts = {
    embodied: config.embodied,
    cloudProvider: record.cloudProvider,
    instanceType: config.cloudInstanceType ?? detectedInstanceType,
    onCloud: record.onCloud,
    sockets: system.sockets,
    ramTotalGiB: record.ramTotalSizeGiB,
    gpuCount: record.gpuCount ?? 0,
    gpuModel: record.gpuModel,
  }
  const key = JSON.stringify(facts)
  let cached = hosts.get(run)
  if (cached?.key !== key) {
    cached = { key, host: hostEmbodied(facts, { sysRoot: config.sysRoot }) }
    hosts.set(run, cached)
  }
  const { fields, notes } = computeFootprint(config, cached.host, record)
  const footprint: FootprintFields = fields
  return { ...record, ...footprint, notes: [...record.notes, ...notes] }
}
