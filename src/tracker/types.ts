// The tracker's own public types, apart so that the tracker's file is its lifecycle.

// The published types stand alone: they compile for a consumer whose `lib` lacks esnext.disposable
// (TypeScript's default for target es2022) and for one who lists no `"types"` (TypeScript 6's default).
declare global {
  interface SymbolConstructor {
    /** Node defines it from 20.4 on; declared for consumers whose `lib` does not. */
    readonly asyncDispose: unique symbol
  }
}

/**
 * The platform's AbortSignal wherever the consumer's types declare one (the DOM lib, @types/node), else
 * its two members that matter here: so the types need neither.
 */
export type TrackerSignal = typeof globalThis extends { AbortSignal: { prototype: infer S } }
  ? S
  : { readonly aborted: boolean; readonly reason: unknown }

/** Where a tracker is in its life. */
export type TrackerState = 'idle' | 'starting' | 'running' | 'stopping' | 'stopped'
