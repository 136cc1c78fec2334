// How wrong each figure may be: the 80 % interval of a modelled figure (the power model's, calibrated on
// servers the fit never saw), and an allowance for a measured one. The record turns these factors into
// `low` and `high` figures beside every energy and emissions total.

import type { MeterMethod, MeterSource } from '../core/components.js'
import { atLoad } from './power-model.js'

/** An interval as factors of the figure: low ≤ 1 ≤ high. */
export interface Factors {
  readonly low: number
  readonly high: number
}

/** No interval: a figure the user set (ramPowerW) is taken as given. */
export const EXACT: Factors = { low: 1, high: 1 }

/**
 * The allowance for a measured source, as a fraction either side, with what it rests on. No vendor
 * publishes a bound for RAPL, hwmon or the ACPI power meter: 5 % is our allowance there, stated as such.
 */
export const MEASURED_ERROR: Readonly<Record<string, { readonly fraction: number; readonly basis: string }>> =
  {
    rapl: {
      fraction: 0.05,
      basis:
        'an allowance: RAPL package energy agrees closely with external meters from Haswell on (Khan et al., "RAPL in Action", 2018), no vendor bound',
    },
    'rapl-dram': {
      fraction: 0.1,
      basis:
        'an allowance: DRAM RAPL is modelled on some platforms and worse at idle (Desrochers et al., MEMSYS 2016)',
    },
    nvml: {
      fraction: 0.05,
      basis:
        "NVIDIA's documented ±5 % for NVML power (nvmlDeviceGetPowerUsage), also taken for its energy counter",
    },
    'nvidia-smi': { fraction: 0.05, basis: "nvidia-smi's documented ±5 W on the board, taken as ±5 %" },
    other: { fraction: 0.05, basis: 'an allowance: the vendor publishes no bound' },
  }

/** The allowance for a measured source. */
export function measuredError(source: MeterSource): { fraction: number; basis: string } {
  const key =
    source === 'rapl' || source === 'rapl-psys'
      ? 'rapl'
      : source === 'rapl-dram'
        ? 'rapl-dram'
        : source.startsWith('nvml')
          ? 'nvml'
          : source === 'nvidia-smi'
            ? 'nvidia-smi'
            : 'other'
  return MEASURED_ERROR[key] as { fraction: number; basis: string }
}

/** The model's interval factors per load step, for a figure it supplied. */
export interface ModelFactors {
  readonly lowFactor: readonly number[]
  readonly highFactor: readonly number[]
}

/**
 * The interval factors of a meter's figure: a measured source's allowance; a modelled one's, at the run's
 * mean load (the factors change little with load: docs/accuracy.md); none for a wattage the user set.
 */
export function factorsOf(
  meter: { readonly source: MeterSource; readonly method: MeterMethod },
  model: ModelFactors | null,
  load: number,
): Factors {
  if (meter.method === 'measured') {
    const { fraction } = measuredError(meter.source)
    return { low: 1 - fraction, high: 1 + fraction }
  }
  if (meter.source === 'constant' || model === null) return EXACT
  return { low: atLoad(model.lowFactor, load), high: atLoad(model.highFactor, load) }
}
