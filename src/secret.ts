import { inspect } from 'node:util'

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
  reveal(): string {
    return this.#value
  }
  toString(): string {
    return REDACTED
  }
  toJSON(): string {
    return REDACTED
  }
  [inspect.custom](): string {
    return REDACTED
  }
}
