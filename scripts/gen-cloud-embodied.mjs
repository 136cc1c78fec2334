// Regenerates data/cloud-embodied.csv from a checkout of Cloud Carbon Footprint's coefficients
// (github.com/cloud-carbon-footprint/ccf-coefficients, Apache-2.0):
//   node scripts/gen-cloud-embodied.mjs path/to/ccf-coefficients
// One row per instance type: its vCPUs and GPUs, the host platform's, and the platform's embodied
// emissions as CCF's embodied output gives them (kg CO2e, the mean over microarchitectures where a
// type runs on several, as CCF does for GCP).
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { parse } from 'csv-parse/sync'

const root = process.argv[2]
if (!root) throw new Error('usage: node scripts/gen-cloud-embodied.mjs path/to/ccf-coefficients')
const read = (file) =>
  parse(readFileSync(join(root, file), 'utf8'), { columns: true, skip_empty_lines: true })
const int = (cell) => (/^\d+$/.test(String(cell ?? '').trim()) ? Number(cell) : 0)

/** Mean of each type's `total` over the rows (microarchitectures) that name it. */
function embodiedByType(file) {
  const sums = new Map()
  for (const row of read(file)) {
    const [sum, n] = sums.get(row.type) ?? [0, 0]
    sums.set(row.type, [sum + Number(row.total), n + 1])
  }
  return new Map([...sums].map(([type, [sum, n]]) => [type, Math.round((sum / n) * 100) / 100]))
}

const providers = [
  {
    name: 'aws',
    instances: 'data/aws-instances.csv',
    embodied: 'output/coefficients-aws-embodied.csv',
    columns: [
      'Instance type',
      'Instance vCPU',
      'Platform Total Number of vCPU',
      'Instance Number of GPU',
      'Platform GPU Quantity',
    ],
  },
  {
    name: 'gcp',
    instances: 'data/gcp-instances.csv',
    embodied: 'output/coefficients-gcp-embodied.csv',
    columns: [
      'Machine type',
      'Instance vCPUs',
      'Platform vCPUs (highest vCPU possible)',
      'Instance GPUs',
      'Platform GPU',
    ],
  },
  {
    name: 'azure',
    instances: 'data/azure-instances.csv',
    embodied: 'output/coefficients-azure-embodied.csv',
    columns: [
      'Virtual Machine',
      'Instance vCPUs',
      'Platform vCPUs (highest vCPU possible)',
      'Instance GPUs',
      'Platform GPU',
    ],
  },
]

const lines = ['provider,instance_type,vcpus,platform_vcpus,gpus,platform_gpus,platform_embodied_kg']
for (const provider of providers) {
  const embodied = embodiedByType(provider.embodied)
  const seen = new Set()
  const [type, vcpus, platformVcpus, gpus, platformGpus] = provider.columns
  for (const row of read(provider.instances)) {
    const name = row[type].trim()
    const kg = embodied.get(row[type])
    if (seen.has(name) || kg === undefined) continue
    seen.add(name)
    const cells = [
      provider.name,
      name,
      int(row[vcpus]),
      int(row[platformVcpus]),
      int(row[gpus]),
      int(row[platformGpus]),
      kg,
    ]
    lines.push(
      cells.map((c) => (/[",]/.test(String(c)) ? `"${String(c).replaceAll('"', '""')}"` : c)).join(','),
    )
  }
}
writeFileSync(new URL('../data/cloud-embodied.csv', import.meta.url), `${lines.join('\n')}\n`)
console.log(`data/cloud-embodied.csv: ${lines.length - 1} instance types`)
