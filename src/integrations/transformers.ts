// transformers.js (@huggingface/transformers): each call of a pipeline is a request span. For generation,
// a streamer hook marks the first generated token (prefill before it, decode after) and counts the
// tokens. Duck-typed: wattprint never imports transformers.js.

import { OptionError } from '../core/errors.js'
import type { RequestCounts } from '../model/requests.js'
import { measured, type SafeSpan, warnOnce, withOverrides } from './inference-call.js'
import type { InferenceOptions, SpanOpener } from './inference-options.js'

export type { InferenceOptions, SpanOpener } from './inference-options.js'

/** The streamer interface transformers.js's generate() calls (its BaseStreamer). */
export interface StreamerLike {
  /** Takes token ids, one row per sequence: the prompt first (decoder-only models), then each step's. */
  put(value: bigint[][]): void
  /** Called once generation is done. */
  end(): void
}

/** The part of a transformers.js tokenizer the wrapper may call. */
export interface TokenizerLike {
  /** The id a batch's shorter prompts are left-padded with, not counted as input tokens. */
  readonly pad_token_id?: number | bigint | null
  // biome-ignore lint/suspicious/noExplicitAny: the tokenizer's options and result are its own
  (text: any, options?: any): any
}

/** The part of a transformers.js pipeline the wrapper touches: a callable with a task. */
export interface PipelineLike {
  /** The pipeline's task (`text-generation`, `image-classification` …): the span's default name. */
  readonly task?: string
  /** The pipeline's tokenizer, for the prompt's tokens. */
  readonly tokenizer?: TokenizerLike | null
  /** The pipeline's model, for whether it is an encoder-decoder. */
  readonly model?: {
    /** The model's configuration. */
    readonly config?: {
      /** True for an encoder-decoder (T5, BART): its input tokens are counted by the tokenizer. */
      readonly is_encoder_decoder?: boolean
    }
  } | null
  // biome-ignore lint/suspicious/noExplicitAny: each task has its own arguments and result
  (...args: any[]): Promise<any>
}

/** Options of measurePipeline. */
export interface PipelineMeasureOptions extends InferenceOptions {
  /**
   * The input tokens of a call, when the default (the tokenizer's count of the prompt) does not fit.
   * Formerly `tokensIn`, still read, with a `DEPRECATED_OPTION` warning.
   */
  // biome-ignore lint/suspicious/noExplicitAny: the pipeline's own inputs
  readonly inputTokens?: (inputs: any) => number
  /** @deprecated use inputTokens (the same function). */
  // biome-ignore lint/suspicious/noExplicitAny: the pipeline's own inputs
  readonly tokensIn?: (inputs: any) => number
}

/**
 * measurePipeline's `inputTokens`, or its former name `tokensIn` (a `DEPRECATED_OPTION` warning through
 * the tracker); both given, unless the same function, are refused with an OptionError naming both.
 */
function inputTokensOption(
  tracker: SpanOpener,
  options: PipelineMeasureOptions,
): PipelineMeasureOptions['inputTokens'] {
  const { inputTokens, tokensIn } = options
  if (tokensIn === undefined) return inputTokens
  if (inputTokens !== undefined && inputTokens !== tokensIn) {
    const problem = 'is also given as tokensIn, its former name, with another function'
    throw new OptionError(
      `measurePipeline: options tokensIn and inputTokens are one option, under its former and its new name, ` +
        'and they are two different functions. Give inputTokens only: measurePipeline(tracker, pipeline, ' +
        '{ inputTokens: (inputs) => … }).',
      'inputTokens',
      problem,
      null,
      '(inputs) => …',
    )
  }
  warnOnce(
    tracker,
    "measurePipeline()'s option tokensIn is deprecated: it is now inputTokens (the same function), as in " +
      'the record and the CSV; tokensIn is still read.',
    'DEPRECATED_OPTION',
  )
  return tokensIn
}

/** Tasks whose pipelines call generate() with a streamer as the second argument's `streamer`. */
const GENERATION_TASKS = new Set(['text-generation', 'text2text-generation', 'summarization', 'translation'])

function isChat(value: unknown): boolean {
  return Array.isArray(value) && value.every((m) => typeof m === 'object' && m !== null && 'role' in m)
}

/** Inputs a call serves: one string, image or chat; or each element of an array of them. */
function inputCount(inputs: unknown): number {
  return Array.isArray(inputs) && !isChat(inputs) ? inputs.length : 1
}

/** A row's prompt tokens: its ids without the left padding a batch adds. */
function promptTokens(row: readonly bigint[], padId: bigint | null, batched: boolean): number {
  let start = 0
  if (batched && padId !== null) while (start < row.length && row[start] === padId) start++
  return row.length - start
}

/** Counts what generate() streams: the prompt first (decoder-only), then one id per row and step. */
class TokenCounter implements StreamerLike {
  private puts = 0
  prompt = 0
  generated = 0

  constructor(
    private readonly span: SafeSpan,
    private readonly padId: bigint | null,
    private readonly user: Partial<StreamerLike> | undefined,
    private readonly warn: (message: string) => void,
  ) {}

  put(value: bigint[][]): void {
    try {
      this.count(value)
    } catch (error) {
      this.warn(`could not count a generation's tokens: ${error instanceof Error ? error.message : error}`)
    }
    this.user?.put?.(value) // the user's streamer: what it throws is theirs to see
  }

  end(): void {
    this.user?.end?.()
  }

  private count(value: bigint[][]): void {
    this.puts++
    if (this.puts === 1) {
      for (const row of value) this.prompt += promptTokens(row, this.padId, value.length > 1)
      return
    }
    if (this.puts === 2) this.span.firstToken()
    for (const row of value) this.generated += row.length
  }
}

function padTokenId(pipeline: PipelineLike): bigint | null {
  const id = pipeline.tokenizer?.pad_token_id
  return typeof id === 'number' || typeof id === 'bigint' ? BigInt(id) : null
}

/** An encoder-decoder's input tokens, from its tokenizer (the first streamed ids are the decoder's start). */
function encoderTokens(pipeline: PipelineLike, inputs: unknown): number | undefined {
  const texts = typeof inputs === 'string' ? [inputs] : inputs
  if (!pipeline.tokenizer || !Array.isArray(texts) || !texts.every((t) => typeof t === 'string'))
    return undefined
  const encoded = pipeline.tokenizer(texts, { return_tensor: false, padding: false })
  const ids: unknown = encoded?.input_ids
  return Array.isArray(ids) ? ids.reduce((sum: number, row: unknown[]) => sum + row.length, 0) : undefined
}

/**
 * The pipeline, callable as before, with each call measured as a request span named `options.name`
 * (default `pipeline:<task>`) with `items` = the number of inputs. For text generation (and
 * text2text-generation, summarization, translation) a streamer is passed to generate() (chained to the
 * user's `streamer`, if any): it marks the first generated token and counts the output tokens, and the
 * input tokens are the prompt's (the tokenizer's ids, without padding). Results and errors are the pipeline's.
 */
export function measurePipeline<P extends PipelineLike>(
  tracker: SpanOpener,
  pipeline: P,
  options: PipelineMeasureOptions = {},
): P {
  const inputTokens = inputTokensOption(tracker, options)
  const task = typeof pipeline.task === 'string' ? pipeline.task : 'unknown'
  const name = `pipeline:${task}`
  const warn = (message: string) => warnOnce(tracker, message)
  const generates = GENERATION_TASKS.has(task)
  const apply = (args: unknown[], thisArg: unknown) => {
    const inputs = args[0]
    let counter: TokenCounter | null = null
    return measured(
      tracker,
      name,
      options,
      (span) => {
        if (!generates) return Reflect.apply(pipeline, thisArg, args)
        const given = (args[1] ?? {}) as { streamer?: Partial<StreamerLike> }
        counter = new TokenCounter(span, padTokenId(pipeline), given.streamer, warn)
        return Reflect.apply(pipeline, thisArg, [inputs, { ...given, streamer: counter }, ...args.slice(2)])
      },
      () => generationCounts(pipeline, inputTokens, inputs, counter),
    )
  }
  return withOverrides(pipeline, {}, apply)
}

function generationCounts(
  pipeline: PipelineLike,
  inputTokensOf: PipelineMeasureOptions['inputTokens'],
  inputs: unknown,
  counter: TokenCounter | null,
): RequestCounts {
  const items = inputCount(inputs)
  if (!counter) return { items }
  const encoderDecoder = pipeline.model?.config?.is_encoder_decoder === true
  const inputTokens = inputTokensOf
    ? inputTokensOf(inputs)
    : encoderDecoder
      ? encoderTokens(pipeline, inputs)
      : counter.prompt
  return inputTokens === undefined
    ? { items, outputTokens: counter.generated }
    : { items, inputTokens, outputTokens: counter.generated }
}
