// wattprint's public API. Everything exported here is documented in the README. The integrations with
// runtimes and servers have subpaths of their own (wattprint/fastify, wattprint/onnxruntime …): see
// src/integrations/ and package.json's exports.

export type { Component, MeterMethod, MeterSource } from './components.js'
export type { Budget, ResolvedConfig, TrackerOptions } from './config.js'
export { envName } from './config.js'
export { bestEquivalent, describeEquivalent, type Equivalent, equivalents } from './equivalents.js'
export { WattprintError, type WattprintErrorCode } from './errors.js'
export {
  estimateMachinePower,
  type MachinePowerEstimate,
  type MachinePowerInput,
} from './estimates/machine-power.js'
export type { BudgetEvent, Listener, Prediction, SampleEvent, TrackerEvents } from './events.js'
export { formatEnergy, formatMass, summaryLine } from './format.js'
export type { SpanOpener } from './integrations/http.js'
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
