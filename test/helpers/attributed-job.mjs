// A job for the attribution tests: with a tracker in process mode when TRACK is set (its RAPL root and
// /proc/stat come from WATTPRINT_* variables), prints `ready`, waits for the file GO, burns DUTY of a core
// (0 to 1) until the file STOP appears, and prints its record's CPU energy, the machine's, its tracker's
// own (never the job's), the same over the task `burn` from GO to STOP, and the CPU time in ticks it used
// while measured, its tracker's included. GO and STOP let several jobs burn over the same stretch of time.
import { existsSync, readFileSync } from 'node:fs'
import { EmissionsTracker } from '../../dist/index.js'

const duty = Number(process.env.DUTY)
const { GO = '', STOP = '' } = process.env
const sleep = (ms) => new Promise((r) => setTimeout(r, ms))
const tracker = process.env.TRACK
  ? new EmissionsTracker({
      attribution: 'process',
      idle: 'include',
      intervalMs: 100,
      saveToFile: false,
      logLevel: 'error',
      carbonIntensityGPerKWh: 100,
    })
  : null
const ownTicks = () => {
  const stat = readFileSync('/proc/self/stat', 'utf8')
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  return Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14])
}
await tracker?.start()
const ticksAtStart = ownTicks()
process.stdout.write('ready\n')
while (!existsSync(GO)) await sleep(5)
tracker?.startTask('burn')
const ticksAtGo = ownTicks()
while (!existsSync(STOP)) {
  // 20 ms slices: busy for duty of each, asleep for the rest.
  const sliceEnd = Date.now() + 20 * duty
  while (Date.now() < sliceEnd) {}
  await sleep(20 * (1 - duty))
}
const burn = tracker?.stopTask('burn')
const burnTicks = ownTicks() - ticksAtGo
const record = await tracker?.stop()
// The CPU time it used while measured: what its share is made of.
const ticks = ownTicks() - ticksAtStart
process.stdout.write(
  JSON.stringify(
    record
      ? {
          cpuJ: record.cpu.energyKWh * 3.6e6,
          machineCpuJ: record.machine.cpuKWh * 3.6e6,
          trackerJ: (record.trackerEnergyKWh ?? 0) * 3.6e6,
          trackingMode: record.trackingMode,
          note: record.attributionNote,
          burn: {
            cpuJ: (burn?.cpu.energyKWh ?? 0) * 3.6e6,
            machineCpuJ: (burn?.machine.cpuKWh ?? 0) * 3.6e6,
            trackerJ: (burn?.trackerEnergyKWh ?? 0) * 3.6e6,
            ticks: burnTicks,
          },
          ticks,
        }
      : { burn: { ticks: burnTicks }, ticks },
  ),
)
