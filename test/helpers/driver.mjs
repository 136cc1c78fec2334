// @ts-check
// Drives test/helpers/counter-driver.mjs: a process advancing counters at known wattages.
import { spawn } from 'node:child_process'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'

/**
 * @typedef {object} DrivenZone
 * @property {string} path The zone's energy_uj file; with format 'pm_counters', the pm_counters folder.
 * @property {number} watts
 * @property {number} startUj
 * @property {number} rangeUj The range the counter wraps at (written to max_energy_range_uj).
 * @property {'pm_counters'} [format] An HPE Cray pm_counters folder (`energy` in J, `power` in W), not a
 *   powercap zone.
 */

/**
 * @typedef {object} CounterDriver
 * @property {() => Promise<void>} run Starts advancing the counters.
 * @property {() => Promise<number[]>} freeze Stops them; resolves with the exact µJ each zone advanced in all.
 * @property {() => Promise<void>} stop Ends the process.
 */

/**
 * Starts the driver, frozen, and waits until it has written its first values.
 * @param {readonly DrivenZone[]} zones
 * @param {number} [periodMs] How often it writes the counters (2 ms by default, as a fine-grained sensor).
 * @returns {Promise<CounterDriver>}
 */
export async function driveCounters(zones, periodMs = 2) {
  const script = fileURLToPath(new URL('./counter-driver.mjs', import.meta.url))
  const child = spawn(process.execPath, [script, JSON.stringify(zones), String(periodMs)], {
    stdio: ['pipe', 'pipe', 'inherit'],
  })
  /** @type {((line: string) => void)[]} */
  const waiting = []
  createInterface({ input: child.stdout }).on('line', (line) => waiting.shift()?.(line))
  /** @param {string} [command] @returns {Promise<string>} */
  const ask = (command) =>
    new Promise((resolve, reject) => {
      waiting.push(resolve)
      child.once('exit', (code) => reject(new Error(`counter driver exited with ${code}`)))
      if (command) child.stdin.write(`${command}\n`)
    })
  await ask()
  return {
    run: async () => {
      await ask('run')
    },
    freeze: async () => JSON.parse((await ask('freeze')).replace(/^frozen /, '')),
    stop: () =>
      new Promise((resolve) => {
        if (child.exitCode !== null) return resolve()
        child.once('exit', () => resolve())
        child.stdin.end()
      }),
  }
}
