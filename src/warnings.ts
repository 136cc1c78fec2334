/** Kinds of warning a tracker reports. */
export type WarningCode =
  | 'RAPL_UNREADABLE'
  | 'CPU_UNKNOWN'
  | 'GPU_NOT_FOUND'
  | 'GPU_UNAVAILABLE'
  | 'LOCATION_UNKNOWN'
  | 'NO_COUNTRY_FIGURE'
  | 'LOCATION_GUESSED'
  | 'CLOUD_REGION_UNKNOWN'
  | 'LIVE_INTENSITY_FAILED'
  | 'METER_READ_FAILED'
  | 'METER_RECOVERED'
  | 'COUNTER_RESET'
  | 'COUNTER_IMPLAUSIBLE'
  | 'COUNTER_FROZEN'
  | 'GPU_DIE_ZERO'
  | 'WORKER_UNAVAILABLE'
  | 'WORKER_FAILED'
  | 'ACCOUNTING_FAILED'
  | 'SNAPSHOT_TIMEOUT'
  | 'CSV_BACKED_UP'
  | 'CSV_ROW_CUT'
  | 'CSV_MIGRATED'
  | 'CSV_WRITE_FAILED'
  | 'CHECKPOINT_FAILED'
  | 'SINK_FAILED'
  | 'RUN_RECOVERED'
  | 'NOT_RUNNING'
  | 'ALREADY_STARTED'
  | 'UNKNOWN_TASK'
  | 'TASK_RESTARTED'
  | 'START_FAILED'
  | 'ATTRIBUTION_UNAVAILABLE'
  | 'ATTRIBUTION_SHARED'
  | 'INVALID_ARGUMENT'
  | 'REQUESTS_OPEN'
  | 'ROUTE_LABELS_CAPPED'

/** Something the tracker could not do as asked; the run goes on. */
export interface TrackerWarning {
  readonly code: WarningCode
  readonly message: string
}
