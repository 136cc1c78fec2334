import type { FootprintInput } from '../../src/footprint/footprint.js'
import type { FootprintConfig } from '../../src/footprint/options.js'

/** Footprint options with nothing set. */
export const NO_FOOTPRINT_OPTIONS: FootprintConfig = {
  embodied: null,
  cloudInstanceType: null,
  wueLPerKWh: null,
  waterIntensityLPerKWh: null,
  functionalUnit: null,
  procRoot: '/proc',
  sysRoot: '/sys',
}

/** A 2 h run that drew 10 kWh at 400 g/kWh (4 kg CO2e), off any cloud, in no known country. */
export const TWO_HOURS: FootprintInput = {
  durationS: 7200,
  energyKWh: 10,
  emissionsKg: 4,
  pue: 1,
  trackingMode: 'machine',
  machine: { energyKWh: 10, cpuKWh: 2, gpuKWh: 8, ramKWh: 0, wallKWh: 12 },
  cloudProvider: null,
  cloudRegion: null,
  countryIsoCode: null,
  region: null,
  requests: null,
  inputTokens: null,
  outputTokens: null,
}
