import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { driveCounters } from './driver.mjs'
import { DEFAULT_RANGE_UJ, makePowercapTree } from './powercap.mjs'

/**
 * A machine burning exactly `watts` in one RAPL package (a powercap tree a helper process advances), and a
 * temporary output folder; both are undone by the functions pushed to `cleanups`, run in reverse.
 */
export async function constantWatts(
  watts: number,
  cleanups: (() => void | Promise<void>)[],
  prefix = 'wattprint-',
): Promise<{ raplRoot: string; dir: string }> {
  const tree = makePowercapTree([{ id: 'intel-rapl:0', name: 'package-0' }])
  cleanups.push(() => tree.cleanup())
  const driver = await driveCounters([
    { path: tree.energyPath('intel-rapl:0'), watts, startUj: 1e9, rangeUj: DEFAULT_RANGE_UJ },
  ])
  cleanups.push(() => driver.stop())
  await driver.run()
  const dir = mkdtempSync(join(tmpdir(), prefix))
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }))
  return { raplRoot: tree.root, dir }
}
