// What the inference wrappers need of a tracker: what the HTTP adapters need, an object that opens
// request spans (an EmissionsTracker, or a test's fake).

import type { RequestRecord } from '../model/requests.js'
import type { SpanOpener } from './http.js'

export type { SpanOpener }

/** Options every inference wrapper takes. */
export interface InferenceOptions {
  /** The span's name (per call); default: the runtime's name. */
  readonly name?: string
  /** The span's weight among concurrent spans (default 1). */
  readonly weight?: number
  /**
   * Called with each call's record once it is accounted; what it throws becomes an `INTEGRATION_FAILED`
   * warning of the tracker (its `warning` event and its stderr line).
   */
  readonly onRecord?: (record: RequestRecord) => void
}
