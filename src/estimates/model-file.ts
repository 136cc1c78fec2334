import { readDataFile } from '../platform/data-files.js'
import type { PowerModel } from './power-model.js'

let cached: PowerModel | undefined

/**
 * The fitted coefficients shipped in data/power-model.json (written by `npm run fit-power-model`), read once
 * per process, in the main thread: never per sample.
 */
export function shippedPowerModel(): PowerModel {
  cached ??= JSON.parse(readDataFile('power-model.json')) as PowerModel
  return cached
}
