import { headline } from '../accounting/record.js'
import type { EmissionsRecord } from '../model/record.js'
import { footprintPhrase } from './footprint-format.js'
import { formatEnergy, formatMass } from './quantities.js'

/** An energy, and with attribution whose it is beside the machine's: `job 12.3 Wh of the machine's 15.1 Wh`. */
export function jobEnergy(jobKWh: number, machineKWh: number, attributed: boolean): string {
  return attributed
    ? `job ${formatEnergy(jobKWh)} of the machine's ${formatEnergy(machineKWh)}`
    : formatEnergy(jobKWh)
}

/** What measuring cost, where attribution measured it: `0.31 s CPU, 1.20 J`; null otherwise. */
export function trackerPhrase(
  record: Pick<EmissionsRecord, 'trackerCpuS' | 'trackerEnergyKWh'>,
): string | null {
  if (record.trackerCpuS === null || record.trackerCpuS === undefined) return null
  return `${record.trackerCpuS.toFixed(2)} s CPU, ${formatEnergy(record.trackerEnergyKWh ?? 0)}`
}

/** A one-line summary of a record, for logs and the CLI. */
export function summaryLine(record: EmissionsRecord): string {
  const part = (name: string, c: EmissionsRecord['cpu']) =>
    c.source ? `${name} ${formatEnergy(c.energyKWh)} (${c.powerW.toFixed(1)} W, ${c.source})` : null
  const parts = [part('cpu', record.cpu), part('gpu', record.gpu), part('ram', record.ram)].filter(Boolean)
  const energy = jobEnergy(record.energyKWh, record.machine.energyKWh, record.trackingMode === 'process')
  const priced = headline(record)
  const interval = `80 %: ${formatMass(priced.emissionsLowKg)}–${formatMass(priced.emissionsHighKg)}`
  const other =
    priced.what === 'at the wall'
      ? `CPU+GPU+RAM ${formatMass(record.emissionsKg)}`
      : record.wall
        ? `at the wall ${formatMass(record.wall.emissionsKg)}`
        : null
  return (
    `${record.durationS.toFixed(1)} s, ${energy} [${parts.join(', ')}]` +
    (record.wall ? `, ${formatEnergy(record.wall.energyKWh)} at the wall (${record.wall.source})` : '') +
    `, ${formatMass(priced.emissionsKg)} CO2e ${priced.what} (${interval}${other ? `; ${other}` : ''}) ` +
    `at ${record.carbonIntensityGPerKWh.toFixed(0)} g/kWh (${record.intensitySource}); ` +
    footprintPhrase(record) +
    requestsPart(record) +
    (trackerPhrase(record) === null ? '' : `; the tracker itself ${trackerPhrase(record)} (not the job's)`)
  )
}

/**
 * `; 240 requests, 17.3 J/request, 0.135 J/output token` when the run measured requests, and
 * `, 2 failed (3.1 J)` when some failed (counted apart from the requests).
 */
function requestsPart(record: EmissionsRecord): string {
  if (record.requests === null) return ''
  const perRequest =
    record.energyPerRequestJ === null ? '' : `, ${record.energyPerRequestJ.toPrecision(3)} J/request`
  const perToken =
    record.energyPerOutputTokenJ === null
      ? ''
      : `, ${record.energyPerOutputTokenJ.toPrecision(3)} J/output token`
  const failed = record.failedRequests
    ? `, ${record.failedRequests} failed (${(record.failedRequestEnergyJ ?? 0).toPrecision(3)} J)`
    : ''
  return `; ${record.requests} request${record.requests === 1 ? '' : 's'}${perRequest}${perToken}${failed}`
}
