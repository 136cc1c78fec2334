// onnxruntime-node: each InferenceSession.run() is a request span. Duck-typed on the session the user
// passes: wattprint never imports onnxruntime-node, and its types stand without it.
import { measured, withOverrides } from './inference-call.js'
import type { InferenceOptions, SpanOpener } from './inference-options.js'

export type { InferenceOptions, SpanOpener } from './inference-options.js'

/** The part of an onnxruntime tensor the wrapper reads: its shape. */
export interface OnnxTensorLike {
  /** The tensor's dimensions: the first is the batch, a call's items. */
  readonly dims: readonly number[]
}

/** The part of an onnxruntime-node InferenceSession the wrapper touches. */
export interface OnnxSessionLike {
  /** Runs the model on `feeds` (inputs by name): each call is one request span. */
  // biome-ignore lint/suspicious/noExplicitAny: run's overloads (feeds, fetches?, options?) vary by version
  run(feeds: any, ...rest: any[]): Promise<unknown>
}

/** Options of measureOnnxSession. */
export interface OnnxMeasureOptions extends InferenceOptions {
  /** The items a call serves; default: the first dimension (batch) of the first input. */
  // biome-ignore lint/suspicious/noExplicitAny: the feeds are the runtime's own tensors
  readonly items?: (feeds: any) => number
}

/** The batch size of a run: the first dimension of its first input tensor, when it has one. */
function batchSize(feeds: unknown): number | undefined {
  if (typeof feeds !== 'object' || feeds === null) return undefined
  for (const value of Object.values(feeds)) {
    const dims = (value as Partial<OnnxTensorLike> | null)?.dims
    const first = Array.isArray(dims) ? dims[0] : undefined
    return typeof first === 'number' && Number.isFinite(first) ? first : undefined
  }
  return undefined
}

/**
 * The session, with each `run()` measured as a request span named `options.name` (default `onnx`):
 * `items` is the batch (the first input's first dimension) or `options.items(feeds)`. The run's result is
 * returned unchanged and its errors rethrown (the span ended first); every other member is the session's.
 */
export function measureOnnxSession<S extends OnnxSessionLike>(
  tracker: SpanOpener,
  session: S,
  options: OnnxMeasureOptions = {},
): S {
  const run = (feeds: unknown, ...rest: unknown[]) =>
    measured(
      tracker,
      'onnx',
      options,
      () => session.run(feeds, ...rest),
      () => {
        const items = options.items ? options.items(feeds) : batchSize(feeds)
        return items === undefined ? {} : { items }
      },
    )
  return withOverrides(session, { run })
}
