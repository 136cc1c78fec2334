// A real, small training run with wattprint on: a 2×256 MLP learns to classify noisy 8×8 glyphs of the
// ten digits with TensorFlow.js (pure JS, CPU backend; the glyphs are generated: no data set to download).
// wattprint's tfjsCallback records each epoch's energy and, after the first, predicts the whole run;
// a summary at the end, and a row appended to emissions.csv. Run it with `npm run example` (it builds
// the package first).
//
// Set the location for a real carbon intensity instead of the world average:
//   WATTPRINT_COUNTRY=FR npm run example
import * as tf from '@tensorflow/tfjs'
import {
  bestEquivalent,
  describeEquivalent,
  EmissionsTracker,
  formatEnergy,
  formatMass,
  summaryLine,
  tfjsCallback,
} from 'wattprint'

const EPOCHS = 10
const SAMPLES = 1500

/** 8×8 glyphs of the digits 0–9, drawn as on a seven-segment display. */
function glyph(digit) {
  const segments = [
    '1111110',
    '0110000',
    '1101101',
    '1111001',
    '0110011',
    '1011011',
    '1011111',
    '1110000',
    '1111111',
    '1111011',
  ][digit]
  const pixels = new Float32Array(64)
  const on = (i) => segments[i] === '1'
  const row = (y, x0, x1) => {
    for (let x = x0; x <= x1; x++) pixels[y * 8 + x] = 1
  }
  const col = (x, y0, y1) => {
    for (let y = y0; y <= y1; y++) pixels[y * 8 + x] = 1
  }
  if (on(0)) row(0, 1, 6)
  if (on(1)) col(6, 0, 3)
  if (on(2)) col(6, 4, 7)
  if (on(3)) row(7, 1, 6)
  if (on(4)) col(1, 4, 7)
  if (on(5)) col(1, 0, 3)
  if (on(6)) row(3, 1, 6)
  return pixels
}

/** Noisy, shifted copies of the glyphs: a task an MLP needs a few epochs to learn. */
function dataset(count, seed) {
  let state = seed
  const random = () => {
    state = (state * 1664525 + 1013904223) % 4294967296
    return state / 4294967296
  }
  const xs = new Float32Array(count * 64)
  const ys = new Int32Array(count)
  for (let n = 0; n < count; n++) {
    const digit = Math.floor(random() * 10)
    const base = glyph(digit)
    const dx = Math.floor(random() * 3) - 1
    for (let y = 0; y < 8; y++) {
      for (let x = 0; x < 8; x++) {
        const sx = x - dx
        const value = sx >= 0 && sx < 8 ? (base[y * 8 + sx] ?? 0) : 0
        xs[n * 64 + y * 8 + x] = Math.min(
          1,
          Math.max(0, value * (0.6 + 0.4 * random()) + (random() - 0.5) * 0.6),
        )
      }
    }
    ys[n] = digit
  }
  return { x: tf.tensor2d(xs, [count, 64]), y: tf.oneHot(tf.tensor1d(ys, 'int32'), 10) }
}

const tracker = new EmissionsTracker({ projectName: 'glyphs-mlp', experimentId: 'example' })
await tracker.start()

const train = dataset(SAMPLES, 42)
const test = dataset(1000, 7)
const model = tf.sequential({
  layers: [
    tf.layers.dense({ inputShape: [64], units: 256, activation: 'relu' }),
    tf.layers.dense({ units: 256, activation: 'relu' }),
    tf.layers.dense({ units: 10, activation: 'softmax' }),
  ],
})
model.compile({ optimizer: tf.train.adam(1e-3), loss: 'categoricalCrossentropy', metrics: ['accuracy'] })

console.log(`Training a 64-256-256-10 MLP on ${SAMPLES} glyphs for ${EPOCHS} epochs, wattprint on.`)
const accuracyByEpoch = []
const wattprint = tfjsCallback(tracker, {
  epochs: EPOCHS,
  model,
  onEpoch: (epoch, task) =>
    console.log(
      `epoch ${String(epoch + 1).padStart(2)}: accuracy ${accuracyByEpoch[epoch] ?? '?'} %, ` +
        `${task.durationS.toFixed(2)} s, ${formatEnergy(task.energyKWh)}, ${formatMass(task.emissionsKg)} CO2e`,
    ),
})
tracker.once('prediction', (p) =>
  console.log(
    `  prediction after epoch ${p.done} of ${p.total}: ${p.durationS.toFixed(0)} s, ` +
      `${formatEnergy(p.energyKWh)}, ${formatMass(p.emissionsKg)} CO2e for the whole run`,
  ),
)
await model.fit(train.x, train.y, {
  epochs: EPOCHS,
  batchSize: 64,
  verbose: 0,
  callbacks: {
    ...wattprint,
    // The accuracy is known before wattprint's epoch line is printed: both run in onEpochEnd.
    onEpochEnd: async (epoch, logs) => {
      accuracyByEpoch[epoch] = ((logs?.acc ?? 0) * 100).toFixed(1)
      await wattprint.onEpochEnd(epoch, logs)
    },
  },
})
const [, accuracy] = model.evaluate(test.x, test.y).map((t) => t.dataSync()[0])

const record = await tracker.stop()
console.log(`\nTest accuracy ${((accuracy ?? 0) * 100).toFixed(1)} %`)
console.log(`wattprint: ${summaryLine(record)}`)
const equivalent = bestEquivalent(record.emissionsKg)
console.log(`  ${describeEquivalent(equivalent)} (${equivalent.source})`)
console.log(
  `  CPU: ${record.cpu.source} (${record.cpu.method}), RAM: ${record.ram.source} (${record.ram.method})`,
)
for (const note of record.notes) console.log(`  note: ${note}`)
console.log(`Row appended to ${tracker.config.outputDir}/${tracker.config.outputFile} (run ${record.runId}).`)
