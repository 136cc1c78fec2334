// npm run fit-power-model: fits the model on every training server and writes data/power-model.json.
import { writeFileSync } from 'node:fs'
import { dataFilePath } from '../../src/platform/data-files.js'
import { readServers } from './dataset.js'
import { fitModel } from './fit.js'

const round = (value: unknown): unknown =>
  typeof value === 'number' ? Number(value.toPrecision(6)) : Array.isArray(value) ? value.map(round) : value

const fitted = process.argv[2] ?? new Date().toISOString().slice(0, 10)
const model = fitModel(readServers(), Number.POSITIVE_INFINITY, fitted)
const text = `${JSON.stringify(model, (_k, v) => (Array.isArray(v) || typeof v === 'number' ? round(v) : v), 2)}\n`
writeFileSync(dataFilePath('power-model.json'), text)
process.stdout.write(`wrote data/power-model.json (${text.length} bytes)\n`)
