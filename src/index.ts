// wattprint's public API. Everything exported here is documented in the README. The integrations with
// runtimes and servers have subpaths of their own (wattprint/fastify, wattprint/onnxruntime …): see
// src/integrations/ and package.json's exports.

export { bestEquivalent, describeEquivalent, type Equivalent, equivalents } from './accounting/equivalents.js'
export type {
  ComponentRecord,
  EmissionsRecord,
  Measurement,
  MeterRecord,
  RunStatus,
  TaskRecord,
} from './accounting/record.js'
export type { Budget, ResolvedConfig, TrackerOptions } from './config/config.js'
export { envName } from './config/config.js'
export type { Component, MeterMethod, MeterSource } from './core/components.js'
export { WattprintError, type WattprintErrorCode } from './core/errors.js'
export type { LogLevel } from './core/log.js'
export { JOULES_PER_KWH } from './core/units.js'
export { wattprintVersion } from './core/version.js'
export type { TrackerWarning, WarningCode } from './core/warnings.js'
export {
  estimateMachinePower,
  type MachinePowerEstimate,
  type MachinePowerInput,
} from './estimates/machine-power.js'
export type { SpanOpener } from './integrations/http.js'
export { type TfjsCallback, type TfjsCallbackOptions, tfjsCallback } from './integrations/tfjs.js'
export {
  ForecastError,
  type ForecastLocation,
  forecast,
} from './intensity/forecast/forecast.js'
export type { ForecastSignal, ForecastSlot } from './intensity/forecast/provider.js'
export type { IntensityProvider, IntensityReading } from './intensity/provider.js'
export { WORLD_AVERAGE_G_PER_KWH } from './intensity/provider.js'
export { cpuPowerAtLoad } from './meters/cpu-estimate.js'
export { guessModuleCount, ramPowerW } from './meters/ram-estimate.js'
export { CSV_COLUMNS, type CsvColumn } from './output/csv/sink.js'
export { formatEnergy, formatMass, summaryLine } from './output/format.js'
export { type MeterLike, otelSink } from './output/otel.js'
export {
  type PrometheusSink,
  type PrometheusSinkOptions,
  prometheusSink,
  type RegistryLike,
} from './output/prometheus.js'
export type { Sink, SinkContext } from './output/sink.js'
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
export type { BudgetEvent, Listener, Prediction, SampleEvent, TrackerEvents } from './tracker/events.js'
export { track } from './tracker/track.js'
export { EmissionsTracker } from './tracker/tracker.js'
export type { TrackerSignal, TrackerState } from './tracker/types.js'
