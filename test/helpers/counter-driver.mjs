// Advances powercap energy counters at exact wattages, in a process of its own, as hardware would, and
// reports exactly how much it advanced them, so a test's truth does not depend on how this process was
// scheduled. Usage: node counter-driver.mjs '<json: [{ "path", "watts", "startUj", "rangeUj" }]>' [<ms>]
// (<ms>: how often it writes, 2 by default).
// Each zone's max_energy_range_uj is set to the range its counter wraps at. Commands on stdin, one a line:
//   run     advance from now on: value = (start + advanced + watts × (t − t_run)) mod range, every ~<ms>
//   freeze  stop advancing, write the exact values, print "frozen <advancedUj per zone, JSON>"
// It starts frozen and prints "ready". It exits when stdin closes.
// A zone with "format": "pm_counters" is an HPE Cray /sys/cray/pm_counters folder instead (what SLURM's
// acct_gather_energy/pm_counters reads): its `energy` file in whole joules and `power` in watts, as
// "<value> J|W <timestamp> us", never wrapping; `path` is the folder.
import { renameSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { createInterface } from 'node:readline'

const zones = JSON.parse(process.argv[2] ?? '[]')
const periodMs = Number(process.argv[3] ?? 2)
for (const zone of zones) {
  if (zone.format === 'pm_counters') writeFileSync(join(zone.path, 'power'), `${zone.watts} W 0 us\n`)
  else writeFileSync(join(dirname(zone.path), 'max_energy_range_uj'), `${zone.rangeUj}\n`)
}
/** µJ advanced per zone, counted without wrapping: the truth a test compares with. */
const advanced = zones.map(() => 0)
let runningSince = null
let timer

function advancedNow(i) {
  if (runningSince === null) return advanced[i]
  const seconds = Number(process.hrtime.bigint() - runningSince) / 1e9
  return advanced[i] + Math.floor(zones[i].watts * 1e6 * seconds)
}

function write() {
  zones.forEach((zone, i) => {
    if (zone.format === 'pm_counters') {
      const stampUs = Math.floor(Date.now() * 1000)
      const joules = Math.floor((zone.startUj + advancedNow(i)) / 1e6)
      writeFileSync(join(zone.path, `energy.${process.pid}.drv`), `${joules} J ${stampUs} us\n`)
      renameSync(join(zone.path, `energy.${process.pid}.drv`), join(zone.path, 'energy'))
      return
    }
    const value = (zone.startUj + advancedNow(i)) % zone.rangeUj
    writeFileSync(`${zone.path}.drv`, `${value}\n`)
    renameSync(`${zone.path}.drv`, zone.path)
  })
}

write()
process.stdout.write('ready\n')
createInterface({ input: process.stdin }).on('line', (command) => {
  if (command === 'run' && runningSince === null) {
    runningSince = process.hrtime.bigint()
    timer = setInterval(write, periodMs)
    process.stdout.write('running\n')
  } else if (command === 'freeze' && runningSince !== null) {
    zones.forEach((_, i) => {
      advanced[i] = advancedNow(i)
    })
    runningSince = null
    clearInterval(timer)
    write()
    process.stdout.write(`frozen ${JSON.stringify(advanced)}\n`)
  }
})
process.stdin.on('end', () => process.exit(0))
