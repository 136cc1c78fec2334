// @ts-check
// Starts test/helpers/counter-driver.mjs: a process advancing counters at known wattages.
import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'

/**
 * @typedef {object} DrivenZone
 * @property {string} path The zone's energy_uj file.
 * @property {number} watts
 * @property {number} startUj
 * @property {number} rangeUj The range the counter wraps at (written to max_energy_range_uj).
 */

/**
 * @typedef {object} CounterDriver
 * @property {bigint} t0Ns
 * @property {() => Promise<void>} stop
 */

/**
 * Starts the driver and waits until it has written its first values.
 * @param {readonly DrivenZone[]} zones
 * @returns {Promise<CounterDriver>}
 */
export async function driveCounters(zones) {
  const script = fileURLToPath(new URL('./counter-driver.mjs', import.meta.url))
  const child = spawn(process.execPath, [script, JSON.stringify(zones)], {
    stdio: ['pipe', 'pipe', 'inherit'],
  })
  /** @type {bigint} */
  const t0Ns = await new Promise((resolve, reject) => {
    let buffer = ''
    child.stdout.on('data', (/** @type {Buffer} */ chunk) => {
      buffer += chunk.toString()
      const match = /ready (\d+)/.exec(buffer)
      if (match?.[1]) resolve(BigInt(match[1]))
    })
    child.on('error', reject)
    child.on('exit', (code) => reject(new Error(`counter driver exited with ${code}`)))
  })
  return {
    t0Ns,
    stop: () =>
      new Promise((resolve) => {
        if (child.exitCode !== null) return resolve()
        child.once('exit', () => resolve())
        child.stdin.end()
      }),
  }
}
