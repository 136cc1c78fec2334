const REDACTED = '[redacted]'

/**
 * A credential (an API token) that cannot be printed by accident: String(), JSON.stringify(),
 * console.log() and util.inspect() all show `[redacted]`. Only reveal() gives the value, for the one
 * request header that needs it.
 */
export class Secret {
  readonly #value: string
  constructor(value: string) {
    this.#value = value
  }
  /** The credential itself, for the request header that carries it; never log it. */
  reveal(): string {
    return this.#value
  }
  /** `[redacted]`, so that String() and template strings never show the credential. */
  toString(): string {
    return REDACTED
  }
  /** `[redacted]`, so that JSON.stringify() never writes the credential. */
  toJSON(): string {
    return REDACTED
  }
}

// util.inspect's hook, set on the prototype rather than declared in the class so that the published types
// need no `node:util` (a TypeScript 6+ consumer without `"types": ["node"]` could not resolve it).
Object.defineProperty(Secret.prototype, Symbol.for('nodejs.util.inspect.custom'), {
  value: (): string => REDACTED,
})
