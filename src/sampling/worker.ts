// Entry of the sampler worker thread (dist/worker.js). It owns the clock: meters are built here from
// plain-data specs and read on an absolute schedule, whatever the main thread is doing.
import { type MessagePort, receiveMessageOnPort, workerData } from 'node:worker_threads'
import { describeError } from '../core/errors.js'
import type { IntervalReport } from '../model/interval.js'
import { buildMeters } from './build.js'
import {
  ANSWERED,
  BATCH_MAX_INTERVALS,
  type FromWorker,
  REQUEST,
  type ToWorker,
  WAKE,
  type WorkerStartData,
} from './protocol.js'
import { Sampler } from './sampler.js'
import { FixedRateSchedule } from './schedule.js'

const { port, dataPort, control } = workerData as WorkerStartData & {
  port: MessagePort
  dataPort: MessagePort
}
const words = new Int32Array(control)
let sampler: Sampler | undefined
/** Whether a meter's readings come through the event loop (nvidia-smi's output): then no blocking loop. */
let needsEventLoop = false
let schedule: FixedRateSchedule | undefined
let t0Ns = 0n
let stopping = false
let live = false
let batch: IntervalReport[] = []
/** When the last batch was posted (or the schedule started), and how often to post one. */
let postedAtMs = 0
let batchMs = 0
/** Half an interval: a batch is due at the sample nearest its period's end, not the one after. */
let toleranceMs = 0

const send = (message: FromWorker): void => port.postMessage(message)

/**
 * Closes an interval at `nowNs` (now by default); posts it now, or with the batch (see BATCH_MS), unless
 * `post` forces it out.
 */
function sampleNow(post: boolean, final = false, nowNs = process.hrtime.bigint()): void {
  if (!sampler) return
  const now = Date.now()
  batch.push(sampler.sample(nowNs, now, final))
  const due = now - postedAtMs + toleranceMs >= batchMs || batch.length >= BATCH_MAX_INTERVALS
  if (post || live || due) postBatch(now)
}

function postBatch(now = Date.now()): void {
  if (batch.length === 0) return
  dataPort.postMessage(batch)
  batch = []
  postedAtMs = now
}

/** Answers the main thread's synchronous requests for a reading (tasks, flush) as they come. */
function answerRequests(answered: number): void {
  if (stopping) return
  const wait = Atomics.waitAsync(words, REQUEST, answered)
  const handle = (): void => {
    if (stopping) return
    const request = Atomics.load(words, REQUEST)
    sampleNow(true)
    Atomics.store(words, ANSWERED, request)
    Atomics.notify(words, ANSWERED)
    answerRequests(request)
  }
  if (wait.async) wait.value.then(handle)
  else handle()
}

function onMessage(message: ToWorker): void {
  switch (message.type) {
    case 'init': {
      const { meters, gpu, attribution } = buildMeters(message.specs, true)
      needsEventLoop = meters.some((meter) => meter.needsEventLoop === true)
      sampler = new Sampler(meters, (warning) => send({ type: 'warning', warning }), attribution)
      t0Ns = process.hrtime.bigint()
      sampler.begin(t0Ns)
      send({ type: 'ready', t0Ns, meters: sampler.meters, gpu })
      break
    }
    case 'run': {
      if (!sampler) throw new Error("'run' before 'init'")
      sampler.setWatts(message.watts)
      batchMs = message.batchMs
      toleranceMs = message.intervalMs / 2
      postedAtMs = Date.now()
      const from = message.from
      if (from) {
        // The main thread's first reading stands: go on from it; its interval is joined to the first here.
        sampler.resume(from.state, from.first)
        t0Ns = from.state.t0Ns
      }
      send({ type: 'running' })
      if (!needsEventLoop) {
        runBlocking(message.intervalMs)
        break
      }
      schedule = new FixedRateSchedule(t0Ns, message.intervalMs, (nowNs) => sampleNow(false, false, nowNs))
      schedule.start()
      answerRequests(Atomics.load(words, REQUEST))
      break
    }
    case 'job': {
      sampler?.setJob(message.pid)
      break
    }
    case 'started': {
      sampler?.trackerStarted(message.mainTicks)
      break
    }
    case 'live': {
      live = message.live
      if (live) postBatch()
      break
    }
    case 'stop': {
      stopping = true
      schedule?.stop()
      sampleNow(true, true)
      sampler?.close()
      // The final interval is already queued on the data port when 'stopped' arrives on this one.
      send({ type: 'stopped' })
      dataPort.close()
      port.close()
      break
    }
  }
}

/**
 * The run's loop when every meter reads synchronously: sleeps in Atomics.wait until the next slot of the
 * absolute schedule (t0 + k × interval, as FixedRateSchedule keeps it), or until the main thread wakes it
 * (control[WAKE]) with a request for a reading or a message, which it takes with receiveMessageOnPort.
 * The event loop does not turn until the run stops: a wake-up is one futex return, not a libuv timer, V8's
 * task queues and a microtask checkpoint, which cost the worker about three times as much CPU per sample
 * on a VM (see docs/explanation/benchmarks.md). Returns once 'stop' was handled.
 */
function runBlocking(intervalMs: number): void {
  const periodNs = intervalMs * 1e6
  const since = (): number => Number(process.hrtime.bigint() - t0Ns)
  /** The slot (k of t0 + k × interval) the next sample closes. */
  let next = Math.floor(since() / periodNs) + 1
  let woken = Atomics.load(words, WAKE)
  let answered = Atomics.load(words, REQUEST)
  while (!stopping) {
    const request = Atomics.load(words, REQUEST)
    if (request !== answered) {
      answered = request
      sampleNow(true)
      Atomics.store(words, ANSWERED, request)
      Atomics.notify(words, ANSWERED)
    }
    for (let got = receiveMessageOnPort(port); got && !stopping; got = receiveMessageOnPort(port)) {
      onMessage(got.message as ToWorker)
    }
    if (stopping) return
    const nowNs = process.hrtime.bigint()
    const sinceNs = Number(nowNs - t0Ns)
    if (sinceNs >= next * periodNs) {
      sampleNow(false, false, nowNs)
      // A late sample (a stalled thread) is not repeated: the next lands on the next future slot.
      next = Math.max(next + 1, Math.floor(sinceNs / periodNs) + 1)
      continue
    }
    Atomics.wait(words, WAKE, woken, (next * periodNs - sinceNs) / 1e6)
    woken = Atomics.load(words, WAKE)
  }
}

port.on('message', (message: ToWorker) => {
  try {
    onMessage(message)
  } catch (error) {
    send({ type: 'failed', message: describeError(error) })
  }
})
