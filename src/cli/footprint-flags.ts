import type { TrackerOptions } from '../config/options.js'
import type { EmbodiedHostOption, EmbodiedOption } from '../footprint/options.js'
import { type Flags, type FlagValues, textOf } from './flags.js'
import { optionRange } from './options.js'
import { parseNumber, parseQuantity, UsageError } from './units.js'

/** The flags of `wattprint run` for the footprint beyond electricity: embodied emissions, water, SCI. */
export const FOOTPRINT_FLAGS = {
  'instance-type': {
    type: 'string',
    value: 'type',
    help: "the cloud instance type, for its embodied emissions (Cloud Carbon Footprint's table): p4d.24xlarge",
    example: 'p4d.24xlarge',
    options: ['cloudInstanceType'],
  },
  embodied: {
    type: 'string',
    value: '1500kg',
    help: "the machine's embodied emissions (kg CO2e) instead of the table's or the server model's",
    example: '1500kg',
    options: ['embodied.emissionsKg'],
  },
  lifetime: {
    type: 'string',
    value: 'years',
    help: "the hardware's life the embodied emissions are spread over, years (default 4)",
    example: '4',
    options: ['embodied.lifetimeYears'],
  },
  share: {
    type: 'string',
    value: '0.125',
    help: 'the share of the hardware the run reserved, above 0 up to 1 (one GPU of eight: 0.125)',
    example: '0.125',
    options: ['embodied.share'],
  },
  host: {
    type: 'string',
    value: 'threads:GiB',
    help: "the host of this virtual machine or container, for its share: the host's threads and memory (default: the instance type's host, else a container's own machine, else an assumed 96 threads and 384 GiB)",
    example: '64:512',
    options: ['embodied.host'],
  },
  wue: {
    type: 'string',
    value: 'L/kWh',
    help: "the data centre's water usage effectiveness, litres per IT kWh (default: the provider's figure)",
    example: '0.18',
    options: ['wueLPerKWh'],
  },
  'water-intensity': {
    type: 'string',
    value: 'L/kWh',
    help: 'water consumed generating the electricity, litres per kWh (default: the WRI 2020 factor for the zone or country)',
    example: '3.1',
    options: ['waterIntensityLPerKWh'],
  },
  'functional-unit': {
    type: 'string',
    value: 'name:count',
    help: 'what SCI is counted per, and how many the run delivered: epoch:10',
    example: 'epoch:10',
    options: ['functionalUnit'],
  },
} as const satisfies Flags

const LITRES_PER_KWH = /\s*l\s*\/\s*kwh\s*$/i

/** `--host 64:512` → `{ threads: 64, memoryGiB: 512 }`; either part may be left out (`64:`, `:512`). */
function hostFrom(text: string): EmbodiedHostOption {
  const [threads = '', memory = '', ...rest] = text.split(':')
  if (rest.length > 0 || (!threads.trim() && !memory.trim())) {
    throw new UsageError(
      `--host ${JSON.stringify(text)} must be threads:GiB, the host's threads and memory (either may be left out): for example --host 64:512.`,
    )
  }
  const example = '64:512'
  return {
    ...(threads.trim()
      ? {
          threads: parseNumber('--host', threads, {
            example,
            range: { min: 1, max: 100_000 },
            integer: true,
          }),
        }
      : {}),
    ...(memory.trim()
      ? {
          memoryGiB: parseNumber('--host', memory, {
            example,
            range: { min: 0.001 },
            suffix: /\s*gi?b\s*$/i,
          }),
        }
      : {}),
  }
}

/** Tracker options from the footprint flags; throws UsageError naming the flag for a bad value. */
export function footprintOptionsFrom(values: FlagValues): TrackerOptions {
  const options: { -readonly [K in keyof TrackerOptions]: TrackerOptions[K] } = {}
  const type = textOf(values, 'instance-type')
  if (type !== undefined) options.cloudInstanceType = type
  const embodied: { -readonly [K in keyof EmbodiedOption]: EmbodiedOption[K] } = {}
  const kg = textOf(values, 'embodied')
  if (kg !== undefined) embodied.emissionsKg = parseQuantity('mass', '--embodied', kg, { example: '1500kg' })
  const lifetime = textOf(values, 'lifetime')
  if (lifetime !== undefined)
    embodied.lifetimeYears = parseNumber('--lifetime', lifetime, { example: '4', range: { min: 0.01 } })
  const share = textOf(values, 'share')
  if (share !== undefined)
    embodied.share = parseNumber('--share', share, { example: '0.125', range: { min: 0.000001, max: 1 } })
  const host = textOf(values, 'host')
  if (host !== undefined) embodied.host = hostFrom(host)
  if (Object.keys(embodied).length > 0) options.embodied = embodied
  const wue = textOf(values, 'wue')
  if (wue !== undefined)
    options.wueLPerKWh = parseNumber('--wue', wue, {
      example: '0.18',
      range: optionRange('wueLPerKWh'),
      suffix: LITRES_PER_KWH,
    })
  const water = textOf(values, 'water-intensity')
  if (water !== undefined) {
    const range = optionRange('waterIntensityLPerKWh')
    options.waterIntensityLPerKWh = parseNumber('--water-intensity', water, {
      example: '3.1',
      range,
      suffix: LITRES_PER_KWH,
    })
  }
  const unit = textOf(values, 'functional-unit')
  if (unit !== undefined) {
    const [name = '', count, ...rest] = unit.split(':')
    if (!name.trim() || rest.length > 0) {
      throw new UsageError(
        `--functional-unit ${JSON.stringify(unit)} must be name or name:count: for example --functional-unit epoch:10.`,
      )
    }
    options.functionalUnit =
      count === undefined
        ? { name: name.trim() }
        : {
            name: name.trim(),
            count: parseNumber('--functional-unit', count, { example: 'epoch:10', range: { min: 0.000001 } }),
          }
  }
  return options
}
