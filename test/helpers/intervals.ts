import type { IntervalReport, MeterDescription } from '../../src/model/interval.js'

/** A RAPL package meter as the sampler describes it, for ledger-level tests. */
export const raplPackageMeter: MeterDescription = {
  id: 'rapl-package',
  component: 'cpu',
  source: 'rapl',
  method: 'measured',
  channels: [{ name: 'p0', kind: 'counter', unitJ: 1e-6, rangeRaw: null }],
}

/** A one-second interval ending at `wallTimeMs`, with these joules for each meter, in order. */
export function intervalReport(
  wallTimeMs: number,
  joulesPerMeter: readonly number[],
  seq = 0,
): IntervalReport {
  return {
    seq,
    startNs: 0n,
    endNs: 0n,
    durationS: 1,
    wallTimeMs,
    final: false,
    gpuUtilizationPercent: null,
    meters: joulesPerMeter.map((joules) => ({ joules, channelJoules: [joules], blindS: 0 })),
  }
}
