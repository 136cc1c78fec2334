import type { SpanOpener } from '../../src/integrations/http.js'
import type { RequestEnd, RequestRecord } from '../../src/model/requests.js'
import type { RequestSpan } from '../../src/requests/span.js'

/** What a fake span saw: its name and weight, the order of its calls in a shared log, its counts. */
export interface FakeSpan {
  readonly name: string
  readonly weight: number | undefined
  firstTokens: number
  ends: number
  counts: RequestEnd | undefined
}

/**
 * A SpanOpener that records instead of measuring: every span's calls are appended to `log` (with the
 * span's index), so a test can say what came before what. Its records carry the counts and 1 J.
 */
export function fakeOpener() {
  const spans: FakeSpan[] = []
  const log: string[] = []
  const opener: SpanOpener = {
    request(name = 'request', options) {
      const seen: FakeSpan = { name, weight: options?.weight, firstTokens: 0, ends: 0, counts: undefined }
      const index = spans.push(seen) - 1
      log.push(`open ${index}`)
      let settle: (record: RequestRecord) => void = () => {}
      const settled = new Promise<RequestRecord>((resolve) => {
        settle = resolve
      })
      const span: RequestSpan = {
        name,
        settled,
        firstToken() {
          seen.firstTokens++
          log.push(`firstToken ${index}`)
        },
        end(counts) {
          seen.ends++
          seen.counts = counts
          log.push(`end ${index}`)
          settle(record(name, counts ?? {}))
          return span
        },
        energySoFarJ: () => 0,
      }
      return span
    },
  }
  return { opener, spans, log }
}

function record(name: string, counts: RequestEnd): RequestRecord {
  const now = new Date().toISOString()
  return {
    name,
    failed: counts.failed === true,
    runId: 'fake',
    startedAt: now,
    endedAt: now,
    durationS: 0,
    energyJ: 1,
    energyJByComponent: { cpu: 1, gpu: 0, ram: 0 },
    emissionsKg: 0,
    prefillEnergyJ: null,
    decodeEnergyJ: null,
    inputTokens: counts.inputTokens ?? null,
    outputTokens: counts.outputTokens ?? null,
    tokensIn: counts.inputTokens ?? null,
    tokensOut: counts.outputTokens ?? null,
    items: counts.items ?? null,
    energyPerItemJ: null,
    energyPerInputTokenJ: null,
    energyPerOutputTokenJ: null,
    decodeEnergyPerOutputTokenJ: null,
  }
}

/** The directory of the committed tiny models (scripts/make-tiny-models.py writes them). */
export const MODELS_DIR = new URL('../../examples/models/', import.meta.url)
