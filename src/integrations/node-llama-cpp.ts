// node-llama-cpp: each prompt of a LlamaChatSession is a request span, its token counts from the
// sequence's tokenMeter. Duck-typed: wattprint never imports node-llama-cpp.
import { measured, withOverrides } from './inference-call.js'
import type { InferenceOptions, SpanOpener } from './inference-options.js'

export type { InferenceOptions, SpanOpener } from './inference-options.js'

/** node-llama-cpp's token counts (a TokenMeter's state). */
export interface TokenMeterStateLike {
  /** Input tokens the sequence has evaluated so far, in all. */
  readonly usedInputTokens: number
  /** Output tokens the sequence has generated so far, in all. */
  readonly usedOutputTokens: number
}

/** The part of a node-llama-cpp chat session the wrapper touches. */
export interface LlamaSessionLike {
  /** The context sequence the session evaluates on. */
  readonly sequence: {
    /** The sequence's token counter: a call's counts are its difference over the call. */
    readonly tokenMeter: {
      /** The counts so far. */
      getState(): TokenMeterStateLike
    }
  }
  /** Answers a prompt: each call (and its siblings promptWithMeta …) is one request span. */
  // biome-ignore lint/suspicious/noExplicitAny: prompt's options are generic over the session's functions
  prompt(prompt: string, options?: any): Promise<unknown>
}

/** The session's methods that evaluate a prompt: `(prompt, options)` with onToken and onTextChunk. */
const PROMPT_METHODS = ['prompt', 'promptWithMeta', 'completePrompt', 'completePromptWithMeta'] as const

type Callback = ((...args: never[]) => unknown) | undefined

/** `user`, called after `mark`; `mark` runs first so the first token is marked even if `user` throws. */
function chained(mark: () => void, user: Callback) {
  return (...args: never[]) => {
    mark()
    return user?.(...args)
  }
}

/**
 * The session, with each `prompt()` (and `promptWithMeta`, `completePrompt`, `completePromptWithMeta`)
 * measured as a request span named `options.name` (default `llama`): the first token the session streams
 * (`onToken`, `onTextChunk`, `onResponseChunk`, the user's callbacks chained) ends prefill, and
 * `inputTokens` and `outputTokens` are the difference in `session.sequence.tokenMeter` over the call. The wrapper runs one
 * prompt at a time, as the session itself does, so that each call's counts are its own. Results and
 * errors are the session's.
 */
export function measureLlamaSession<S extends LlamaSessionLike>(
  tracker: SpanOpener,
  session: S,
  options: InferenceOptions = {},
): S {
  let queue: Promise<unknown> = Promise.resolve()
  const overrides: Record<string, unknown> = {}
  const target = session as unknown as Record<string, unknown>
  for (const method of PROMPT_METHODS) {
    const original = target[method]
    if (typeof original !== 'function') continue
    overrides[method] = (prompt: string, promptOptions?: Record<string, unknown>) => {
      const call = queue.then(() => {
        let before: TokenMeterStateLike | null = null
        // A session without a readable meter still runs, measured, without token counts.
        const state = (): TokenMeterStateLike | null => {
          try {
            return session.sequence.tokenMeter.getState()
          } catch {
            return null
          }
        }
        return measured(
          tracker,
          'llama',
          options,
          (span) => {
            before = state()
            const given = promptOptions ?? {}
            const hooked = { ...given }
            for (const hook of ['onToken', 'onTextChunk', 'onResponseChunk'] as const) {
              if (hook === 'onToken' || given[hook] !== undefined) {
                hooked[hook] = chained(() => span.firstToken(), given[hook] as Callback)
              }
            }
            return (original as (p: string, o: unknown) => Promise<unknown>).call(session, prompt, hooked)
          },
          () => {
            const after = state()
            if (!before || !after) return { items: 1 }
            return {
              items: 1,
              inputTokens: after.usedInputTokens - before.usedInputTokens,
              outputTokens: after.usedOutputTokens - before.usedOutputTokens,
            }
          },
        )
      })
      queue = call.catch(() => {})
      return call
    }
  }
  return withOverrides(session, overrides)
}
