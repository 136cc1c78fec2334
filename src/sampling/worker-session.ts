import {
  MessageChannel,
  type MessagePort,
  receiveMessageOnPort,
  SHARE_ENV,
  Worker,
} from 'node:worker_threads'
import { describeError } from '../core/errors.js'
import type { GpuReport } from '../meters/gpu.js'
import type { EstimateWatts } from '../meters/meter.js'
import type { IntervalReport, MeterDescription } from '../model/interval.js'
import type { SamplerSpec } from './build.js'
import { type FirstReading, sameMeters } from './first-reading.js'
import {
  ANSWERED,
  BATCH_MS,
  CONTROL_WORDS,
  type FromWorker,
  REQUEST,
  type ToWorker,
  WAKE,
} from './protocol.js'
import type { SamplingCallbacks, SamplingSession } from './session.js'

/** How long readNow() blocks the main thread at most, waiting for the worker's reading. */
const READ_NOW_TIMEOUT_MS = 250
/**
 * How long start and stop wait for the worker before giving up on it: building the meters may include
 * nvmlInit and a first nvidia-smi run, which take seconds on some machines.
 */
const HANDSHAKE_TIMEOUT_MS = 15_000

/**
 * The main thread's side of the sampler worker. The worker is spawned at once (its start-up overlaps the
 * tracker's other start-up work) and unref'd, so it never keeps the host alive. Control messages arrive on
 * one port, intervals in batches on another (see BATCH_MS): unless every interval is wanted, the main
 * thread wakes up for them only once a batch period (the checkpoint interval), or when it asks for a
 * reading and drains the port synchronously.
 */
export class WorkerSampling implements SamplingSession {
  readonly mode = 'worker' as const
  t0Ns = 0n
  meters: readonly MeterDescription[] = []
  gpu: GpuReport | null = null
  private readonly worker: Worker
  private readonly port: MessagePort
  private readonly dataPort: MessagePort
  private readonly words: Int32Array
  private live = false
  private state: 'spawned' | 'ready' | 'running' | 'stopping' | 'stopped' | 'failed' = 'spawned'
  private waiters: { resolve: () => void; reject: (error: Error) => void } | undefined
  /** The main thread's first reading, until run() hands it over (see FirstReading). */
  private first: FirstReading | undefined

  constructor(
    workerUrl: URL,
    private readonly callbacks: SamplingCallbacks,
  ) {
    const control = new MessageChannel()
    const data = new MessageChannel()
    const words = new SharedArrayBuffer(CONTROL_WORDS * Int32Array.BYTES_PER_ELEMENT)
    this.words = new Int32Array(words)
    this.port = control.port1
    this.dataPort = data.port1
    this.worker = new Worker(workerUrl, {
      // Node copies the environment into a new worker by default, and that copy aborts the whole process
      // (a V8 fatal error, not an exception) on a variable whose name is not UTF-8. Shared, it is not
      // copied; the sampler never writes to it.
      env: SHARE_ENV,
      workerData: { port: control.port2, dataPort: data.port2, control: words },
      transferList: [control.port2, data.port2],
    })
    this.worker.unref()
    this.port.on('message', (message: FromWorker) => this.handle(message))
    this.port.unref()
    this.dataPort.on('message', (batch: readonly IntervalReport[]) => this.deliver(batch))
    this.dataPort.unref()
    this.worker.on('error', (error) => this.fail(`sampler worker error: ${describeError(error)}`))
    this.worker.on('exit', (code) => {
      // The exit can be dispatched before messages the worker posted just before it ('stopped' after
      // the final reading, 'failed' with its reason): those are still queued, so handle them first.
      this.handleQueued()
      if (this.state !== 'stopped') this.fail(`sampler worker exited with code ${code}`)
    })
  }

  /**
   * Sends the meters to measure and waits for the worker's baseline reading. With the main thread's
   * `first` reading, measuring began there: the worker takes over from it when it reads the same meters
   * (run() hands it over), else its own reading stands and `first` is closed. Rejects if the worker cannot
   * start.
   */
  async begin(specs: readonly SamplerSpec[], first?: FirstReading): Promise<this> {
    try {
      await this.await(() => this.post({ type: 'init', specs }))
    } catch (error) {
      first?.close()
      throw error
    }
    if (first && this.state === 'ready' && sameMeters(first.meters, this.meters)) {
      this.first = first
      this.t0Ns = first.t0Ns
    } else first?.close()
    return this
  }

  run(watts: EstimateWatts, intervalMs: number, batchMs = BATCH_MS): Promise<void> {
    const first = this.first
    this.first = undefined
    // This thread's part of the first interval closes here, now, where the worker's part begins.
    const from = first?.handOver(watts)
    return this.await(() => this.post({ type: 'run', watts, intervalMs, batchMs, ...(from ? { from } : {}) }))
  }

  setLive(live: boolean): void {
    if (live === this.live || this.state === 'stopped' || this.state === 'failed') return
    this.live = live
    this.post({ type: 'live', live })
  }

  setJob(pid: number): void {
    if (this.state === 'stopped' || this.state === 'failed') return
    this.post({ type: 'job', pid })
  }

  trackerStarted(mainTicks: number): void {
    if (this.state === 'stopped' || this.state === 'failed') return
    this.post({ type: 'started', mainTicks })
  }

  readNow(): boolean {
    if (this.state !== 'running') return false
    const request = Atomics.add(this.words, REQUEST, 1) + 1
    Atomics.notify(this.words, REQUEST)
    this.wake()
    const deadline = performance.now() + READ_NOW_TIMEOUT_MS
    let answered = Atomics.load(this.words, ANSWERED)
    while (answered < request) {
      const remaining = deadline - performance.now()
      if (remaining <= 0) break
      Atomics.wait(this.words, ANSWERED, answered, remaining)
      answered = Atomics.load(this.words, ANSWERED)
    }
    this.drain()
    return answered >= request
  }

  async stop(): Promise<void> {
    this.first?.close()
    this.first = undefined
    if (this.state !== 'ready' && this.state !== 'running') {
      await this.worker.terminate().catch(() => {})
      return
    }
    this.state = 'stopping'
    // Hold the host open until the final reading is in: the awaited promise alone would not.
    this.worker.ref()
    this.port.ref()
    try {
      await this.await(() => this.post({ type: 'stop' }))
    } finally {
      this.drain()
      this.state = 'stopped'
      this.port.close()
      this.dataPort.close()
      await this.worker.terminate().catch(() => {})
    }
  }

  private post(message: ToWorker): void {
    this.port.postMessage(message)
    this.wake()
  }

  /** Wakes a worker that sleeps in Atomics.wait between samples, to read what was just sent. */
  private wake(): void {
    Atomics.add(this.words, WAKE, 1)
    Atomics.notify(this.words, WAKE)
  }

  /** Runs `send` and resolves on the worker's answer (ready, running, stopped); rejects on failure or timeout. */
  private await(send: () => void): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters = undefined
        reject(new Error(`sampler worker did not answer within ${HANDSHAKE_TIMEOUT_MS} ms`))
      }, HANDSHAKE_TIMEOUT_MS)
      this.waiters = {
        resolve: () => {
          clearTimeout(timer)
          resolve()
        },
        reject: (error) => {
          clearTimeout(timer)
          reject(error)
        },
      }
      send()
    })
  }

  /** Handles every control message waiting on the control port, in order. */
  private handleQueued(): void {
    for (let got = receiveMessageOnPort(this.port); got; got = receiveMessageOnPort(this.port)) {
      this.handle(got.message as FromWorker)
    }
  }

  /** Accounts every batch of intervals waiting on the data port, in order. */
  private drain(): void {
    for (let got = receiveMessageOnPort(this.dataPort); got; got = receiveMessageOnPort(this.dataPort)) {
      this.deliver(got.message as readonly IntervalReport[])
    }
  }

  private deliver(batch: readonly IntervalReport[]): void {
    for (const report of batch) {
      try {
        this.callbacks.onInterval(report)
      } catch (error) {
        this.report(`while accounting an interval: ${describeError(error)}`)
      }
    }
  }

  private handle(message: FromWorker): void {
    try {
      switch (message.type) {
        case 'ready':
          this.t0Ns = message.t0Ns
          this.meters = message.meters
          this.gpu = message.gpu
          this.state = 'ready'
          this.settle()
          break
        case 'running':
          this.state = 'running'
          this.settle()
          break
        case 'warning':
          this.callbacks.onWarning(message.warning)
          break
        case 'stopped':
          this.drain()
          // The final interval is in: the worker's exit from now on is the expected one.
          if (this.state === 'stopping') this.state = 'stopped'
          this.settle()
          break
        case 'failed':
          this.fail(message.message)
          break
      }
    } catch (error) {
      this.report(`while handling a ${message.type} message: ${describeError(error)}`)
    }
  }

  /** A callback failed: report it, never let it escape into the host's event loop. */
  private report(message: string): void {
    try {
      this.callbacks.onWarning({ code: 'ACCOUNTING_FAILED', message })
    } catch {}
  }

  private settle(): void {
    const waiters = this.waiters
    this.waiters = undefined
    waiters?.resolve()
  }

  private fail(message: string): void {
    if (this.state === 'stopped' || this.state === 'failed') return
    const wasRunning = this.state === 'running' || this.state === 'stopping'
    this.state = 'failed'
    this.first?.close()
    this.first = undefined
    this.drain()
    const waiters = this.waiters
    this.waiters = undefined
    if (waiters) waiters.reject(new Error(message))
    else if (wasRunning) this.callbacks.onFailure(message)
    this.worker.terminate().catch(() => {})
  }
}
