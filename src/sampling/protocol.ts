import type { MessagePort } from 'node:worker_threads'
import type { TrackerWarning } from '../core/warnings.js'
import type { GpuReport } from '../meters/gpu.js'
import type { EstimateWatts } from '../meters/meter.js'
import type { IntervalReport, MeterDescription } from '../model/interval.js'
import type { SamplerSpec } from './build.js'
import type { SamplerState } from './sampler.js'

/** Messages from the main thread to the sampler worker. */
export type ToWorker =
  /** Build the meters and take the baseline reading (the one that stands unless the main thread's does). */
  | { readonly type: 'init'; readonly specs: readonly SamplerSpec[] }
  /**
   * Give estimate meters their wattage (by meter id) and start the schedule; batched intervals are posted
   * about every `batchMs` (see BATCH_MS). With `from`, the main thread took the run's first reading and
   * has just closed its part of the first interval (FirstReading): the worker goes on from the main thread's
   * state, its own first reading set aside, and joins that part to the first interval it closes.
   */
  | {
      readonly type: 'run'
      readonly watts: EstimateWatts
      readonly intervalMs: number
      readonly batchMs: number
      readonly from?: { readonly first: IntervalReport; readonly state: SamplerState }
    }
  /** `wattprint run`'s command has started: the job is its process tree from now on. */
  | { readonly type: 'job'; readonly pid: number }
  /** The tracker finished starting, its main thread at `mainTicks` of CPU (what it used since the baseline is its own). */
  | { readonly type: 'started'; readonly mainTicks: number }
  /** Post every interval as it closes (true), or batch them (false, the default). */
  | { readonly type: 'live'; readonly live: boolean }
  | { readonly type: 'stop' }

/** Messages from the sampler worker on its control port (listened to). */
export type FromWorker =
  | {
      readonly type: 'ready'
      readonly t0Ns: bigint
      readonly meters: readonly MeterDescription[]
      readonly gpu: GpuReport | null
    }
  | { readonly type: 'running' }
  | { readonly type: 'warning'; readonly warning: TrackerWarning }
  | { readonly type: 'stopped' }
  | { readonly type: 'failed'; readonly message: string }

/**
 * What the worker is started with. Intervals go on their own data port, in batches (arrays of
 * IntervalReport). Every postMessage wakes the receiving thread, and on a VM a wake-up costs more than the
 * readings themselves, so unless someone wants every interval (`sample` listeners), the worker batches
 * them: posted at the sample that ends a batch period (the tracker's checkpoint interval, so that one
 * wake-up of the main thread does both), and at once when the main thread asks for a reading (tasks,
 * flush) or stops the run.
 */
export interface WorkerStartData {
  readonly port: MessagePort
  readonly dataPort: MessagePort
  /** Int32 control words shared with the main thread; see the indices below. */
  readonly control: SharedArrayBuffer
}

/** control[REQUEST]: incremented by the main thread to ask for a reading now. */
export const REQUEST = 0
/** control[ANSWERED]: the last request the worker has answered (its interval is on the port). */
export const ANSWERED = 1
/**
 * control[WAKE]: incremented by the main thread, with a notify, after each message and request it sends:
 * a worker that sleeps in Atomics.wait between samples (see worker.ts) wakes for it at once.
 */
export const WAKE = 2
export const CONTROL_WORDS = 3
/** The batch period when the tracker asks for none shorter (no checkpoints): intervals are batched. */
export const BATCH_MS = 30_000
/** A batch is posted once it holds this many intervals, whatever its period (short intervals). */
export const BATCH_MAX_INTERVALS = 1000
