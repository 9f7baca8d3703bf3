/**
 * A command's time limit. It makes an AbortSignal only when something asks
 * for one: `AbortSignal.timeout` with an abort listener costs about 6 µs and
 * leaves work for the collector, more than the rest of a small direct send,
 * which on its usual path needs only the instant itself.
 */
export class Deadline {
  /** The instant, on performance.now()'s clock. */
  readonly at: number
  private aborter: AbortSignal | undefined

  constructor (readonly timeoutMs: number) {
    this.at = performance.now() + timeoutMs
  }

  get expired (): boolean {
    return performance.now() >= this.at
  }

  /** Aborts, with the same TimeoutError as `AbortSignal.timeout`, once the time is up. */
  get signal (): AbortSignal {
    this.aborter ??= AbortSignal.timeout(Math.max(0, Math.ceil(this.at - performance.now())))
    return this.aborter
  }

  /** Throws the TimeoutError if the time is up. */
  throwIfExpired (): void {
    if (this.expired) throw timeoutError()
  }
}

/** What `AbortSignal.timeout` aborts with. */
export function timeoutError (): DOMException {
  return new DOMException('The operation was aborted due to timeout', 'TimeoutError')
}
