// The part of EmissionsTracker the inference wrappers use, described by shape: any object that opens
// request spans (the tracker itself, or a test's fake) can be wrapped around a runtime.

/** Counts a request ends with: tokens read and written, items served. */
export interface RequestCounts {
  /** Input tokens (the prompt). */
  readonly tokensIn?: number
  /** Output tokens generated. */
  readonly tokensOut?: number
  /** Items served: batch rows, inputs, requests. */
  readonly items?: number
}

/** One request's energy, split at its first output token, and per item and per token. */
export interface RequestRecord {
  readonly name: string
  readonly runId: string
  readonly startedAt: string
  readonly endedAt: string
  readonly durationS: number
  /** The span's share of the run's energy, PUE included. */
  readonly energyJ: number
  readonly emissionsKg: number
  /** Energy until the first output token; null when none was marked. */
  readonly prefillEnergyJ: number | null
  /** Energy after the first output token; null when none was marked. */
  readonly decodeEnergyJ: number | null
  readonly tokensIn: number | null
  readonly tokensOut: number | null
  readonly items: number | null
  readonly energyPerItemJ: number | null
  /** Prefill energy per input token. */
  readonly energyPerInputTokenJ: number | null
  /** The whole span's energy per output token. */
  readonly energyPerOutputTokenJ: number | null
  /** Decode energy per output token after the first. */
  readonly decodeEnergyPerOutputTokenJ: number | null
}

/** An open request: mark its first token, end it with its counts, await its record. */
export interface RequestSpan {
  readonly name: string
  /** Marks the first output token: energy before it is prefill, after it decode. Only the first call counts. */
  firstToken(): void
  /** Ends the span with its counts; returns the span. A second end() is a warning, ignored. */
  end(counts?: RequestCounts): RequestSpan
  /** Resolves with the span's record once the intervals it covers are accounted (never rejects). */
  readonly settled: Promise<RequestRecord>
}

/** What opens request spans: an EmissionsTracker, or anything shaped like its `request` method. */
export interface RequestOpener {
  /** Opens a span named `name`; `weight` scales its share of the intervals it overlaps. */
  request(name?: string, options?: { weight?: number }): RequestSpan
}

/** Options every inference wrapper takes. */
export interface MeasureOptions {
  /** The span's name (per call); default: the runtime's name. */
  readonly name?: string
  /** The span's weight among concurrent spans (default the tracker's, 1). */
  readonly weight?: number
  /** Called with each call's record once it is accounted; what it throws becomes a process warning. */
  readonly onRecord?: (record: RequestRecord) => void
}
