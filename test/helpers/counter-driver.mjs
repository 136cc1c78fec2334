// Advances powercap energy counters at exact wattages, in a process of its own, as hardware would:
// value(t) = (start + watts × (t − t0)) mod range, written atomically every ~2 ms until stdin closes;
// each zone's max_energy_range_uj is set to the range it wraps at.
// Usage: node counter-driver.mjs '<json: [{ "path", "watts", "startUj", "rangeUj" }]>'
// Prints "ready <t0Ns>" once the first values are written. The clock is process.hrtime (CLOCK_MONOTONIC,
// shared by every process), so a test can compute the exact truth for any window.
import { renameSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'

const zones = JSON.parse(process.argv[2] ?? '[]')
// A counter wraps at the range its zone states: write that range first, as the kernel would.
for (const zone of zones) writeFileSync(join(dirname(zone.path), 'max_energy_range_uj'), `${zone.rangeUj}\n`)
const t0 = process.hrtime.bigint()

function write() {
  const elapsedS = Number(process.hrtime.bigint() - t0) / 1e9
  for (const zone of zones) {
    const value = Math.floor((zone.startUj + zone.watts * 1e6 * elapsedS) % zone.rangeUj)
    writeFileSync(`${zone.path}.drv`, `${value}\n`)
    renameSync(`${zone.path}.drv`, zone.path)
  }
}

write()
process.stdout.write(`ready ${t0}\n`)
const timer = setInterval(write, 2)
process.stdin.on('end', () => {
  clearInterval(timer)
  process.exit(0)
})
process.stdin.resume()
