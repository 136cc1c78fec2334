import { driveCounters } from './driver.mjs'
import { DEFAULT_RANGE_UJ, makePowercapTree } from './powercap.mjs'

/**
 * A powercap tree with one package zone whose counter a driver process advances at exactly `watts`,
 * running; what to undo afterwards goes to `cleanups`. Returns the tree's root, to pass as raplRoot.
 */
export async function drivenPackage(
  watts: number,
  cleanups: (() => void | Promise<void>)[],
): Promise<string> {
  const tree = makePowercapTree([{ id: 'intel-rapl:0', name: 'package-0' }])
  cleanups.push(() => tree.cleanup())
  const driver = await driveCounters([
    { path: tree.energyPath('intel-rapl:0'), watts, startUj: 1e9, rangeUj: DEFAULT_RANGE_UJ },
  ])
  cleanups.push(() => driver.stop())
  await driver.run()
  return tree.root
}
