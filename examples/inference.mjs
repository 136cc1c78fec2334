// Energy per prediction: a TensorFlow.js model (pure JS, CPU backend) serves 20,000 predictions in
// batches of 1, 8, 64 and 512, each batch size measured as a task; prints the energy per 1,000
// predictions and how batching changes it. Run it with `npm run example:inference`.
//
// On a machine without RAPL the CPU figure is an estimate from load (see the notes it prints), so read
// the ratios between batch sizes rather than the absolute joules.
import * as tf from '@tensorflow/tfjs'
import { EmissionsTracker, formatEnergy, formatMass } from 'wattprint'

const PREDICTIONS = 20_000
const BATCH_SIZES = [1, 8, 64, 512]

await tf.setBackend('cpu')
const model = tf.sequential({
  layers: [
    tf.layers.dense({ inputShape: [64], units: 256, activation: 'relu' }),
    tf.layers.dense({ units: 256, activation: 'relu' }),
    tf.layers.dense({ units: 10, activation: 'softmax' }),
  ],
})
const inputs = tf.randomNormal([PREDICTIONS, 64], 0, 1, 'float32', 1)

// A short interval: the smallest batch sizes finish in a couple of seconds.
const tracker = new EmissionsTracker({
  projectName: 'inference',
  experimentId: 'batch-size',
  intervalMs: 100,
})
await tracker.start()
console.log(`Serving ${PREDICTIONS} predictions of a 64-256-256-10 MLP at each batch size, wattprint on.`)

const results = []
for (const batchSize of BATCH_SIZES) {
  const { task } = await tracker.measure(async () => {
    for (let start = 0; start < PREDICTIONS; start += batchSize) {
      const size = Math.min(batchSize, PREDICTIONS - start)
      const batch = inputs.slice([start, 0], [size, 64])
      const output = model.predict(batch)
      await output.data() // the prediction is done only when its values are read
      tf.dispose([batch, output])
    }
  }, `batch-${batchSize}`)
  const perThousand = (task.energyKWh * 3.6e6 * 1000) / PREDICTIONS
  results.push({ batchSize, perThousand })
  console.log(
    `batch ${String(batchSize).padStart(3)}: ${task.durationS.toFixed(2)} s, ${formatEnergy(task.energyKWh)}, ` +
      `${formatMass(task.emissionsKg)} CO2e → ${perThousand.toFixed(2)} J per 1,000 predictions`,
  )
}

const record = await tracker.stop()
const [first] = results
const last = results.at(-1)
if (first && last) {
  console.log(
    `\nBatching ${last.batchSize} at a time costs ${(first.perThousand / last.perThousand).toFixed(1)}× less energy ` +
      `per prediction than one at a time.`,
  )
}
for (const note of record.notes) console.log(`  note: ${note}`)
console.log(`Row appended to ${tracker.config.outputDir}/${tracker.config.outputFile} (run ${record.runId}).`)
