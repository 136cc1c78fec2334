import { formatDuration, formatEnergy, joulesCell } from '../../output/quantities.js'
import { tableLines } from '../table.js'
import { massCell, waterCell } from './footprint.js'
import { energyWithRange, intervalNotes, massWithRange, wallCell } from './intervals.js'
import { type Grouping, type GroupTotals, groupHeading } from './model.js'

/** The terminal table. */
export function renderTable(groups: readonly GroupTotals[], by: Grouping, all: GroupTotals): string {
  // Request columns only where some run measured requests.
  const served = all.requests > 0
  const header = [
    groupHeading(by),
    'runs',
    'duration',
    'cpu',
    'gpu',
    'ram',
    'energy',
    'emissions',
    'g/kWh',
    'wall energy',
    'wall emissions',
    'embodied',
    'water',
  ]
  if (served) header.push('requests', 'J/request', 'J/token')
  const line = (g: GroupTotals) => [
    g.key,
    String(g.runs),
    formatDuration(g.durationS),
    formatEnergy(g.cpuKWh),
    formatEnergy(g.gpuKWh),
    formatEnergy(g.ramKWh),
    energyWithRange(g.energyKWh, g.energyIntervalKWh),
    massWithRange(g.emissionsKg, g.emissionsIntervalKg),
    g.intensityGPerKWh.toFixed(0),
    wallCell(g, 'energy'),
    wallCell(g, 'emissions'),
    massCell(g.embodiedKg),
    waterCell(g.waterL),
    ...(served
      ? [String(g.requests), joulesCell(g.energyPerRequestJ), joulesCell(g.energyPerOutputTokenJ)]
      : []),
  ]
  const rows = [header, ...groups.map(line), line({ ...all, key: 'total' })]
  return [
    ...tableLines(rows, { right: (c) => c > 0, rulesBefore: [1, rows.length - 1] }),
    ...intervalNotes(groups, all),
  ].join('\n')
}
