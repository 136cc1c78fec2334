import { drawStatus, eraseStatus, printErr, relayOutput } from '../../core/terminal.js'

/**
 * Reads a command's terminal output for what matters to a line drawn beside it: whether the command
 * draws in place (a carriage return that is not a line end, a backspace, an escape sequence that moves
 * the cursor or erases: tqdm, Keras, pip, docker) and whether the cursor is at the start of a line.
 * Colours and other escape sequences that only style or label text (SGR, OSC titles and links) are not
 * drawing in place. A sequence cut between two reads is followed across them.
 */
export class OutputScanner {
  #state: 'text' | 'cr' | 'esc' | 'csi' | 'osc' | 'osc-esc' = 'text'
  /** The command has drawn in place at least once. */
  drawsInPlace = false
  /** The last thing written ended a line (or nothing was written yet). */
  atLineStart = true

  scan(bytes: Uint8Array): void {
    for (const byte of bytes) this.#byte(byte)
  }

  #byte(byte: number): void {
    switch (this.#state) {
      case 'cr':
        if (byte === 0x0a) {
          this.#state = 'text'
          this.atLineStart = true
          return
        }
        if (byte === 0x0d) return
        // A carriage return then more on the same line: the line is being redrawn.
        this.drawsInPlace = true
        this.#state = 'text'
        this.#byte(byte)
        return
      case 'esc':
        if (byte === 0x5b) this.#state = 'csi'
        else if (byte === 0x5d) this.#state = 'osc'
        else {
          // ESC 7 / ESC 8 (save, restore the cursor), ESC M (up a line) and the rest move or redraw.
          this.drawsInPlace = true
          this.#state = 'text'
        }
        return
      case 'csi':
        // Parameters and intermediates (0x20–0x3f) until the final byte (0x40–0x7e); `m` only colours.
        if (byte >= 0x40 && byte <= 0x7e) {
          if (byte !== 0x6d) this.drawsInPlace = true
          this.#state = 'text'
        }
        return
      case 'osc':
        if (byte === 0x07) this.#state = 'text'
        else if (byte === 0x1b) this.#state = 'osc-esc'
        return
      case 'osc-esc':
        this.#state = byte === 0x5c ? 'text' : 'osc'
        return
      default:
        if (byte === 0x0d) this.#state = 'cr'
        else if (byte === 0x1b) this.#state = 'esc'
        else if (byte === 0x08) this.drawsInPlace = true
        else this.atLineStart = byte === 0x0a
    }
  }
}

/**
 * wattprint run's live status line on a terminal it shares with the command. It is drawn only at the
 * start of a line, erased before the command's output is written and drawn again after it; and once the
 * command draws in place itself (a progress bar's carriage returns), it is erased for good, so that the
 * two never overwrite each other. (Where the command writes to the same terminal without wattprint
 * reading it, where its cursor is cannot be known: run does not draw the line then.)
 */
export class StatusLine {
  readonly #scanner = new OutputScanner()
  #text = ''
  #off: boolean

  constructor(enabled: boolean) {
    this.#off = !enabled
  }

  /** Whether the line is drawn at all (not turned off, and the command has not drawn in place). */
  get drawing(): boolean {
    return !this.#off
  }

  /** Draws `text` as the status line, when it may be drawn now. */
  draw(text: string): void {
    this.#text = text
    if (this.#off || !this.#scanner.atLineStart) return
    drawStatus(text)
  }

  /** Erases the line if it is drawn. */
  erase(): void {
    eraseStatus()
  }

  /** Stops drawing for the rest of the run. */
  stop(): void {
    this.erase()
    this.#off = true
  }

  /**
   * Lines of wattprint's own on stderr, the status line erased: after a line end of their own where the
   * command left its last line unfinished (a prompt, a progress bar without its final newline).
   */
  say(...lines: readonly string[]): void {
    if (!this.#scanner.atLineStart) {
      printErr('')
      this.#scanner.atLineStart = true
    }
    printErr(...lines)
  }

  /** The command's output, read from its terminal: written to wattprint's, around the status line. */
  output(bytes: Uint8Array): void {
    relayOutput(bytes)
    this.#scanner.scan(bytes)
    if (this.#scanner.drawsInPlace) this.#off = true
    else if (this.#text && !this.#off) this.draw(this.#text)
  }
}
