// The tracker's own public types, apart so that the tracker's file is its lifecycle.

// The published types stand alone: they compile for a consumer whose `lib` lacks esnext.disposable
// (TypeScript's default for target es2022) and for one who lists no `"types"` (TypeScript 6's default).
declare global {
  interface SymbolConstructor {
    /** Node defines it from 20.4 on; declared for consumers whose `lib` does not. */
    readonly asyncDispose: unique symbol
  }
}

/** Where a tracker is in its life. */
export type TrackerState = 'idle' | 'starting' | 'running' | 'stopping' | 'stopped'
