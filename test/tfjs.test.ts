import * as tf from '@tensorflow/tfjs'
import { afterEach, describe, expect, it } from 'vitest'
import type { TrackerWarning } from '../src/core/warnings.js'
import { tfjsCallback } from '../src/integrations/tfjs.js'
import type { BudgetEvent, Prediction } from '../src/model/events.js'
import { EmissionsTracker } from '../src/tracker/tracker.js'
import { driveCounters } from './helpers/driver.mjs'
import { makePowercapTree } from './helpers/powercap.mjs'
import { captureStderr } from './helpers/stderr.js'

const cleanups: (() => void)[] = []
afterEach(() => {
  for (const cleanup of cleanups.splice(0)) cleanup()
})
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
const base = { saveToFile: false, logLevel: 'silent' as const, carbonIntensityGPerKWh: 300, intervalMs: 50 }

describe('tracker.predict', () => {
  it('forecasts a loop of known per-epoch cost within 5 % after 2 of 10 epochs', async () => {
    // One package counter a helper process advances at exactly 100 W while the loop runs; RAM at 0 W.
    const tree = makePowercapTree([{ id: 'intel-rapl:0', name: 'package-0', energyUj: 5_000_000 }])
    cleanups.push(() => tree.cleanup())
    const driver = await driveCounters([
      { path: tree.energyPath('intel-rapl:0'), watts: 100, startUj: 5_000_000, rangeUj: 262_143_328_850 },
    ])
    cleanups.push(() => void driver.stop())
    const tracker = new EmissionsTracker({ ...base, raplRoot: tree.root, ramPowerW: 0 })
    await tracker.start()
    await sleep(200) // set-up before the loop: time, but no energy (the counter is frozen)
    const predictions: Prediction[] = []
    tracker.on('prediction', (p) => predictions.push(p))
    expect(tracker.predict({ done: 0, total: 10 })).toBeNull()
    await driver.run()
    let early: Prediction | null = null
    for (let epoch = 1; epoch <= 10; epoch++) {
      await sleep(120)
      if (epoch === 2) early = tracker.predict({ done: 2, total: 10 })
    }
    const [advancedUj = 0] = await driver.freeze()
    const record = await tracker.stop()
    expect(predictions).toHaveLength(1)
    expect(early).toEqual(predictions[0])
    expect(record.energyKWh * 3.6e6).toBeCloseTo(advancedUj / 1e6, 3)
    expect(Math.abs((early?.energyKWh ?? 0) / record.energyKWh - 1)).toBeLessThan(0.05)
    expect(Math.abs((early?.emissionsKg ?? 0) / record.emissionsKg - 1)).toBeLessThan(0.05)
    expect(Math.abs((early?.durationS ?? 0) / record.durationS - 1)).toBeLessThan(0.05)
  })

  it('says which budget a forecast crosses', async () => {
    const tracker = new EmissionsTracker({ ...base, sampling: 'inline', budget: { durationS: 1 } })
    await tracker.start()
    tracker.predict({ done: 0, total: 100 })
    await sleep(100)
    expect(tracker.predict({ done: 1, total: 100 })?.exceeds).toBe('durationS')
    await tracker.stop()
    expect(tracker.predict({ done: 1, total: 2 })).toBeNull()
  })
})

describe('tracker.measure', () => {
  it('gives the energy of one call, and closes the task when the call throws', async () => {
    const tracker = new EmissionsTracker({ ...base, sampling: 'inline' })
    await tracker.start()
    const { result, task } = await tracker.measure(async () => {
      await sleep(100)
      return 42
    })
    expect(result).toBe(42)
    expect(task?.durationS).toBeGreaterThan(0.09)
    expect(task?.energyKWh).toBeGreaterThan(0)
    await expect(tracker.measure(() => Promise.reject(new Error('inference failed')), 'bad')).rejects.toThrow(
      'inference failed',
    )
    expect(tracker.stopTask('bad')).toBeUndefined()
    await tracker.stop()
  })
})

describe('tfjsCallback, in a real TensorFlow.js training run', () => {
  const data = () => ({
    x: tf.randomNormal([512, 32], 0, 1, 'float32', 1),
    y: tf.oneHot(
      tf.tensor1d(
        Array.from({ length: 512 }, (_, i) => i % 4),
        'int32',
      ),
      4,
    ),
  })
  /** Fits `fitted` on the data for `epochs` with `callbacks` as given or wrapped in tf.CustomCallback. */
  const train = async (
    fitted: tf.Sequential,
    epochs: number,
    form: 'plain object' | 'tf.CustomCallback',
    callbacks: ConstructorParameters<typeof tf.CustomCallback>[0],
  ) => {
    const { x, y } = data()
    const history = await fitted.fit(x, y, {
      epochs,
      batchSize: 64,
      verbose: 0,
      callbacks: form === 'plain object' ? callbacks : new tf.CustomCallback(callbacks),
    })
    tf.dispose([x, y])
    return history
  }
  const model = () => {
    const m = tf.sequential({
      layers: [
        tf.layers.dense({ inputShape: [32], units: 64, activation: 'relu' }),
        tf.layers.dense({ units: 4, activation: 'softmax' }),
      ],
    })
    m.compile({ optimizer: 'adam', loss: 'categoricalCrossentropy' })
    return m
  }

  it.each(['plain object', 'tf.CustomCallback'] as const)(
    'records a task per epoch and predicts the run (%s)',
    async (form) => {
      await tf.setBackend('cpu')
      const tracker = new EmissionsTracker({ ...base })
      const predictions: Prediction[] = []
      tracker.on('prediction', (p) => predictions.push(p))
      await tracker.start()
      const callback = tfjsCallback(tracker, { epochs: 3 })
      const history = await train(model(), 3, form, callback)
      const record = await tracker.stop()
      expect(history.epoch).toHaveLength(3)
      expect(callback.epochs.map((e) => e.taskName)).toEqual(['epoch-1', 'epoch-2', 'epoch-3'])
      expect(callback.epochs.every((e) => e.energyKWh > 0 && e.durationS > 0)).toBe(true)
      expect(predictions.map((p) => p.done)).toEqual([1, 2, 3])
      // After the last epoch the forecast is the run measured so far (the wall: emissionsScope's default).
      expect(callback.prediction?.energyKWh).toBeLessThanOrEqual(record.wall.energyKWh)
    },
  )

  it.each(['plain object', 'tf.CustomCallback'] as const)(
    'stops training cleanly when the budget is predicted to be crossed (%s)',
    async (form) => {
      await tf.setBackend('cpu')
      const tracker = new EmissionsTracker({ ...base, budget: { durationS: 0.05 } })
      await tracker.start()
      const fitted = model()
      const callback = tfjsCallback(tracker, { epochs: 50, model: fitted })
      const history = await train(fitted, 50, form, callback)
      const record = await tracker.stop()
      expect(history.epoch.length).toBe(1)
      expect(callback.stoppedBecause).toMatch(/the duration/)
      // Stopped on the actuals or on the forecast alone: a budget stop either way.
      expect(tracker.signal.aborted).toBe(true)
      expect(record.status).toBe('budget-exceeded')
    },
  )

  it.each(['plain object', 'tf.CustomCallback'] as const)(
    'a stop on the forecast alone is a budget stop everywhere: event, stderr, note, status, signal (%s)',
    async (form) => {
      await tf.setBackend('cpu')
      // One package counter the test advances by 0.2 J in each epoch, RAM at 0 W: after epoch 1 of 20 the
      // run has used 0.2 J, under its 1 J budget, and the forecast is 0.2 J + 19 × 0.2 J = 4 J, over it.
      const tree = makePowercapTree([{ id: 'intel-rapl:0', name: 'package-0', energyUj: 5_000_000 }])
      cleanups.push(() => tree.cleanup())
      let counterUj = 5_000_000
      const J = 1 / 3.6e6
      const stderr = captureStderr()
      cleanups.push(stderr.restore)
      const tracker = new EmissionsTracker({
        ...base,
        logLevel: 'warning',
        raplRoot: tree.root,
        ramPowerW: 0,
        gpuIds: [],
        // The package's joules alone (CPU+GPU+RAM): the wall would add the modelled rest of the machine.
        emissionsScope: 'components',
        budget: { energyKWh: 1 * J },
      })
      const events: BudgetEvent[] = []
      tracker.on('budget', (e) => events.push(e))
      await tracker.start()
      const fitted = model()
      const callback = tfjsCallback(tracker, { epochs: 20, model: fitted })
      const hooks = {
        ...callback,
        onEpochBegin: async (epoch: number) => {
          await callback.onEpochBegin(epoch)
          counterUj += 200_000
          tree.setEnergy('intel-rapl:0', counterUj)
        },
      }
      const history = await train(fitted, 20, form, hooks)
      const record = await tracker.stop()
      stderr.restore()
      expect(history.epoch).toHaveLength(1)
      expect(events).toHaveLength(1)
      const [event] = events
      expect(event).toMatchObject({ limit: 'energyKWh', budget: 1 * J })
      expect((event?.actual ?? 0) / J).toBeCloseTo(0.2, 6)
      expect((event?.predicted ?? 0) / J).toBeCloseTo(4, 6)
      expect(event?.message).toMatch(
        /^Budget crossed by the forecast: the energy predicted at .* after 1 of 20/,
      )
      expect(stderr.text()).toContain(`[wattprint warning] ${event?.message}\n`)
      expect(record.notes).toContain(event?.message)
      expect(record.status).toBe('budget-exceeded')
      expect(record.energyKWh / J).toBeCloseTo(0.2, 6)
      expect(tracker.signal.aborted).toBe(true)
      expect((tracker.signal.reason as Error).message).toBe(event?.message)
      expect(callback.stoppedBecause).toBe(event?.message)
    },
  )

  it('without a model to stop, a forecast over the budget is a warning only, not a budget stop', async () => {
    await tf.setBackend('cpu')
    const processWarnings: string[] = []
    const onWarning = (w: Error) => processWarnings.push(w.message)
    process.on('warning', onWarning)
    cleanups.push(() => process.off('warning', onWarning))
    const tracker = new EmissionsTracker({ ...base, budget: { durationS: 3600 } })
    // Through the tracker's one channel: its `warning` event (and its stderr line), not the process's.
    const warnings: TrackerWarning[] = []
    tracker.on('warning', (w) => warnings.push(w))
    await tracker.start()
    const callback = tfjsCallback(tracker, { epochs: 1_000_000_000 })
    const history = await train(model(), 2, 'plain object', callback)
    const record = await tracker.stop()
    expect(history.epoch).toHaveLength(2)
    expect(callback.prediction?.exceeds).toBe('durationS')
    expect(callback.stoppedBecause).toBeNull()
    expect(tracker.signal.aborted).toBe(false)
    expect(record.status).toBe('finished')
    await new Promise((r) => setImmediate(r)) // process warnings would be emitted on the next tick
    // The machine's own (a CPU not in the TDP table …) aside: the callback's.
    expect(warnings.filter((w) => w.code === 'INTEGRATION_FAILED')).toEqual([
      {
        code: 'INTEGRATION_FAILED',
        message:
          'the prediction crosses the duration budget, but tfjsCallback has no model to stop: pass { model }.',
      },
    ])
    expect(processWarnings).toEqual([])
  })

  it('warns about epochs and predictAfter that are not whole numbers from 1', async () => {
    const processWarnings: string[] = []
    const onWarning = (w: Error) => processWarnings.push(w.message)
    process.on('warning', onWarning)
    cleanups.push(() => process.off('warning', onWarning))
    const tracker = new EmissionsTracker({ ...base, sampling: 'inline' })
    const warnings: TrackerWarning[] = []
    tracker.on('warning', (w) => warnings.push(w))
    await tracker.start()
    const callback = tfjsCallback(tracker, { epochs: Number.NaN, predictAfter: 0 })
    await callback.onTrainBegin()
    await callback.onEpochBegin(0)
    await callback.onEpochEnd(0)
    await tracker.stop()
    expect(callback.epochs).toHaveLength(1)
    expect(callback.prediction).toBeNull()
    await new Promise((r) => setImmediate(r))
    expect(warnings.filter((w) => w.code === 'INVALID_ARGUMENT')).toEqual([
      {
        code: 'INVALID_ARGUMENT',
        message: "tfjsCallback's predictAfter must be a whole number from 1, got 0; using 1.",
      },
      {
        code: 'INVALID_ARGUMENT',
        message:
          "tfjsCallback's epochs must be a whole number from 1, got NaN; no prediction is made (pass the epochs given to model.fit).",
      },
    ])
    expect(processWarnings).toEqual([])
  })
})
