/**
 * The platform's AbortSignal wherever the consumer's types declare one (the DOM lib, @types/node), else
 * its two members that matter here: so the types need neither.
 */
export type TrackerSignal = typeof globalThis extends { AbortSignal: { prototype: infer S } }
  ? S
  : { readonly aborted: boolean; readonly reason: unknown }
