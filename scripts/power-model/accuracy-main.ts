// npm run accuracy: prints how far the power model, CodeCarbon's curve and Teads' ratios are from measured
// wall power on servers each fit never saw. `-- --write` puts the tables into docs/accuracy.md; `-- --check`
// exits 1 when the document disagrees.
import { readFileSync, writeFileSync } from 'node:fs'
import { dataFilePath } from '../../src/platform/data-files.js'
import { readRaplProfiles, readServers } from './dataset.js'
import { generatedBlock, renderAccuracy } from './report.js'

const docUrl = dataFilePath('../docs/accuracy.md')
process.stderr.write('fitting and testing on three year-forward splits…\n')
const block = renderAccuracy(readServers(), readRaplProfiles())
const mode = process.argv[2]
if (mode === '--write' || mode === '--check') {
  const doc = readFileSync(docUrl, 'utf8')
  const current = generatedBlock(doc)
  if (current === null) {
    process.stderr.write('docs/accuracy.md has no accuracy markers\n')
    process.exit(1)
  }
  if (mode === '--check') {
    if (current !== block) {
      process.stderr.write('docs/accuracy.md disagrees with the figures: run npm run accuracy -- --write\n')
      process.exit(1)
    }
    process.stdout.write('docs/accuracy.md agrees with the figures\n')
  } else {
    writeFileSync(docUrl, doc.replace(current, block))
    process.stdout.write('wrote the tables into docs/accuracy.md\n')
  }
} else {
  process.stdout.write(`${block}\n`)
}
