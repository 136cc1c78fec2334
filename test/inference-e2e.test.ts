import { fileURLToPath } from 'node:url'
import { env, pipeline } from '@huggingface/transformers'
import { getLlama, LlamaChatSession, LlamaLogLevel } from 'node-llama-cpp'
import * as ort from 'onnxruntime-node'
import { afterEach, describe, expect, it } from 'vitest'
import { measureLlamaSession } from '../src/integrations/node-llama-cpp.js'
import { measureOnnxSession } from '../src/integrations/onnxruntime.js'
import { measurePipeline } from '../src/integrations/transformers.js'
import type { EmissionsRecord } from '../src/model/record.js'
import type { RequestRecord } from '../src/model/requests.js'
import { prometheusSink } from '../src/output/prometheus.js'
import type { Sink } from '../src/output/sink.js'
import { EmissionsTracker } from '../src/tracker/tracker.js'
import { constantWatts } from './helpers/constant-watts.js'
import { MODELS_DIR } from './helpers/fake-opener.js'

// The wrappers on a real tracker, on a powercap tree advancing at exactly 40 W (RAM and GPU at 0 W): the
// calls' energies, with the energy between them, add up to what the tracker measured since the first one.

const WATTS = 40
const cleanups: (() => void | Promise<void>)[] = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/** Runs `call`, pushing its wall-clock seconds to `walls`: what the call's span must cover. */
async function timed<T>(walls: number[], call: () => Promise<T>): Promise<T> {
  const start = performance.now()
  const result = await call()
  walls.push((performance.now() - start) / 1000)
  return result
}

async function runTracked(calls: (tracker: EmissionsTracker) => Promise<void>, sinks: Sink[] = []) {
  const { raplRoot, dir } = await constantWatts(WATTS, cleanups, 'wattprint-inference-')
  const tracker = new EmissionsTracker({
    sinks,
    outputDir: dir,
    raplRoot,
    intervalMs: 40,
    logLevel: 'silent',
    carbonIntensityGPerKWh: 250,
    ramPowerW: 0,
    gpuIds: [],
  })
  const records: RequestRecord[] = []
  // The first request opens as the tracker starts measuring; what comes before it is no request's. It
  // opened before it settled, so the energy before it is at most the highest interval power over the time
  // from the baseline to that settling (however slow a busy machine made the start).
  let firstSettledNs: bigint | undefined
  tracker.on('request', (r) => {
    records.push(r)
    firstSettledNs ??= process.hrtime.bigint()
  })
  const powersW: number[] = []
  tracker.on('sample', (s) => powersW.push(s.powerW.total))
  await tracker.start()
  await calls(tracker)
  const record = await tracker.stop()
  const beforeFirstS = Number((firstSettledNs ?? 0n) - (tracker.baselineNs ?? 0n)) / 1e9
  const beforeFirstMaxJ = Math.max(0, ...powersW) * Math.max(0, beforeFirstS) * 1.001 + 1e-6
  return { record, records, beforeFirstMaxJ }
}

/** The calls' energies plus the energy between them against the run's, and each call at 40 W. */
function expectConserved(
  record: EmissionsRecord,
  records: RequestRecord[],
  walls: number[],
  beforeFirstMaxJ: number,
) {
  const calls = walls.length
  expect(records).toHaveLength(calls)
  // Each span covers its call: from just after it was made to just before it returned. On a busy machine
  // the promise turns around a call of a millisecond may take several more (seen: a 1.6 ms span in a
  // 6.7 ms call under two CPU burners): 10 ms of slack, which a span that missed its call still fails.
  for (const [i, r] of records.entries()) {
    expect(r.durationS).toBeLessThanOrEqual(walls[i] ?? 0)
    expect(r.durationS).toBeGreaterThan((walls[i] ?? 0) * 0.9 - 0.01)
  }
  const measuredJ = record.energyKWh * 3.6e6
  const callsJ = records.reduce((sum, r) => sum + r.energyJ, 0)
  const betweenJ = record.energyBetweenRequestsJ ?? Number.NaN
  expect(callsJ).toBeGreaterThan(0)
  expect(betweenJ).toBeGreaterThan(0) // the sleeps between calls
  // The rest is the instants before the first call opened, if any: the calls never get more than was
  // measured, and the rest is no more than those instants could have drawn.
  const beforeFirstJ = measuredJ - callsJ - betweenJ
  expect(beforeFirstJ).toBeGreaterThanOrEqual(-1e-9 * measuredJ)
  expect(beforeFirstJ).toBeLessThanOrEqual(beforeFirstMaxJ)
  // At a constant 40 W every call's share is about its duration at 40 W (an interval's energy is split by
  // time; the driver writes its counter every 2 ms, later when the machine is busy: 20 ms of slack).
  for (const r of records) {
    expect(Math.abs(r.energyJ - WATTS * r.durationS)).toBeLessThan(0.15 * WATTS * r.durationS + WATTS * 0.02)
  }
  expect(record.requests).toBe(calls)
}

describe('inference wrappers on a real tracker', () => {
  it('onnxruntime-node: sequential runs add up, items per batch', async () => {
    const session = await ort.InferenceSession.create(fileURLToPath(new URL('mlp.onnx', MODELS_DIR)))
    const walls: number[] = []
    const { record, records, beforeFirstMaxJ } = await runTracked(async (tracker) => {
      const measured = measureOnnxSession(tracker, session, { name: 'mlp' })
      for (const rows of [1, 1024, 250_000]) {
        const input = new ort.Tensor('float32', new Float32Array(rows * 16).fill(0.5), [rows, 16])
        await timed(walls, () => measured.run({ input }))
        await sleep(60)
      }
    })
    expectConserved(record, records, walls, beforeFirstMaxJ)
    expect(records.map((r) => [r.name, r.items])).toEqual([
      ['mlp', 1],
      ['mlp', 1024],
      ['mlp', 250_000],
    ])
    expect(records[2]?.energyPerItemJ).toBeCloseTo((records[2]?.energyJ ?? 0) / 250_000, 12)
  })

  it('onnxruntime-node: a failed run is recorded as failed, apart from the requests, its energy kept', async () => {
    const session = await ort.InferenceSession.create(fileURLToPath(new URL('mlp.onnx', MODELS_DIR)))
    const sink = prometheusSink()
    const errors: unknown[] = []
    const { record, records, beforeFirstMaxJ } = await runTracked(
      async (tracker) => {
        const measured = measureOnnxSession(tracker, session, { name: 'mlp' })
        const good = new ort.Tensor('float32', new Float32Array(64 * 16).fill(0.5), [64, 16])
        const wrong = new ort.Tensor('float32', new Float32Array(64 * 7).fill(0.5), [64, 7])
        await measured.run({ input: good })
        await sleep(60)
        await measured.run({ input: wrong }).catch((error: unknown) => errors.push(error))
        await sleep(60)
        await measured.run({ input: good })
      },
      [sink],
    )
    expect(errors).toHaveLength(1)
    expect(records.map((r) => [r.name, r.failed, r.items])).toEqual([
      ['mlp', false, 64],
      ['mlp', true, 64],
      ['mlp', false, 64],
    ])
    const failed = records[1]
    // The two runs served are the run's requests; the failed one is counted apart, with its energy.
    expect(record.requests).toBe(2)
    expect(record.failedRequests).toBe(1)
    expect(record.failedRequestEnergyJ).toBe(failed?.energyJ)
    const servedJ = (records[0]?.energyJ ?? 0) + (records[2]?.energyJ ?? 0)
    expect(record.energyPerRequestJ).toBeCloseTo(servedJ / 2, 12)
    // Nothing is lost: the requests, the failed one and the time between them add up to what was measured.
    const measuredJ = record.energyKWh * 3.6e6
    const beforeFirstJ =
      measuredJ - servedJ - (record.failedRequestEnergyJ ?? Number.NaN) - (record.energyBetweenRequestsJ ?? 0)
    expect(beforeFirstJ).toBeGreaterThanOrEqual(-1e-9 * measuredJ)
    expect(beforeFirstJ).toBeLessThanOrEqual(beforeFirstMaxJ)
    // Prometheus: the served runs in the request histogram, the failed one in its own.
    const text = (await sink.registry?.metrics()) ?? ''
    const count = (name: string) =>
      Number(new RegExp(`^${name}_count\\{[^}]*\\} (\\S+)$`, 'm').exec(text)?.[1])
    expect(count('wattprint_request_energy_joules')).toBe(2)
    expect(count('wattprint_failed_request_energy_joules')).toBe(1)
  })

  it('transformers.js: generation split into prefill and decode, tokens as generated', async () => {
    env.allowRemoteModels = false
    env.localModelPath = fileURLToPath(MODELS_DIR)
    const generator = await pipeline('text-generation', 'tiny-gpt2', { device: 'cpu', dtype: 'fp32' })
    const prompts = ['hello world', 'energy is measured in joules']
    const walls: number[] = []
    const { record, records, beforeFirstMaxJ } = await runTracked(async (tracker) => {
      const measured = measurePipeline(tracker, generator)
      for (const prompt of prompts) {
        await timed(walls, () => measured(prompt, { max_new_tokens: 12 }))
        await sleep(60)
      }
    })
    expectConserved(record, records, walls, beforeFirstMaxJ)
    const promptTokens = prompts.map((p) => (generator.tokenizer.encode(p) as number[]).length)
    expect(records.map((r) => [r.inputTokens, r.outputTokens])).toEqual(promptTokens.map((n) => [n, 12]))
    expect(record.outputTokens).toBe(24)
    expect(record.inputTokens).toBe(promptTokens.reduce((sum, n) => sum + n, 0))
    for (const r of records) {
      expect((r.prefillEnergyJ ?? Number.NaN) + (r.decodeEnergyJ ?? Number.NaN)).toBeCloseTo(r.energyJ, 12)
      expect(r.decodeEnergyJ).toBeGreaterThan(0)
      expect(r.decodeEnergyPerOutputTokenJ).toBeCloseTo((r.decodeEnergyJ ?? 0) / 11, 12)
    }
  })

  it("node-llama-cpp: prompts add up, tokens as the sequence's tokenMeter counts them", async () => {
    const llama = await getLlama({ gpu: false, build: 'never', logLevel: LlamaLogLevel.error })
    const model = await llama.loadModel({ modelPath: fileURLToPath(new URL('tiny-llama.gguf', MODELS_DIR)) })
    const context = await model.createContext({ contextSize: 512, threads: 1 })
    cleanups.push(async () => {
      await context.dispose()
      await model.dispose()
    })
    const session = new LlamaChatSession({ contextSequence: context.getSequence(), systemPrompt: '' })
    const meter = session.sequence.tokenMeter
    const counted: { usedInputTokens: number; usedOutputTokens: number }[] = []
    const walls: number[] = []
    const { record, records, beforeFirstMaxJ } = await runTracked(async (tracker) => {
      const measured = measureLlamaSession(tracker, session)
      for (const prompt of ['hello world', 'the quick brown fox', 'tokens in, tokens out']) {
        const before = meter.getState()
        await timed(walls, () => measured.prompt(prompt, { maxTokens: 16 }))
        counted.push(meter.diff(before))
        await sleep(60)
      }
    })
    expectConserved(record, records, walls, beforeFirstMaxJ)
    expect(records.map((r) => [r.inputTokens, r.outputTokens])).toEqual(
      counted.map((c) => [c.usedInputTokens, c.usedOutputTokens]),
    )
    expect(record.outputTokens).toBe(counted.reduce((sum, c) => sum + c.usedOutputTokens, 0))
    expect(records.every((r) => r.prefillEnergyJ !== null && r.decodeEnergyJ !== null)).toBe(true)
  })
})
