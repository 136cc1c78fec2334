import { fileURLToPath } from 'node:url'
import { env, pipeline, TextStreamer } from '@huggingface/transformers'
import { beforeAll, describe, expect, it } from 'vitest'
import { measurePipeline } from '../src/integrations/transformers.js'
import { fakeOpener, MODELS_DIR } from './helpers/fake-opener.js'

// The committed tiny model, from disk only: nothing is fetched.
env.allowRemoteModels = false
env.localModelPath = fileURLToPath(MODELS_DIR)
const load = <T extends 'text-generation' | 'feature-extraction'>(task: T) =>
  pipeline(task, 'tiny-gpt2', { device: 'cpu', dtype: 'fp32' })

let generator: Awaited<ReturnType<typeof load<'text-generation'>>>
beforeAll(async () => {
  generator = await load('text-generation')
})

/** The ids a prompt encodes to, as the pipeline's tokenizer gives them. */
function promptIds(text: string): number {
  return (generator.tokenizer.encode(text) as number[]).length
}

describe('measurePipeline on transformers.js', () => {
  it('counts the generated ids and the prompt tokens, marks the first token before the last, returns the output unchanged', async () => {
    const { opener, spans, log } = fakeOpener()
    const measured = measurePipeline(opener, generator)
    const expected = await generator('hello world', { max_new_tokens: 7 })
    const generated: bigint[] = []
    const streamer = {
      put(value: bigint[][]) {
        log.push('put')
        generated.push(...(value[0] ?? []))
      },
      end() {
        log.push('end')
      },
    }
    const got = await measured('hello world', { max_new_tokens: 7, streamer: streamer as never })
    expect(got).toEqual(expected)
    // The user's streamer saw what it would have seen alone: the prompt, then one id per step.
    const prompt = promptIds('hello world')
    expect(generated.length).toBe(prompt + 7)
    expect(spans).toMatchObject([
      {
        name: 'pipeline:text-generation',
        firstTokens: 1,
        ends: 1,
        counts: { inputTokens: prompt, outputTokens: 7, items: 1 },
      },
    ])
    // The first token is marked at the second put (the first generated id), before the last one.
    expect(log.indexOf('firstToken 0')).toBe(log.indexOf('put') + 1)
    expect(log.indexOf('firstToken 0')).toBeLessThan(log.lastIndexOf('put'))
    expect(log.at(-1)).toBe('end 0')
  })

  it('counts the tokens of a TextStreamer user, and of a batch without its left padding', async () => {
    const { opener, spans } = fakeOpener()
    const measured = measurePipeline(opener, generator, { name: 'chat' })
    let tokens = 0
    const streamer = new TextStreamer(generator.tokenizer, {
      skip_prompt: true,
      callback_function: () => {},
      token_callback_function: () => {
        tokens++
      },
    })
    await measured('the quick brown fox', { max_new_tokens: 5, streamer })
    expect(tokens).toBe(5)
    const inputs = ['hello', 'the quick brown fox jumps'] as const
    await measured([...inputs], { max_new_tokens: 4 })
    expect(spans.map((s) => [s.name, s.counts])).toEqual([
      ['chat', { items: 1, inputTokens: promptIds('the quick brown fox'), outputTokens: 5 }],
      ['chat', { items: 2, inputTokens: promptIds(inputs[0]) + promptIds(inputs[1]), outputTokens: 8 }],
    ])
  })

  it('counts the inputs of other tasks as items', async () => {
    const extractor = await load('feature-extraction')
    const { opener, spans } = fakeOpener()
    const measured = measurePipeline(opener, extractor)
    const output = await measured(['hello', 'energy is measured in joules', 'watts'])
    expect(output.dims[0]).toBe(3)
    await measured('one')
    expect(spans.map((s) => [s.name, s.counts, s.firstTokens])).toEqual([
      ['pipeline:feature-extraction', { items: 3 }, 0],
      ['pipeline:feature-extraction', { items: 1 }, 0],
    ])
    expect(measured.task).toBe('feature-extraction')
  })

  it("rethrows the pipeline's error, and the user's streamer's, with the span ended as failed", async () => {
    const { opener, spans } = fakeOpener()
    const measured = measurePipeline(opener, generator)
    const direct = await generator(42 as unknown as string).catch((e: Error) => e)
    const error = await measured(42 as unknown as string).catch((e: Error) => e)
    expect((error as Error).message).toBe((direct as Error).message)
    const streamer = {
      put() {
        throw new Error('streamer broke')
      },
      end() {},
    }
    await expect(measured('hello', { max_new_tokens: 3, streamer: streamer as never })).rejects.toThrow(
      'streamer broke',
    )
    expect(spans.map((s) => [s.ends, s.counts?.failed])).toEqual([
      [1, true],
      [1, true],
    ])
  })
})
