import { fileURLToPath } from 'node:url'
import * as ort from 'onnxruntime-node'
import { describe, expect, it } from 'vitest'
import { measureOnnxSession } from '../src/integrations/onnxruntime.js'
import { fakeOpener, MODELS_DIR } from './helpers/fake-opener.js'

const MLP = fileURLToPath(new URL('mlp.onnx', MODELS_DIR))
const batch = (rows: number) => ({
  input: new ort.Tensor(
    'float32',
    Float32Array.from({ length: rows * 16 }, (_, i) => i / 100),
    [rows, 16],
  ),
})

describe('measureOnnxSession on onnxruntime-node', () => {
  it('measures each run as a span, items from the batch dimension, the result unchanged', async () => {
    const session = await ort.InferenceSession.create(MLP)
    const { opener, spans } = fakeOpener()
    const measured = measureOnnxSession(opener, session)
    const expected = await session.run(batch(5))
    const got = await measured.run(batch(5))
    await measured.run(batch(1))
    expect(got.logits?.dims).toEqual([5, 4])
    expect(Array.from(got.logits?.data as Float32Array)).toEqual(
      Array.from(expected.logits?.data as Float32Array),
    )
    expect(spans.map((s) => [s.name, s.counts, s.ends])).toEqual([
      ['onnx', { items: 5 }, 1],
      ['onnx', { items: 1 }, 1],
    ])
    // Every other member is the session's own, methods bound to it.
    expect(measured.inputNames).toEqual(['input'])
    expect(measured.outputNames).toEqual(['logits'])
    await measured.release()
  })

  it('takes the items from options.items, the name and weight from the options, and hands over records', async () => {
    const session = await ort.InferenceSession.create(MLP)
    const { opener, spans } = fakeOpener()
    const records: unknown[] = []
    const measured = measureOnnxSession(opener, session, {
      name: 'classify',
      weight: 2,
      items: (feeds: { input: ort.Tensor }) => (feeds.input.dims[0] ?? 0) * 10,
      onRecord: (record) => records.push(record.items),
    })
    await measured.run(batch(3))
    await new Promise((r) => setTimeout(r, 0))
    expect(spans).toMatchObject([{ name: 'classify', weight: 2, counts: { items: 30 } }])
    expect(records).toEqual([30])
  })

  it("rethrows the runtime's error with the span ended as failed", async () => {
    const session = await ort.InferenceSession.create(MLP)
    const { opener, spans } = fakeOpener()
    const measured = measureOnnxSession(opener, session)
    const wrong = { input: new ort.Tensor('float32', new Float32Array(3 * 7), [3, 7]) }
    const direct = await session.run(wrong).catch((e: Error) => e)
    const error = await measured.run(wrong).catch((e: Error) => e)
    expect(error).toBeInstanceOf(Error)
    expect((error as Error).message).toBe((direct as Error).message)
    expect(spans.map((s) => [s.ends, s.counts])).toEqual([[1, { items: 3, failed: true }]])
  })

  it('never throws into the call: a failing tracker, items() or onRecord leave the run measured or not, never broken', async () => {
    const session = await ort.InferenceSession.create(MLP)
    const warnings: string[] = []
    const onWarning = (warning: Error) => warnings.push(warning.message)
    process.on('warning', onWarning)
    const broken = {
      request(): never {
        throw new Error('tracker gone')
      },
    }
    const unmeasured = measureOnnxSession(broken, session)
    expect((await unmeasured.run(batch(2))).logits?.dims).toEqual([2, 4])

    const { opener, spans } = fakeOpener()
    const measured = measureOnnxSession(opener, session, {
      items: () => {
        throw new Error('no count')
      },
      onRecord: () => {
        throw new Error('user callback')
      },
    })
    expect((await measured.run(batch(2))).logits?.dims).toEqual([2, 4])
    await new Promise((r) => setTimeout(r, 0))
    expect(spans).toMatchObject([{ ends: 1, counts: {} }])
    process.off('warning', onWarning)
    // Each failure is said, once, as a process warning.
    expect(warnings).toEqual([
      'wattprint: could not open a request span for onnx (tracker gone); the call runs unmeasured.',
      'wattprint: could not count the tokens or items of onnx: no count',
      'wattprint: onRecord threw: user callback',
    ])
  })
})
