/** What a LineSplitter yields: a complete line, or the news that one was dropped. */
export type SplitLine =
  | { kind: 'line', text: string }
  | { kind: 'too_long', bytes: number }
  | { kind: 'invalid_utf8' }

export interface LineSplitterInit {
  /** Longest line kept, in bytes without the "\n". Longer lines are dropped as they stream past, never held whole. */
  maxLineBytes: number
}

const NEWLINE = 0x0a
const CARRIAGE_RETURN = 0x0d

/**
 * Cuts a byte stream into "\n"-terminated UTF-8 lines. A line split across
 * chunks is carried over until its end arrives; a trailing "\r" is removed.
 * Memory is bounded by maxLineBytes: past it, the line's bytes are counted and
 * discarded until its "\n", and one `too_long` item reports it.
 */
export class LineSplitter {
  private readonly maxLineBytes: number
  private readonly decoder = new TextDecoder('utf-8', { fatal: true })
  private pending: Uint8Array[] = []
  private pendingBytes = 0
  /** Bytes of the current line dropped so far; -1 while the line is being kept. */
  private droppedBytes = -1

  constructor (init: LineSplitterInit) {
    this.maxLineBytes = init.maxLineBytes
  }

  /** Bytes of the current, unfinished line held in memory; never more than maxLineBytes. */
  get bufferedBytes (): number {
    return this.pendingBytes
  }

  /** Feeds a chunk and yields every line it completes. */
  * push (chunk: Uint8Array): Generator<SplitLine> {
    let start = 0
    while (start <= chunk.length) {
      const end = chunk.indexOf(NEWLINE, start)
      if (end === -1) {
        this.keep(chunk.subarray(start))
        return
      }
      yield * this.finish(chunk.subarray(start, end))
      start = end + 1
    }
  }

  /** Ends the stream: a last line without "\n" still counts. */
  * end (): Generator<SplitLine> {
    if (this.pendingBytes > 0 || this.droppedBytes >= 0) yield * this.finish(new Uint8Array(0))
  }

  private keep (piece: Uint8Array): void {
    if (piece.length === 0) return
    if (this.droppedBytes >= 0) {
      this.droppedBytes += piece.length
    } else if (this.pendingBytes + piece.length > this.maxLineBytes + 1) {
      // (+1: the line may still end in a "\r" that finish() strips.)
      this.droppedBytes = this.pendingBytes + piece.length
      this.pending = []
      this.pendingBytes = 0
    } else {
      this.pending.push(piece)
      this.pendingBytes += piece.length
    }
  }

  private * finish (last: Uint8Array): Generator<SplitLine> {
    if (this.droppedBytes >= 0) {
      const bytes = this.droppedBytes + last.length
      this.droppedBytes = -1
      yield { kind: 'too_long', bytes }
      return
    }
    let length = this.pendingBytes + last.length
    let line: Uint8Array
    if (this.pending.length === 0) {
      line = last
    } else {
      line = new Uint8Array(length)
      let offset = 0
      for (const piece of this.pending) {
        line.set(piece, offset)
        offset += piece.length
      }
      line.set(last, offset)
      this.pending = []
      this.pendingBytes = 0
    }
    if (length > 0 && line[length - 1] === CARRIAGE_RETURN) length--
    if (length > this.maxLineBytes) {
      yield { kind: 'too_long', bytes: length }
      return
    }
    try {
      yield { kind: 'line', text: this.decoder.decode(line.subarray(0, length)) }
    } catch {
      yield { kind: 'invalid_utf8' }
    }
  }
}
