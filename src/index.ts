// wattprint's public API. Everything exported here is documented in the README.

export {
  type ExpressMiddlewareLike,
  wattprintExpress,
} from './adapters/express.js'
export {
  type FastifyInstanceLike,
  type FastifyPluginLike,
  wattprintFastify,
} from './adapters/fastify.js'
export type { HttpAdapterOptions, SpanOpener } from './adapters/opener.js'
export type { Component, MeterMethod, MeterSource } from './components.js'
export type { Budget, ResolvedConfig, TrackerOptions } from './config.js'
export { envName } from './config.js'
export { bestEquivalent, describeEquivalent, type Equivalent, equivalents } from './equivalents.js'
export { WattprintError, type WattprintErrorCode } from './errors.js'
export type { BudgetEvent, Listener, Prediction, SampleEvent, TrackerEvents } from './events.js'
export { formatEnergy, formatMass, summaryLine } from './format.js'
export {
  type LlamaSessionLike,
  measureLlamaSession,
  type TokenMeterStateLike,
} from './inference/llama.js'
export {
  measureOnnxSession,
  type OnnxMeasureOptions,
  type OnnxSessionLike,
  type OnnxTensorLike,
} from './inference/onnx.js'
export type { InferenceOptions } from './inference/span-like.js'
export {
  measurePipeline,
  type PipelineLike,
  type PipelineMeasureOptions,
  type StreamerLike,
  type TokenizerLike,
} from './inference/transformers.js'
export {
  ForecastError,
  type ForecastLocation,
  forecast,
} from './intensity/forecast/forecast.js'
export type { ForecastSignal, ForecastSlot } from './intensity/forecast/provider.js'
export type { IntensityProvider, IntensityReading } from './intensity/provider.js'
export { WORLD_AVERAGE_G_PER_KWH } from './intensity/provider.js'
export type { LogLevel } from './log.js'
export { cpuPowerAtLoad } from './meters/cpu-estimate.js'
export { guessModuleCount, ramPowerW } from './meters/ram-estimate.js'
export type {
  ComponentRecord,
  EmissionsRecord,
  Measurement,
  MeterRecord,
  RunStatus,
  TaskRecord,
} from './record.js'
export type { RequestFields } from './requests/book.js'
export type { CountOf, Measured, MeasureOptions } from './requests/measure.js'
export type { RequestCounts, RequestEnd, RequestRecord, RequestSpan } from './requests/span.js'
export {
  type BestWindow,
  type BestWindowOptions,
  bestWindow,
  type RegionWindow,
} from './scheduling/best-window.js'
export { searchWindow, type WindowChoice, type WindowQuery } from './scheduling/window.js'
export { CSV_COLUMNS, type CsvColumn } from './sinks/csv.js'
export { type MeterLike, otelSink } from './sinks/otel.js'
export {
  type PrometheusSink,
  type PrometheusSinkOptions,
  prometheusSink,
  type RegistryLike,
} from './sinks/prometheus.js'
export type { Sink, SinkContext } from './sinks/sink.js'
export { type TfjsCallback, type TfjsCallbackOptions, tfjsCallback } from './tfjs.js'
export { track } from './track.js'
export { EmissionsTracker } from './tracker.js'
export type { TrackerSignal, TrackerState } from './tracker-types.js'
export { JOULES_PER_KWH } from './units.js'
export { wattprintVersion } from './version.js'
export type { TrackerWarning, WarningCode } from './warnings.js'
