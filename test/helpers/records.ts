import type { EmissionsRecord } from '../../src/record.js'

/** A complete record with distinctive values in every field, for sink tests. */
export function sampleRecord(over: Partial<EmissionsRecord> = {}): EmissionsRecord {
  return {
    timestamp: '2026-11-22T10:00:00.000Z',
    projectName: 'mnist, "quoted" project',
    runId: 'run-1',
    experimentId: 'exp-1',
    status: 'finished',
    durationS: 12.5,
    energyKWh: 0.00125,
    emissionsKg: 0.0004275,
    emissionsRateKgPerS: 0.0000342,
    cpu: { energyKWh: 0.001, powerW: 288, source: 'rapl', method: 'measured' },
    gpu: { energyKWh: 0, powerW: 0, source: null, method: null },
    ram: { energyKWh: 0.00025, powerW: 72, source: 'rapl-dram', method: 'measured' },
    carbonIntensityGPerKWh: 342,
    intensitySource: 'electricitymaps-yearly-2025:DE',
    meters: [],
    countryName: 'Germany',
    countryIsoCode: 'DEU',
    os: 'Linux-6.1.0-x64',
    nodeVersion: '20.20.2',
    wattprintVersion: '0.1.0',
    cpuCount: 64,
    cpuModel: 'Intel(R) Xeon(R) Gold 6248 CPU @ 2.50GHz',
    gpuCount: null,
    gpuModel: null,
    ramTotalSizeGiB: 251.5,
    trackingMode: 'machine',
    cpuUtilizationPercent: 87.5,
    ramUtilizationPercent: 40,
    ramUsedGiB: 100.6,
    pue: 1.2,
    notes: [],
    ...over,
  }
}
