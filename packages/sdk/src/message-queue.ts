/**
 * An async iterator over pushed values that ends when closed. Values pushed
 * while nobody awaits are buffered.
 */
export class MessageQueue<T> implements AsyncIterableIterator<T> {
  private readonly buffered: T[] = []
  private waiting: ((result: IteratorResult<T>) => void) | undefined
  private closed = false

  constructor (private readonly onClose: () => void = () => {}) {}

  push (value: T): void {
    if (this.closed) return
    if (this.waiting !== undefined) {
      const resolve = this.waiting
      this.waiting = undefined
      resolve({ value, done: false })
    } else {
      this.buffered.push(value)
    }
  }

  /** Ends the iteration once the buffered values are consumed. */
  close (): void {
    if (this.closed) return
    this.closed = true
    this.onClose()
    if (this.waiting !== undefined) {
      const resolve = this.waiting
      this.waiting = undefined
      resolve({ value: undefined, done: true })
    }
  }

  async next (): Promise<IteratorResult<T>> {
    if (this.buffered.length > 0) return { value: this.buffered.shift() as T, done: false }
    if (this.closed) return { value: undefined, done: true }
    return await new Promise((resolve) => { this.waiting = resolve })
  }

  async return (): Promise<IteratorResult<T>> {
    this.buffered.length = 0
    this.close()
    return { value: undefined, done: true }
  }

  [Symbol.asyncIterator] (): AsyncIterableIterator<T> {
    return this
  }
}
