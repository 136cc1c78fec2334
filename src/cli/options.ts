import { basename, dirname } from 'node:path'
import type { ParseArgsConfig } from 'node:util'
import type { TrackerOptions } from '../config.js'
import { parseNumber, parseQuantity, UsageError } from './units.js'

/** The flags every measuring command shares, mirroring the tracker's options. */
export const TRACKER_FLAGS = {
  project: { type: 'string' },
  experiment: { type: 'string' },
  output: { type: 'string', short: 'o' },
  interval: { type: 'string' },
  country: { type: 'string' },
  zone: { type: 'string' },
  cloud: { type: 'string' },
  'carbon-intensity': { type: 'string' },
  pue: { type: 'string' },
  'cpu-power': { type: 'string' },
  'ram-power': { type: 'string' },
  'rapl-root': { type: 'string' },
  'nvidia-smi': { type: 'string' },
  'nvml-library': { type: 'string' },
  'gpu-ids': { type: 'string' },
} as const satisfies NonNullable<ParseArgsConfig['options']>

export type FlagValues = Partial<Record<string, string | boolean | undefined>>

const text = (values: FlagValues, name: string): string | undefined => {
  const value = values[name]
  return typeof value === 'string' ? value : undefined
}

/** Tracker options from the shared flags; throws UsageError naming the flag for a bad value. */
export function trackerOptionsFrom(values: FlagValues): TrackerOptions {
  const options: TrackerOptions = {}
  const set = <K extends keyof TrackerOptions>(key: K, value: TrackerOptions[K] | undefined) => {
    if (value !== undefined) options[key] = value
  }
  set('projectName', text(values, 'project'))
  set('experimentId', text(values, 'experiment'))
  const output = text(values, 'output')
  if (output !== undefined) {
    // A path ending in .csv names the file; anything else is the folder.
    if (output.toLowerCase().endsWith('.csv')) {
      set('outputDir', dirname(output))
      set('outputFile', basename(output))
    } else set('outputDir', output)
  }
  const interval = text(values, 'interval')
  if (interval !== undefined) set('intervalMs', parseQuantity('duration', '--interval', interval) * 1000)
  set('country', text(values, 'country'))
  set('zone', text(values, 'zone'))
  const cloud = text(values, 'cloud')
  if (cloud !== undefined) {
    const [provider, region] = cloud.split(':')
    if (!provider || !region) {
      throw new UsageError(
        `--cloud ${JSON.stringify(cloud)} must be provider:region: for example --cloud aws:eu-north-1.`,
      )
    }
    set('cloudProvider', provider)
    set('cloudRegion', region)
  }
  const intensity = text(values, 'carbon-intensity')
  if (intensity !== undefined) {
    set(
      'carbonIntensity',
      parseNumber('--carbon-intensity', intensity.replace(/\s*g\/kwh$/i, ''), '56', 0, 2000),
    )
  }
  const pue = text(values, 'pue')
  if (pue !== undefined) set('pue', parseNumber('--pue', pue, '1.2', 1, 5))
  const cpu = text(values, 'cpu-power')
  if (cpu !== undefined) set('cpuPowerW', parseQuantity('power', '--cpu-power', cpu, 'w'))
  const ram = text(values, 'ram-power')
  if (ram !== undefined) set('ramPowerW', parseQuantity('power', '--ram-power', ram, 'w'))
  set('raplRoot', text(values, 'rapl-root'))
  set('nvidiaSmiPath', text(values, 'nvidia-smi'))
  set('nvmlLibraryPath', text(values, 'nvml-library'))
  set('gpuIds', text(values, 'gpu-ids'))
  return options
}
