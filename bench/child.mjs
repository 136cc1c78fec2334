// One measurement in a fresh process (cold caches, nothing imported yet); prints one JSON line.
// Usage: node bench/child.mjs <import|start|defaults|floor|memory|cpu|soak> [options as JSON]
import { closeSync, openSync, readSync } from 'node:fs'

const what = process.argv[2]
const options = JSON.parse(process.argv[3] ?? '{}')
const ms = (ns) => Number(ns) / 1e6
const sleep = (n) => new Promise((resolve) => setTimeout(resolve, n))
const quiet = { saveToFile: false, logLevel: 'silent', carbonIntensity: 100 }

/** The physical limit of a sampler: the same reads on the same absolute schedule, and nothing else. */
function readOnSchedule(files, intervalMs) {
  const buffer = Buffer.allocUnsafe(512)
  const t0 = process.hrtime.bigint()
  const period = BigInt(intervalMs * 1e6)
  let k = 0n
  let timer
  const tick = () => {
    for (const file of files) {
      const fd = openSync(file, 'r')
      readSync(fd, buffer, 0, buffer.length, 0)
      closeSync(fd)
    }
    k += 1n
    timer = setTimeout(tick, Math.ceil(Number(t0 + k * period - process.hrtime.bigint()) / 1e6))
  }
  tick()
  return () => clearTimeout(timer)
}

if (what === 'import') {
  const before = process.hrtime.bigint()
  await import('wattprint')
  console.log(JSON.stringify({ importMs: ms(process.hrtime.bigint() - before) }))
} else if (what === 'start') {
  const { EmissionsTracker } = await import('wattprint')
  const tracker = new EmissionsTracker({ ...quiet, ...options })
  const before = process.hrtime.bigint()
  await tracker.start()
  const resolved = process.hrtime.bigint()
  await tracker.stop()
  console.log(
    JSON.stringify({ baselineMs: ms(tracker.baselineNs - before), resolvedMs: ms(resolved - before) }),
  )
} else if (what === 'defaults') {
  // The default configuration (a CSV and its checkpoints, in a temporary folder) at options.intervalMs:
  // start-up, then the CPU time of the whole process (every thread) over the first windowS after start(),
  // and over windowS of steady state from steadyFromS on (once V8 has given back the start-up's memory).
  const { mkdtempSync, rmSync } = await import('node:fs')
  const { tmpdir } = await import('node:os')
  const { join } = await import('node:path')
  const dir = mkdtempSync(join(tmpdir(), 'wattprint-bench-defaults-'))
  const { EmissionsTracker } = await import('wattprint')
  const tracker = new EmissionsTracker({ outputDir: dir, logLevel: 'silent', intervalMs: options.intervalMs })
  const mark = () => {
    const { user, system } = process.cpuUsage()
    return { atNs: process.hrtime.bigint(), cpuMs: (user + system) / 1000 }
  }
  const before = mark()
  await tracker.start()
  const started = mark()
  const startUp = {
    baselineMs: ms(tracker.baselineNs - before.atNs),
    resolvedMs: ms(started.atNs - before.atNs),
    startCpuMs: started.cpuMs - before.cpuMs,
  }
  let cpu = {}
  if (options.windowS > 0) {
    await sleep(options.steadyFromS * 1000)
    const steadyFrom = mark()
    await sleep((options.windowS - options.steadyFromS) * 1000)
    const firstEnd = mark()
    await sleep(options.steadyFromS * 1000)
    const steadyEnd = mark()
    const percent = (from, to) => ((to.cpuMs - from.cpuMs) / ms(to.atNs - from.atNs)) * 100
    cpu = { firstPercent: percent(started, firstEnd), steadyPercent: percent(steadyFrom, steadyEnd) }
  }
  await tracker.stop()
  rmSync(dir, { recursive: true, force: true })
  console.log(JSON.stringify({ ...startUp, ...cpu }))
} else if (what === 'floor') {
  // What any thread that wakes once an interval costs here, and nothing of wattprint: a worker thread that
  // sleeps in Atomics.wait and reads /proc/stat on each wake-up (what the tracker's worker does at least),
  // measured over the same windows as `defaults`. The VM's price of a wake-up varies from day to day.
  const { Worker } = await import('node:worker_threads')
  const source = `
    const { readSync, openSync } = require('node:fs')
    const { workerData } = require('node:worker_threads')
    const words = new Int32Array(new SharedArrayBuffer(4))
    const buffer = Buffer.allocUnsafe(512)
    const fd = openSync('/proc/stat', 'r')
    for (;;) { Atomics.wait(words, 0, 0, workerData); readSync(fd, buffer, 0, 512, 0) }`
  const worker = new Worker(source, { eval: true, workerData: options.intervalMs })
  const mark = () => {
    const { user, system } = process.cpuUsage()
    return { atNs: process.hrtime.bigint(), cpuMs: (user + system) / 1000 }
  }
  const percent = (from, to) => ((to.cpuMs - from.cpuMs) / ms(to.atNs - from.atNs)) * 100
  await sleep(options.steadyFromS * 1000)
  const from = mark()
  await sleep((options.windowS - options.steadyFromS) * 1000 + options.steadyFromS * 1000)
  const to = mark()
  await worker.terminate()
  console.log(JSON.stringify({ steadyPercent: percent(from, to) }))
} else if (what === 'memory') {
  const { EmissionsTracker } = await import('wattprint')
  globalThis.gc?.()
  const before = process.memoryUsage()
  const tracker = new EmissionsTracker({ ...quiet, ...options.tracker })
  await tracker.start()
  await sleep(options.seconds * 1000)
  globalThis.gc?.()
  const during = process.memoryUsage()
  await tracker.stop()
  console.log(
    JSON.stringify({
      rssMB: (during.rss - before.rss) / 2 ** 20,
      heapMB: (during.heapUsed - before.heapUsed) / 2 ** 20,
    }),
  )
} else if (what === 'cpu') {
  // CPU time of the whole process (all threads) over a window, after a warm-up that lets start-up work,
  // JIT and the first garbage collections settle: `idle`, `reads` (on schedule) or a `tracker`.
  let stop = () => {}
  if (options.mode === 'reads') stop = readOnSchedule(options.files, options.intervalMs)
  let tracker
  // Children of this process, asleep: a job's process tree of that many processes, for process attribution.
  const { spawn } = await import('node:child_process')
  const children = Array.from({ length: options.children ?? 0 }, () =>
    spawn('sleep', ['600'], { stdio: 'ignore' }),
  )
  if (options.mode === 'tracker') {
    const { EmissionsTracker } = await import('wattprint')
    tracker = new EmissionsTracker({ ...quiet, intervalMs: options.intervalMs, ...options.tracker })
    await tracker.start()
  }
  await sleep(options.warmupMs)
  const before = process.cpuUsage()
  await sleep(options.windowMs)
  const used = process.cpuUsage(before)
  stop()
  await tracker?.stop()
  for (const c of children) c.kill()
  console.log(JSON.stringify({ cpuMs: (used.user + used.system) / 1000 }))
} else if (what === 'soak') {
  // A tracker at 50 ms for a long while, with live sample events and checkpoints, as a long training run
  // would have it: CPU time, memory growth and samples against the count the schedule implies.
  const { EmissionsTracker } = await import('wattprint')
  const tracker = new EmissionsTracker({ logLevel: 'silent', carbonIntensity: 100, ...options.tracker })
  let samples = 0
  tracker.on('sample', () => samples++)
  await tracker.start()
  await sleep(options.warmupMs)
  globalThis.gc?.()
  const memoryBefore = process.memoryUsage()
  const cpuBefore = process.cpuUsage()
  const samplesBefore = samples
  const t0 = process.hrtime.bigint()
  await sleep(options.seconds * 1000)
  const elapsedMs = ms(process.hrtime.bigint() - t0)
  const cpu = process.cpuUsage(cpuBefore)
  const counted = samples - samplesBefore
  globalThis.gc?.()
  const memoryAfter = process.memoryUsage()
  const record = await tracker.stop()
  console.log(
    JSON.stringify({
      elapsedMs,
      samples: counted,
      cpuMs: (cpu.user + cpu.system) / 1000,
      rssMB: (memoryAfter.rss - memoryBefore.rss) / 2 ** 20,
      heapMB: (memoryAfter.heapUsed - memoryBefore.heapUsed) / 2 ** 20,
      status: record.status,
    }),
  )
}
