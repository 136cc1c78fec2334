import type { Component } from '../core/components.js'

/**
 * What a request consumed or produced, given when its span ends. The token counts have the names of the
 * run's totals (`inputTokens`, `outputTokens`, the CSV's `input_tokens` and `output_tokens`).
 */
export interface RequestCounts {
  /** Input (prompt) tokens. Formerly `tokensIn`, still read, with a `DEPRECATED_OPTION` warning. */
  readonly inputTokens?: number
  /** Output (generated) tokens. Formerly `tokensOut`, still read, with a `DEPRECATED_OPTION` warning. */
  readonly outputTokens?: number
  /** Items served: the batch size of an inference call, images classified … */
  readonly items?: number
  /** @deprecated use inputTokens (the same count). */
  readonly tokensIn?: number
  /** @deprecated use outputTokens (the same count). */
  readonly tokensOut?: number
}

/** How a span ends: its counts, and the name it goes by when known only at the end (an HTTP route). */
export interface RequestEnd extends RequestCounts {
  /** Renames the span (the route, once the request was routed). */
  readonly name?: string
  /**
   * The request failed (the call threw, the response was a 5xx or never finished): its record says
   * `failed: true`, and it is counted apart from the requests served (`failedRequests`), never among them.
   */
  readonly failed?: boolean
}

/** A request's share of the run, once the intervals it covers are accounted. */
export interface RequestRecord {
  /** The span's name: the route of an HTTP request, the model of a call. */
  readonly name: string
  /** Whether the request failed (see RequestEnd.failed): not among the run's `requests`. */
  readonly failed: boolean
  /** The id of the run whose tracker measured the request. */
  readonly runId: string
  /** ISO 8601 UTC. */
  readonly startedAt: string
  /** ISO 8601 UTC time the span ended. */
  readonly endedAt: string
  /** Seconds from the span's start to its end. */
  readonly durationS: number
  /** Its share of the run's energy, J, PUE included (as the CSV's energy_consumed, in joules). */
  readonly energyJ: number
  /** Its share of the run's energy by component, J, PUE included. */
  readonly energyJByComponent: Readonly<Record<Component, number>>
  /** kg CO2e: its share of each interval's emissions. */
  readonly emissionsKg: number
  /** Energy before `firstToken()` (prefill), J; null when it was never called. */
  readonly prefillEnergyJ: number | null
  /** Energy from `firstToken()` to the end (decode), J; null when it was never called. */
  readonly decodeEnergyJ: number | null
  /** Input (prompt) tokens, as the span's end gave them; null when not given. */
  readonly inputTokens: number | null
  /** Output (generated) tokens, as the span's end gave them; null when not given. */
  readonly outputTokens: number | null
  /** Items served (a batch's size, images classified …), as the span's end gave them; null when not given. */
  readonly items: number | null
  /** energyJ ÷ items. */
  readonly energyPerItemJ: number | null
  /** prefillEnergyJ ÷ inputTokens. */
  readonly energyPerInputTokenJ: number | null
  /** energyJ ÷ outputTokens: the whole response per output token, as ML.ENERGY reports it. */
  readonly energyPerOutputTokenJ: number | null
  /** decodeEnergyJ ÷ (outputTokens − 1): the first token comes out of prefill. */
  readonly decodeEnergyPerOutputTokenJ: number | null
  /** @deprecated use inputTokens (the same count). */
  readonly tokensIn: number | null
  /** @deprecated use outputTokens (the same count). */
  readonly tokensOut: number | null
}

/** The requests of a run so far, as the record and the sample events give them. */
export interface RequestTotals {
  /** Requests settled (their every interval accounted) that did not fail. */
  readonly requests: number
  /** Requests settled that failed, and their energy, J, PUE included: apart from the rest. */
  readonly failedRequests: number
  /** The failed requests' energy, J, PUE included. */
  readonly failedRequestEnergyJ: number
  /** Input tokens of the settled requests that did not fail. */
  readonly inputTokens: number
  /** Output tokens of the settled requests that did not fail. */
  readonly outputTokens: number
  /** Items of the settled requests that did not fail. */
  readonly items: number
  /** The settled requests' energy, J, PUE included. */
  readonly requestEnergyJ: number
  /** The energy of the settled requests that gave output tokens, J: what energy per output token divides. */
  readonly tokenEnergyJ: number
  /** Energy of the instants no request was open, J, PUE included, since the first request opened. */
  readonly idleJ: number
}

/** The request figures of a record or a sample event. */
export interface RequestFields {
  /**
   * Requests measured (tracker.request, measure, the runtime wrappers, the HTTP adapters) that did not
   * fail; null when none was opened.
   */
  readonly requests: number | null
  /**
   * Requests that failed (a call that threw, a 5xx or unfinished response, `end({ failed: true })`):
   * never among `requests`, nor their tokens among the tokens. Not a CSV column.
   */
  readonly failedRequests: number | null
  /** The failed requests' energy, J, PUE included: spent, but on nothing served. Not a CSV column. */
  readonly failedRequestEnergyJ: number | null
  /** Input (prompt) tokens of the requests that did not fail, in all; null when no request was opened. */
  readonly inputTokens: number | null
  /** Output (generated) tokens of the requests that did not fail, in all; null when no request was opened. */
  readonly outputTokens: number | null
  /** The requests' energy ÷ their number, J, PUE included. */
  readonly energyPerRequestJ: number | null
  /** The energy of the requests that gave output tokens ÷ those tokens, J, PUE included. */
  readonly energyPerOutputTokenJ: number | null
  /**
   * The energy of the instants no request was open since the first one opened, J, PUE included: with the
   * requests' and the failed requests' energies it adds up to what was measured since then. Not a CSV
   * column.
   */
  readonly energyBetweenRequestsJ: number | null
}
