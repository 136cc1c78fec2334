import { fileURLToPath } from 'node:url'
import { getLlama, LlamaChatSession, type LlamaContext, LlamaLogLevel, type LlamaModel } from 'node-llama-cpp'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { measureLlamaSession } from '../src/integrations/node-llama-cpp.js'
import { fakeOpener, MODELS_DIR } from './helpers/fake-opener.js'

let model: LlamaModel
let context: LlamaContext
beforeAll(async () => {
  // The prebuilt CPU binary, never a build; one thread, as the machine's cores are shared.
  const llama = await getLlama({ gpu: false, build: 'never', logLevel: LlamaLogLevel.error })
  model = await llama.loadModel({ modelPath: fileURLToPath(new URL('tiny-llama.gguf', MODELS_DIR)) })
  context = await model.createContext({ contextSize: 512, sequences: 4, threads: 1 })
})
afterAll(async () => {
  await context?.dispose()
  await model?.dispose()
})

const newSession = () => new LlamaChatSession({ contextSequence: context.getSequence(), systemPrompt: '' })

describe('measureLlamaSession on node-llama-cpp', () => {
  it("counts tokens as the sequence's tokenMeter does, marks the first token before the last, returns the answer unchanged", async () => {
    const session = newSession()
    const { opener, spans, log } = fakeOpener()
    const measured = measureLlamaSession(opener, session)
    const meter = session.sequence.tokenMeter
    const counts: { usedInputTokens: number; usedOutputTokens: number }[] = []
    const answers: string[] = []
    for (const prompt of ['hello world', 'the quick brown fox']) {
      const before = meter.getState()
      const answer = await measured.prompt(prompt, {
        maxTokens: 10,
        onToken: (tokens: unknown[]) => log.push(`token ×${tokens.length}`),
      })
      counts.push(meter.diff(before))
      answers.push(answer)
    }
    expect(counts[0]?.usedOutputTokens).toBeGreaterThan(1)
    expect(spans.map((s) => s.counts)).toEqual(
      counts.map((c) => ({ items: 1, inputTokens: c.usedInputTokens, outputTokens: c.usedOutputTokens })),
    )
    expect(spans.map((s) => [s.name, s.firstTokens, s.ends])).toEqual([
      ['llama', 1, 1],
      ['llama', 1, 1],
    ])
    // The first token is marked as the first one streams: before the user's onToken sees it, and so
    // before the last token.
    const firstEnd = log.indexOf('end 0')
    const firstTokens = log.slice(0, firstEnd)
    expect(firstTokens.slice(0, 3)).toEqual(['open 0', 'firstToken 0', 'token ×1'])
    expect(firstTokens.slice(3).filter((l) => l.startsWith('token')).length).toBeGreaterThan(0)
    // The same model and prompts, unwrapped, answer the same.
    const plain = newSession()
    expect(await plain.prompt('hello world', { maxTokens: 10 })).toBe(answers[0])
    plain.dispose()
    session.dispose()
  })

  it('runs concurrent prompts one at a time, each with its own counts, and chains onTextChunk', async () => {
    const session = newSession()
    const { opener, spans, log } = fakeOpener()
    const measured = measureLlamaSession(opener, session, { name: 'chat', weight: 3 })
    let chunks = 0
    const meter = session.sequence.tokenMeter
    const start = meter.getState()
    const answers = await Promise.all([
      measured.prompt('hello', { maxTokens: 6, onTextChunk: () => chunks++ }),
      measured.promptWithMeta('energy', { maxTokens: 6 }),
    ])
    expect(typeof answers[0]).toBe('string')
    expect(answers[1]).toHaveProperty('response')
    expect(chunks).toBeGreaterThan(0)
    expect(log.indexOf('open 1')).toBeGreaterThan(log.indexOf('end 0'))
    const total = meter.diff(start)
    const summed = spans.reduce((sum, s) => sum + (s.counts?.outputTokens ?? 0), 0)
    expect(summed).toBe(total.usedOutputTokens)
    expect(spans.reduce((sum, s) => sum + (s.counts?.inputTokens ?? 0), 0)).toBe(total.usedInputTokens)
    expect(spans.map((s) => [s.name, s.weight])).toEqual([
      ['chat', 3],
      ['chat', 3],
    ])
    session.dispose()
  })

  it("rethrows the session's error with the span ended as failed", async () => {
    const session = newSession()
    const { opener, spans } = fakeOpener()
    const measured = measureLlamaSession(opener, session)
    const aborted = AbortSignal.abort(new Error('stop now'))
    await expect(measured.prompt('hello', { maxTokens: 5, signal: aborted })).rejects.toThrow()
    // A session disposed under the wrapper: node-llama-cpp's own error comes through.
    session.dispose()
    const direct = await session.prompt('hello', { maxTokens: 5 }).catch((e: Error) => e)
    const error = await measured.prompt('hello', { maxTokens: 5 }).catch((e: Error) => e)
    expect(direct).toBeInstanceOf(Error)
    expect((error as Error).message).toBe((direct as Error).message)
    expect(spans.map((s) => [s.ends, s.counts?.failed])).toEqual([
      [1, true],
      [1, true],
    ])
  })
})
