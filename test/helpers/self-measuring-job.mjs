// A library job that measures itself in process mode (its RAPL root and /proc/stat from WATTPRINT_*
// variables) at a 10 ms interval and does nothing else for SECONDS: what its process uses is its
// tracker's sampler thread and little more. It first starts CHILDREN sleeping processes (under one shell),
// whose every reading the sampler pays for. Prints the figures of that stretch (a task), and what /proc
// says the process and the sampler thread (the one thread the tracker's start added) used in it, in ticks.
import { spawn } from 'node:child_process'
import { readdirSync, readFileSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { EmissionsTracker } from '../../dist/index.js'

/** utime + stime of a /proc stat file: a process's or a thread's own CPU time. */
const ticksOf = (path) => {
  const stat = readFileSync(path, 'utf8')
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  return Number(f[11]) + Number(f[12])
}
const sleep = (ms) => new Promise((r) => setTimeout(r, ms))

const children = Number(process.env.CHILDREN ?? 0)
const shell = spawn('sh', ['-c', `for i in $(seq ${children}); do sleep 60 & done; wait`], {
  stdio: 'ignore',
  detached: true,
})
const countChildren = () => {
  try {
    return readFileSync(`/proc/${shell.pid}/task/${shell.pid}/children`, 'utf8').split(' ').filter(Boolean)
      .length
  } catch {
    return 0
  }
}
while (countChildren() < children) await sleep(20)
// libuv's thread pool starts at the first asynchronous file read: started now, it is not taken for the
// sampler's thread below.
await readFile('/proc/self/stat')
const before = new Set(readdirSync('/proc/self/task'))
const tracker = new EmissionsTracker({
  attribution: 'process',
  idle: 'include',
  intervalMs: 10,
  saveToFile: false,
  logLevel: 'error',
  carbonIntensityGPerKWh: 100,
})
await tracker.start()
const added = readdirSync('/proc/self/task').filter((tid) => !before.has(tid))
const thread = `/proc/self/task/${added[0]}/stat`
// Over a task, which begins and ends with a reading: the tracker's start and stop, which also work on
// this thread (loading its tables, writing its record), are left out, and so is the second after its
// start, over which the CPU shares are summed.
await sleep(1500)
tracker.startTask('quiet')
const processAtStart = ticksOf('/proc/self/stat')
const samplerAtStart = ticksOf(thread)
await sleep(Number(process.env.SECONDS ?? 3) * 1000)
const samplerTicks = ticksOf(thread) - samplerAtStart
const processTicks = ticksOf('/proc/self/stat') - processAtStart
const task = tracker.stopTask('quiet')
const record = await tracker.stop()
process.kill(-shell.pid, 'SIGKILL')
process.stdout.write(
  JSON.stringify({
    added,
    samplerTicks,
    processTicks,
    trackerCpuS: task?.trackerCpuS,
    trackerJ: (task?.trackerEnergyKWh ?? 0) * 3.6e6,
    cpuJ: (task?.cpu.energyKWh ?? 0) * 3.6e6,
    machineCpuJ: (task?.machine.cpuKWh ?? 0) * 3.6e6,
    runTrackerCpuS: record.trackerCpuS,
    note: record.attributionNote,
  }),
)
