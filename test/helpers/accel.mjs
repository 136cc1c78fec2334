// @ts-check
// The stub AMD and Intel GPU libraries (test/fixtures/*-stub.c, compiled by test/global-setup.ts) and their
// profile files; shared by the tests and bench/.
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

/** @param {string} name */
const built = (name) => fileURLToPath(new URL(`../fixtures/.build/${name}`, import.meta.url))

/** Where the test setup compiles each stub, and the environment variable naming its profile file. */
export const ACCEL_STUBS = {
  amdsmi: { source: 'amdsmi-stub.c', library: built('libamd_smi-stub.so'), env: 'AMDSMI_STUB_CONFIG' },
  rocmSmi: {
    source: 'rocm-smi-stub.c',
    library: built('librocm_smi64-stub.so'),
    env: 'ROCM_SMI_STUB_CONFIG',
  },
  levelZero: { source: 'level-zero-stub.c', library: built('libze_loader-stub.so'), env: 'ZE_STUB_CONFIG' },
}

/**
 * One GPU of a stub (see test/fixtures/accel-stub.h).
 * @typedef {object} AccelGpu
 * @property {string} uuid
 * @property {string} name
 * @property {number} [socket] GPUs with the same socket share a package (amdsmi).
 * @property {number} [watts]
 * @property {{ lowW: number, highW: number, halfMs: number }} [square]
 * @property {boolean} [energy] Whether it has an energy counter. Default true.
 * @property {boolean} [zero] Reads 0 W, its counter standing still (MI250's second die).
 * @property {number} [frozenAfterMs] The counter stops moving this long after init; power goes on.
 * @property {number} [backwardsAfterMs] The counter drops by 5000 J this long after init.
 * @property {number} [lostAfterMs] Every call fails as for a lost GPU this long after init.
 * @property {boolean} [integrated] An integrated GPU (Level Zero).
 */

/**
 * Writes a stub's profile file and points its environment variable at it (the C library reads the real
 * environment, inherited by the sampler's worker).
 * @param {keyof typeof ACCEL_STUBS} stub
 * @param {string} dir
 * @param {readonly AccelGpu[]} gpus
 * @param {readonly number[]} [version] amdsmi_version_t's raw words (amdsmi only).
 */
export function configureAccelStub(stub, dir, gpus, version) {
  const lines = gpus.map((g) => {
    const words = [`uuid=${g.uuid}`, `socket=${g.socket ?? 0}`, `watts=${g.watts ?? 0}`]
    if (g.square) words.push(`square=${g.square.lowW}:${g.square.highW}:${g.square.halfMs}`)
    if (g.energy === false) words.push('energy=0')
    if (g.zero) words.push('zero=1')
    if (g.integrated) words.push('integrated=1')
    if (g.frozenAfterMs !== undefined) words.push(`frozen_after_ms=${g.frozenAfterMs}`)
    if (g.backwardsAfterMs !== undefined) words.push(`backwards_after_ms=${g.backwardsAfterMs}`)
    if (g.lostAfterMs !== undefined) words.push(`lost_after_ms=${g.lostAfterMs}`)
    return `gpu ${words.join(' ')} name=${g.name}`
  })
  if (version) lines.unshift(`version ${version.join(' ')}`)
  const path = join(dir, `${stub}-stub.conf`)
  writeFileSync(path, `${lines.join('\n')}\n`)
  process.env[ACCEL_STUBS[stub].env] = path
}
