// @ts-check
// GPU fixtures shared by the tests and bench/: the stub NVML library (compiled by test/global-setup.ts) and
// its device file, and an executable fake nvidia-smi.
import { chmodSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

/** Where the test setup compiles test/fixtures/nvml-stub.c. */
export const NVML_STUB_LIBRARY = fileURLToPath(
  new URL('../fixtures/.build/libnvidia-ml-stub.so', import.meta.url),
)

/**
 * One GPU of the stub NVML (see test/fixtures/nvml-stub.c).
 * @typedef {object} StubGpu
 * @property {string} uuid
 * @property {string} name
 * @property {number} arch nvmlDeviceArchitecture_t: 5 Volta, 7 Ampere, 9 Hopper.
 * @property {boolean} energyCounter
 * @property {{ watts: number } | { lowW: number, highW: number, halfMs: number }} profile Constant watts, or a
 *   square wave on CLOCK_MONOTONIC.
 * @property {number} [lostAfterMs] NVML answers GPU_IS_LOST for it this long after nvmlInit.
 */

/**
 * How the fake nvidia-smi behaves.
 * @typedef {object} FakeSmi
 * @property {{ uuid: string, name: string, watts: number | string, utilization?: number | string }[]} gpus
 * @property {boolean} [instantField] Whether this "driver" knows power.draw.instant. Default true.
 * @property {number} [crashAfterIterations] The first streaming run exits with code 1 after this many iterations.
 * @property {number} [hangAfterIterations] The first streaming run stops printing (but stays alive) after this many.
 * @property {number} [garbageAfterIterations] Streaming runs print garbage instead of lines after this many.
 * @property {boolean} [driverFailure] Fail every run outright, as when the driver cannot be reached.
 */

/** Writes the stub's device file and points NVML_STUB_CONFIG at it (the C library reads the real environment). */
/**
 * @param {string} dir
 * @param {readonly StubGpu[]} gpus
 * @param {readonly { uuid: string, parent: number }[]} [migs]
 */
export function configureNvmlStub(dir, gpus, migs = []) {
  const lines = gpus.map((g) => {
    const profile =
      'watts' in g.profile
        ? `const:${g.profile.watts}`
        : `square:${g.profile.lowW}:${g.profile.highW}:${g.profile.halfMs}`
    return `gpu ${g.uuid} ${g.arch} ${g.energyCounter ? 1 : 0} ${profile} ${g.lostAfterMs ?? -1} ${g.name}`
  })
  for (const mig of migs) lines.push(`mig ${mig.uuid} ${mig.parent}`)
  const path = join(dir, 'nvml-stub.conf')
  writeFileSync(path, `${lines.join('\n')}\n`)
  process.env.NVML_STUB_CONFIG = path
}

/** Energy in joules of a stub profile between two CLOCK_MONOTONIC times in ns (process.hrtime.bigint()). */
/**
 * @param {StubGpu['profile']} profile
 * @param {bigint} fromNs
 * @param {bigint} toNs
 * @returns {number}
 */
export function stubEnergyJ(profile, fromNs, toNs) {
  const from = Number(fromNs) / 1e6
  const to = Number(toNs) / 1e6
  if ('watts' in profile) return (profile.watts * (to - from)) / 1e3
  let joules = 0
  for (let t = from; t < to; ) {
    const phase = Math.floor(t / profile.halfMs)
    const end = Math.min((phase + 1) * profile.halfMs, to)
    joules += ((phase % 2 === 0 ? profile.lowW : profile.highW) * (end - t)) / 1e3
    t = end
  }
  return joules
}

/** The watts of a stub profile at a CLOCK_MONOTONIC time in ns, as the stub's nvmlDeviceGetPowerUsage reads it. */
/**
 * @param {StubGpu['profile']} profile
 * @param {bigint} atNs
 * @returns {number}
 */
export function stubPowerW(profile, atNs) {
  if ('watts' in profile) return profile.watts
  return Math.floor(Number(atNs) / 1e6 / profile.halfMs) % 2 === 0 ? profile.lowW : profile.highW
}

/**
 * Writes an executable fake `nvidia-smi` that answers wattprint's command lines in nvidia-smi's format:
 * the probe, and the `-lms` stream (one line per GPU per iteration), with a crash and bracketed values.
 * Its invocations are appended to `<dir>/fake-smi.calls`.
 */
/**
 * @param {string} dir
 * @param {FakeSmi} behaviour
 * @returns {string} the path of the executable
 */
export function fakeNvidiaSmi(dir, behaviour) {
  const config = join(dir, 'fake-smi.json')
  writeFileSync(config, JSON.stringify(behaviour))
  const path = join(dir, 'nvidia-smi')
  writeFileSync(
    path,
    `#!${process.execPath}
const { appendFileSync, existsSync, readFileSync, writeFileSync } = require('node:fs')
const config = JSON.parse(readFileSync(${JSON.stringify(config)}, 'utf8'))
const args = process.argv.slice(2)
appendFileSync(${JSON.stringify(join(dir, 'fake-smi.calls'))}, args.join(' ') + '\\n')
if (config.driverFailure) {
  console.log("NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver. Make sure that the latest NVIDIA driver is installed and running.")
  process.exit(9)
}
const query = (args.find((a) => a.startsWith('--query-gpu=')) || '').slice('--query-gpu='.length).split(',')
if (query.includes('power.draw.instant') && config.instantField === false) {
  console.log('Field "power.draw.instant" is not a valid field to query.')
  process.exit(2)
}
const lines = () => config.gpus.map((g, i) => [i, g.uuid, g.name, g.utilization ?? 50, g.watts].join(', ')).join('\\n')
const loop = args.indexOf('-lms')
if (loop === -1) {
  console.log(lines())
  process.exit(0)
}
const crashed = ${JSON.stringify(join(dir, 'fake-smi.crashed'))}
let iterations = 0
const hung = ${JSON.stringify(join(dir, 'fake-smi.hung'))}
const firstRun = !existsSync(hung)
if (config.hangAfterIterations !== undefined) writeFileSync(hung, '1')
setInterval(() => {
  if (config.hangAfterIterations !== undefined && firstRun && iterations >= config.hangAfterIterations) return
  if (config.garbageAfterIterations !== undefined && iterations >= config.garbageAfterIterations) {
    process.stdout.write('\\x00\\x7f garbled ,, [[ \\n\\n;;;\\n')
  } else process.stdout.write(lines() + '\\n')
  iterations++
  if (config.crashAfterIterations !== undefined && iterations >= config.crashAfterIterations && !existsSync(crashed)) {
    writeFileSync(crashed, '1')
    process.exit(1)
  }
}, Number(args[loop + 1]))
`,
  )
  chmodSync(path, 0o755)
  return path
}
