// What the running tracker charges where nothing measures: the power model's components as curves over the
// machine's load, evaluated once, in the main thread, before sampling (the sampler only interpolates). A
// virtual machine is charged its share of a host, not a whole server.

import { ASSUMED_HOST, ASSUMED_HOST_WIDENING } from './assumed-host.js'
import type { CpuVendor } from './cpu-family.js'
import {
  componentShares,
  LOAD_STEPS,
  type MachineFacts,
  type PowerModel,
  stepPowers,
  type VariantName,
  variantFor,
} from './power-model.js'

/** A virtual machine's size and its host's, for its share. */
export interface GuestShare {
  readonly vcpus: number
  readonly memoryGiB: number
  readonly host: { readonly sockets: number; readonly threads: number; readonly memoryGiB: number }
  /** Whether the host is the assumed one (the interval is widened) rather than the user's or the table's. */
  readonly hostAssumed: boolean
  /** Where the host's size came from, in words, when not assumed. */
  readonly hostFrom: string | null
}

/** The machine as the tracker sees it. */
export interface EstimateMachine {
  /** TDP of one socket in watts; null when unknown (threads stand in). */
  readonly tdpW: number | null
  readonly sockets: number
  /** Logical CPUs the machine shows. */
  readonly threads: number
  readonly memoryGiB: number
  readonly vendor: CpuVendor
  readonly year: number | null
  /** A virtual machine: charged its share of the host. Null on bare metal and in a container. */
  readonly vm: GuestShare | null
  /** A container's memory limit, GiB: the RAM charged is the limit's share of the machine's. */
  readonly memoryLimitGiB: number | null
}

/** Watts per load step (LOAD_STEPS) of what this machine is charged, and the interval as factors. */
export interface EstimateCurves {
  readonly cpuW: readonly number[]
  readonly ramW: readonly number[]
  /** The rest of the machine: board, fans, drives, power-supply losses. */
  readonly restW: readonly number[]
  /** The 80 % interval as factors of the figure, per load step (low ≤ 1 ≤ high). */
  readonly lowFactor: readonly number[]
  readonly highFactor: readonly number[]
  readonly variant: VariantName
  /** The share of the host charged, in words; null on bare metal. */
  readonly share: string | null
}

const GIB_IN_GB = 2 ** 30 / 1e9
const round = (n: number) => String(Math.round(n * 100) / 100)

/**
 * The model's CPU, RAM and rest-of-machine watts at each load step. On a virtual machine the host's
 * curves are scaled: CPU and the rest by vCPUs over the host's threads, RAM by memory over the host's
 * (the guest's load stands for the host's, which it cannot see). A container's memory limit scales RAM.
 */
export function estimateCurves(model: PowerModel, machine: EstimateMachine): EstimateCurves {
  const vm = machine.vm
  const facts: MachineFacts = {
    tdpW: machine.tdpW,
    sockets: vm ? vm.host.sockets : machine.sockets,
    threads: vm ? vm.host.threads : machine.threads,
    memoryGB: (vm ? vm.host.memoryGiB : machine.memoryGiB) * GIB_IN_GB,
    vendor: machine.vendor,
    year: machine.year,
  }
  const variant = variantFor(facts)
  const steps = stepPowers(model, facts, variant)
  const cpuShare = vm ? Math.min(1, vm.vcpus / vm.host.threads) : 1
  const memoryShare = vm
    ? Math.min(1, vm.memoryGiB / vm.host.memoryGiB)
    : machine.memoryLimitGiB !== null && machine.memoryLimitGiB < machine.memoryGiB
      ? machine.memoryLimitGiB / machine.memoryGiB
      : 1
  const widen = vm?.hostAssumed ? ASSUMED_HOST_WIDENING : 1
  const cpuW: number[] = []
  const ramW: number[] = []
  const restW: number[] = []
  const lowFactor: number[] = []
  const highFactor: number[] = []
  LOAD_STEPS.forEach((load, i) => {
    const watts = steps.watts[i] ?? 0
    const shares = componentShares(model.components, facts, load)
    cpuW.push(watts * shares.cpu * cpuShare)
    ramW.push(watts * shares.ram * memoryShare)
    restW.push(watts * shares.other * cpuShare)
    const low = watts > 0 ? (steps.lowW[i] ?? watts) / watts : 1
    const high = watts > 0 ? (steps.highW[i] ?? watts) / watts : 1
    lowFactor.push(Math.min(1, low ** widen))
    highFactor.push(Math.max(1, high ** widen))
  })
  const share = vm
    ? `a virtual machine's share of ${vm.hostAssumed ? 'an assumed host' : 'its host'} ` +
      `(${vm.host.sockets} sockets, ${round(vm.host.threads)} threads, ${round(vm.host.memoryGiB)} GiB` +
      (vm.hostAssumed
        ? `, the commonest in Cloud Carbon Footprint's tables; interval widened ×${ASSUMED_HOST_WIDENING}`
        : `: ${vm.hostFrom}`) +
      `): CPU and the rest × ${round(vm.vcpus)}/${round(vm.host.threads)} vCPUs, RAM × ` +
      `${round(vm.memoryGiB)}/${round(vm.host.memoryGiB)} GiB; the host's own load is unknown, the guest's stands for it`
    : memoryShare < 1
      ? `RAM × ${round(machine.memoryLimitGiB ?? 0)}/${round(machine.memoryGiB)} GiB (a container's memory limit)`
      : null
  return { cpuW, ramW, restW, lowFactor, highFactor, variant, share }
}

/**
 * The host a virtual machine is a share of: the user's threads and memory, else the threads of its
 * instance type's host platform in Cloud Carbon Footprint's table (its memory at the assumed host's 4 GiB
 * per thread), else the assumed host's.
 */
export function vmShare(
  vcpus: number,
  memoryGiB: number,
  given: { readonly threads?: number; readonly memoryGiB?: number } | undefined,
  table: { readonly threads: number; readonly label: string } | null = null,
): GuestShare {
  const userHost = given?.threads !== undefined || given?.memoryGiB !== undefined
  const fromTable = !userHost && table !== null && table.threads > 0
  const perThreadGiB = ASSUMED_HOST.memoryGiB / ASSUMED_HOST.threads
  const threads = given?.threads ?? (fromTable ? table.threads : ASSUMED_HOST.threads)
  return {
    vcpus,
    memoryGiB,
    host: {
      sockets: ASSUMED_HOST.sockets,
      // A guest bigger than the host is on a bigger host: never more than a whole one.
      threads: Math.max(threads, Math.ceil(vcpus)),
      memoryGiB: Math.max(
        given?.memoryGiB ?? (fromTable ? threads * perThreadGiB : ASSUMED_HOST.memoryGiB),
        memoryGiB,
      ),
    },
    hostAssumed: !userHost && !fromTable,
    hostFrom: userHost
      ? 'embodied.host'
      : fromTable
        ? `${table.label}, its memory assumed at ${perThreadGiB} GiB per thread`
        : null,
  }
}
