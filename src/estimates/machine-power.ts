import { WattprintError } from '../core/errors.js'
import { type CpuFamily, cpuFamily } from './cpu-family.js'
import { matchCpu, shippedCpuTableSync } from './cpu-tdp-table.js'
import { shippedPowerModel } from './model-file.js'
import { type MachineFacts, machinePowerAt, type PowerModel, type VariantName } from './power-model.js'

/** What estimateMachinePower() needs to know about a machine. */
export interface MachinePowerInput {
  /** The CPU's name as /proc/cpuinfo or the vendor writes it (`Intel(R) Xeon(R) Gold 6248 CPU @ 2.50GHz`). */
  readonly cpuModel?: string
  /** CPU sockets (default 1). */
  readonly sockets?: number
  /** Hardware threads of the whole machine (logical CPUs). */
  readonly threads: number
  /** Memory of the whole machine, in GB. */
  readonly memoryGB: number
  /** Load in [0, 1]: the share of the machine's throughput in use (close to CPU utilisation). Default 0.5. */
  readonly load?: number
  /** TDP of one socket in watts, where you know it better than the CPU table. */
  readonly tdpW?: number
}

/** The machine's wall power at that load, with its 80 % interval and what it rests on. */
export interface MachinePowerEstimate {
  /** Wall (AC) watts of the whole machine. */
  readonly watts: number
  /** The 80 % interval: the model was within it for 80 % of servers it never saw. */
  readonly lowW: number
  /** The upper end of the 80 % interval, W. */
  readonly highW: number
  /** The watts split into the CPU package, memory and the rest (board, fans, drives, power-supply losses). */
  readonly components: {
    /** The CPU packages' watts, all sockets together. */
    readonly cpuW: number
    /** The memory's watts. */
    readonly ramW: number
    /** The rest of the machine's watts: board, fans, drives and power-supply losses. */
    readonly otherW: number
  }
  /** The model and what it knew, in words. */
  readonly source: string
  /** The model variant used: `tdp-year` knows the CPU's TDP and generation, `none` neither (widest interval). */
  readonly variant: VariantName
  /** TDP of one socket used, and where it came from. */
  readonly tdpW: number | null
  /** Where tdpW came from: the `tdpW` input, the CPU table, or `unknown` (tdpW null, threads stand in). */
  readonly tdpFrom: 'option' | 'cpu-table' | 'unknown'
  /** Launch year of the CPU's generation, read from its name; null when the name does not tell. */
  readonly generationYear: number | null
}

const invalid = (option: string, message: string): WattprintError =>
  new WattprintError('INVALID_OPTION', `estimateMachinePower: ${option} ${message}`, option)

function positive(option: string, value: unknown, integer: boolean): number {
  if (
    typeof value !== 'number' ||
    !Number.isFinite(value) ||
    value <= 0 ||
    (integer && !Number.isInteger(value))
  ) {
    throw invalid(option, `must be a ${integer ? 'whole number' : 'number'} above 0, got ${String(value)}.`)
  }
  return value
}

/**
 * Estimates a machine's wall power at a load from the CPU's name, sockets, threads and memory, with a model
 * fit to measured servers (SPECpower_ssj2008). Its error on servers it never saw is in docs/accuracy.md.
 */
export function estimateMachinePower(
  input: MachinePowerInput,
  model: PowerModel = shippedPowerModel(),
): MachinePowerEstimate {
  if (typeof input !== 'object' || input === null) throw invalid('input', 'must be an object.')
  const cpuModel = input.cpuModel ?? ''
  if (typeof cpuModel !== 'string') throw invalid('cpuModel', `must be a string, got ${typeof cpuModel}.`)
  const sockets = positive('sockets', input.sockets ?? 1, true)
  const threads = positive('threads', input.threads, true)
  const memoryGB = positive('memoryGB', input.memoryGB, false)
  const load = input.load ?? 0.5
  if (typeof load !== 'number' || !(load >= 0 && load <= 1)) {
    throw invalid('load', `must be a number in [0, 1] (0.5 is half load), got ${String(load)}.`)
  }
  if (threads < sockets) throw invalid('threads', `(${threads}) must be at least sockets (${sockets}).`)
  let tdpW: number | null = null
  let tdpFrom: MachinePowerEstimate['tdpFrom'] = 'unknown'
  let tableName: string | null = null
  if (input.tdpW !== undefined) {
    tdpW = positive('tdpW', input.tdpW, false)
    tdpFrom = 'option'
  } else if (cpuModel.trim() !== '') {
    const match = matchCpu(cpuModel, shippedCpuTableSync())
    if (match) {
      tdpW = match.tdpW
      tdpFrom = 'cpu-table'
      tableName = match.name
    }
  }
  const family = cpuFamily(cpuModel)
  const facts: MachineFacts = { tdpW, sockets, threads, memoryGB, vendor: family.vendor, year: family.year }
  const p = machinePowerAt(model, facts, load)
  const tdpText =
    tdpW === null
      ? 'TDP unknown (the CPU is not in the table: threads stand in, wider interval)'
      : `TDP ${tdpW} W ${tdpFrom === 'option' ? '(given)' : `(CPU table: ${tableName})`}`
  return {
    watts: p.watts,
    lowW: p.lowW,
    highW: p.highW,
    components: { cpuW: p.cpuW, ramW: p.ramW, otherW: p.otherW },
    source: describeModel(model, p.variant, tdpText, family),
    variant: p.variant,
    tdpW,
    tdpFrom,
    generationYear: family.year,
  }
}

/** What an estimate rests on, in words: the model, its variant, and what was known of the CPU. */
export function describeModel(
  model: PowerModel,
  variant: VariantName,
  tdpText: string,
  family: CpuFamily,
): string {
  const knew = [
    tdpText,
    family.year === null ? 'generation unknown' : `generation ${family.year} (${family.family})`,
  ]
  if (family.vendor === 'arm' || family.vendor === 'unknown') {
    knew.push(
      family.vendor === 'arm'
        ? 'no ARM server in the training data (interval widened)'
        : 'vendor unknown: no such server in the training data (interval widened)',
    )
  }
  return `${model.name} (${variant}; fit ${model.fitted} on SPECpower_ssj2008): ${knew.join('; ')}`
}
