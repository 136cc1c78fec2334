// wattprint's public API. Everything exported here is documented in README.md or docs/. The integrations with
// runtimes and servers have subpaths of their own (wattprint/fastify, wattprint/onnxruntime …): see
// src/integrations/ and package.json's exports.

export { bestEquivalent, describeEquivalent, type Equivalent, equivalents } from './accounting/equivalents.js'
export type { AttributionDetection } from './attribution/detect.js'
export type { ResolvedAttribution } from './attribution/plan.js'
export type { IdleMode } from './attribution/split.js'
export type { ResolvedConfig } from './config/config.js'
export { envName } from './config/config.js'
export type {
  Attribution,
  Budget,
  ForecastOptions,
  TrackerOptions,
} from './config/options.js'
export type { Component, MeterComponent, MeterMethod, MeterSource } from './core/components.js'
export {
  type ForecastErrorCode,
  OptionError,
  WattprintError,
  type WattprintErrorCode,
} from './core/errors.js'
export type { LogLevel } from './core/log.js'
export { JOULES_PER_KWH } from './core/units.js'
export { wattprintVersion } from './core/version.js'
export type { TrackerWarning, WarningCode } from './core/warnings.js'
export { jobResourceAttributes } from './distributed/launcher.js'
export type { DistributedMode } from './distributed/role.js'
export {
  estimateMachinePower,
  type MachinePowerEstimate,
  type MachinePowerInput,
} from './estimates/machine-power.js'
export type { ComponentFit, ModelVariant, PowerModel, VariantName } from './estimates/power-model.js'
export type { EmbodiedHostOption, EmbodiedOption, FunctionalUnitOption } from './footprint/options.js'
export type { SpanOpener } from './integrations/http.js'
export {
  type StoppableModel,
  type TfjsCallback,
  type TfjsCallbackOptions,
  tfjsCallback,
} from './integrations/tfjs.js'
export { ForecastError } from './intensity/forecast/forecast.js'
export type { ForecastSignal, ForecastSlot } from './intensity/forecast/provider.js'
export type {
  ForecastOnlyOption,
  ForecastOption,
  ForecastPlaceOption,
  ForecastProviderName,
} from './intensity/forecast/select.js'
export type { IntensityProvider, IntensityReading } from './intensity/provider.js'
export { WORLD_AVERAGE_G_PER_KWH } from './intensity/provider.js'
export {
  type ElectricityMapsOptions,
  electricityMaps,
  type IntensityOption,
  type LiveIntensityOption,
  type UkCarbonIntensityOptions,
  ukCarbonIntensity,
} from './intensity/sources.js'
export type { UkArea } from './intensity/uk-carbon-intensity.js'
export { cpuPowerAtLoad } from './meters/cpu-estimate.js'
export { guessModuleCount, ramPowerW } from './meters/ram-estimate.js'
export type { BudgetEvent, Prediction, SampleEvent, TrackerEvents } from './model/events.js'
export type { JobFields, JobPlace, JobRole, LauncherName } from './model/job.js'
export type {
  ComponentRecord,
  EmissionsRecord,
  EmissionsScope,
  Measurement,
  MeterRecord,
  RunStatus,
  TaskRecord,
  WallRecord,
} from './model/record.js'
export type { RequestCounts, RequestEnd, RequestFields, RequestRecord } from './model/requests.js'
export type { TrackerSignal } from './model/signal.js'
export {
  CSV_COLUMNS,
  type CsvColumn,
  type CsvFileSink,
  type CsvSinkOptions,
  csvSink,
} from './output/csv/sink.js'
export { summaryLine } from './output/format.js'
export { type JsonlSink, type JsonlSinkOptions, jsonlSink } from './output/jsonl.js'
export {
  type MemorySink,
  type MemorySinkOptions,
  type MemorySinkRun,
  memorySink,
} from './output/memory.js'
export {
  type MeterLike,
  type ObservableLike,
  type ObservableResultLike,
  otelSink,
} from './output/otel.js'
export {
  type PrometheusSink,
  type PrometheusSinkOptions,
  prometheusSink,
  type RegistryLike,
} from './output/prometheus.js'
export { formatEnergy, formatMass } from './output/quantities.js'
export type { Sink, SinkContext } from './output/sink.js'
export type { CountOf, Measured, MeasureOptions } from './requests/measure.js'
export type { RequestSpan } from './requests/span.js'
export {
  type BestWindow,
  type BestWindowOptions,
  bestWindow,
  type RegionWindow,
} from './scheduling/best-window.js'
export { type ForecastLocation, forecast } from './scheduling/forecast.js'
export { searchWindow, type WindowChoice, type WindowQuery } from './scheduling/window.js'
export { type Detection, detect, type ModelDetection, type ModelPower } from './tracker/detect.js'
export type { Listener } from './tracker/events.js'
export { track } from './tracker/track.js'
export { EmissionsTracker } from './tracker/tracker.js'
export type { TrackerState } from './tracker/types.js'
