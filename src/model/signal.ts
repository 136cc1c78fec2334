/**
 * The platform's AbortSignal wherever the consumer's types declare one (the DOM lib, @types/node), else
 * its two members that matter here: so the types need neither.
 */
export type TrackerSignal = typeof globalThis extends {
  /** The platform's AbortSignal class, where the consumer's types declare one. */
  AbortSignal: {
    /** What an AbortSignal instance is: the type the signal has. */
    prototype: infer S
  }
}
  ? S
  : {
      /** Whether the signal was aborted. */
      readonly aborted: boolean
      /** Why it was aborted (tracker.signal's: the budget's message); undefined while it is not. */
      readonly reason: unknown
    }
