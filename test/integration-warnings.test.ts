import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import type { TrackerWarning } from '../src/core/warnings.js'
import { type LlamaSessionLike, measureLlamaSession } from '../src/integrations/node-llama-cpp.js'
import { measureOnnxSession, type OnnxSessionLike } from '../src/integrations/onnxruntime.js'
import { measurePipeline, type PipelineLike } from '../src/integrations/transformers.js'
import type { RequestRecord } from '../src/model/requests.js'
import { EmissionsTracker } from '../src/tracker/tracker.js'
import { captureStderr } from './helpers/stderr.js'
import { makeTempDir } from './helpers/temp-dir.js'

// One warning channel: what an integration cannot do is a `warning` event of the tracker it was given (and
// that tracker's stderr line), never a process warning; only an opener that is no EmissionsTracker, which
// has no channel of wattprint's, is left the process's.

const processWarnings: string[] = []
const onProcessWarning = (warning: Error) => processWarnings.push(warning.message)
process.on('warning', onProcessWarning)
afterEach(() => {
  processWarnings.length = 0
})

async function running(logLevel: 'silent' | 'warning' = 'silent') {
  const dir = makeTempDir('wattprint-integration-warnings-')
  const tracker = new EmissionsTracker({
    saveToFile: false,
    logLevel,
    sampling: 'inline',
    intervalMs: 40,
    raplRoot: join(dir, 'no-powercap'),
    gpuIds: [],
    ramPowerW: 0,
  })
  const warnings: TrackerWarning[] = []
  tracker.on('warning', (w) => warnings.push(w))
  await tracker.start()
  return { tracker, warnings }
}

/** An onnxruntime session that answers `result` to every run. */
const onnx = (result: unknown): OnnxSessionLike => ({ run: async () => result })

/** Lets settled spans' callbacks and process warnings (emitted on the next tick) run. */
const settle = () => new Promise<void>((r) => setTimeout(r, 0))

describe("the integrations' warnings", () => {
  it('are the tracker’s warning events, once per message, not process warnings', async () => {
    const { tracker, warnings } = await running()
    const records: RequestRecord[] = []
    const session = measureOnnxSession(tracker, onnx({ ok: true }), {
      items: () => {
        throw new Error('no count')
      },
      onRecord: (record) => {
        records.push(record)
        throw new Error('user callback')
      },
    })
    expect(await session.run({})).toEqual({ ok: true })
    expect(await session.run({})).toEqual({ ok: true })
    await tracker.stop()
    await settle()
    expect(records).toHaveLength(2)
    expect(warnings.filter((w) => w.code === 'INTEGRATION_FAILED')).toEqual([
      { code: 'INTEGRATION_FAILED', message: 'could not count the tokens or items of onnx: no count' },
      { code: 'INTEGRATION_FAILED', message: 'onRecord threw: user callback' },
    ])
    expect(processWarnings).toEqual([])
  })

  it('are printed on stderr as the tracker’s own warnings are', async () => {
    const stderr = captureStderr()
    try {
      const { tracker } = await running('warning')
      const llama: LlamaSessionLike = {
        sequence: { tokenMeter: { getState: () => ({ usedInputTokens: 0, usedOutputTokens: 0 }) } },
        prompt: async () => 'hi',
      }
      const chat = measureLlamaSession(tracker, llama, {
        onRecord: () => {
          throw new Error('llama callback')
        },
      })
      const pipeline = Object.assign(async () => 'out', { task: 'fill-mask' }) as unknown as PipelineLike
      const fill = measurePipeline(tracker, pipeline, {
        onRecord: () => {
          throw new Error('pipeline callback')
        },
      })
      expect(await chat.prompt('hello')).toBe('hi')
      expect(await fill('x')).toBe('out')
      await tracker.stop()
      await settle()
    } finally {
      stderr.restore()
    }
    expect(stderr.text()).toContain('[wattprint warning] onRecord threw: llama callback\n')
    expect(stderr.text()).toContain('[wattprint warning] onRecord threw: pipeline callback\n')
    expect(processWarnings).toEqual([])
  })

  it('go to the process only from an opener that is no tracker (it has no channel of ours)', async () => {
    const notATracker = {
      request(): never {
        throw new Error('not a tracker')
      },
    }
    const session = measureOnnxSession(notATracker, onnx(1))
    expect(await session.run({})).toBe(1)
    await settle()
    expect(processWarnings).toEqual([
      'wattprint: could not open a request span for onnx (not a tracker); the call runs unmeasured.',
    ])
  })

  it('of two trackers each reach their own tracker', async () => {
    const first = await running()
    const second = await running()
    const failing = {
      items: () => {
        throw new Error('no count')
      },
    }
    await measureOnnxSession(first.tracker, onnx(1), failing).run({})
    await measureOnnxSession(second.tracker, onnx(1), failing).run({})
    await Promise.all([first.tracker.stop(), second.tracker.stop()])
    const said = (warnings: TrackerWarning[]) => warnings.filter((w) => w.code === 'INTEGRATION_FAILED')
    expect(said(first.warnings)).toHaveLength(1)
    expect(said(second.warnings)).toHaveLength(1)
  })
})
