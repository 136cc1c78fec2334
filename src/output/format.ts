import { type EmissionsRecord, headline } from '../accounting/record.js'
import { JOULES_PER_KWH } from '../core/units.js'
import { footprintPhrase } from './footprint-format.js'

/** Energy with a readable unit: J below 1 Wh, Wh below 1 kWh, else kWh. */
export function formatEnergy(kWh: number): string {
  const joules = kWh * JOULES_PER_KWH
  if (joules < 3600) return `${joules.toFixed(joules < 10 ? 2 : 1)} J`
  if (kWh < 1) return `${(kWh * 1000).toFixed(2)} Wh`
  return `${kWh.toFixed(3)} kWh`
}

/** A mass of CO2e with a readable unit (mg, g, kg). */
export function formatMass(kg: number): string {
  if (kg < 1e-3) return `${(kg * 1e6).toFixed(2)} mg`
  if (kg < 1) return `${(kg * 1e3).toFixed(2)} g`
  return `${kg.toFixed(3)} kg`
}

/** Joules per unit (per request, per token) with three significant figures; `-` for none. */
export function joulesCell(joules: number | null): string {
  return joules === null ? '-' : joules.toPrecision(3)
}

/** A duration with a readable unit, chosen by its size: `42.0 s`, `12.5 min`, `3.20 h`. */
export function formatDuration(seconds: number): string {
  if (seconds < 60) return `${seconds.toFixed(1)} s`
  if (seconds < 3600) return `${(seconds / 60).toFixed(1)} min`
  return `${(seconds / 3600).toFixed(2)} h`
}

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
