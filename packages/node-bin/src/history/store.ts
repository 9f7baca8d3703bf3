import { closeSync, mkdirSync, openSync, readFileSync, readdirSync, renameSync, writeFileSync, writeSync } from 'node:fs'
import { createHash } from 'node:crypto'
import { join } from 'node:path'
import type { HistoryRange } from '@p2p-node/protocol'
import { fromJson, messageId, toJson } from './message.js'
import type { HistoryMessage } from './message.js'

export interface HistoryLimits {
  /** Messages kept per topic; 0 keeps none (and serves none). */
  size: number
  /** How long a message is kept, ms. */
  ttlMs: number
  /** Bytes of message data kept per topic. */
  maxBytes: number
}

/** One entry of a summary: origin, sequence number, when the answering node received it. */
export type SummaryEntry = [from: string, seqno: bigint, receivedAt: number]

/** Message ids remembered per topic, to deliver each message once, beyond what is kept. */
const MIN_SEEN_PER_TOPIC = 10_000

class TopicLog {
  /**
   * Kept messages, oldest first, from index `first` on. Evicted ones are
   * cleared, and cut off the array once they are half of it, rather than the
   * array being copied at every message once the topic is full.
   */
  entries: Array<HistoryMessage | undefined> = []
  first = 0
  readonly byId = new Map<string, HistoryMessage>()
  bytes = 0
  /** Ids of every message seen (kept or not), each with the number of its latest sighting. */
  readonly seen = new Map<string, number>()
  /**
   * The ids in the order they were seen: sighting n is at sightings[n - cut].
   * Those before index `oldest` are forgotten and cleared, and cut off once
   * they are half of the array. An id unseen stays in it, stale, and one seen
   * again is in it twice: only an id's latest sighting keeps it. (A Set's own
   * order would do, but each delete of its first entry leaves a hole that the
   * next iterator walks past: dropping the oldest id at every message cost
   * about 4 µs with 10 000 ids, a tenth of that with this queue.)
   */
  private sightings: Array<string | undefined> = []
  private cut = 0
  private oldest = 0
  /** Lines in the topic's file (its header included), to know when to compact it. */
  fileLines = 0
  /** The topic's file, open for appending. */
  fd?: number

  get count (): number {
    return this.entries.length - this.first
  }

  /** The kept messages, oldest first. */
  kept (): HistoryMessage[] {
    return this.entries.slice(this.first) as HistoryMessage[]
  }

  /** Remembers that `id` was seen; forgets the ids seen longest ago beyond `limit`. */
  see (id: string, limit: number): void {
    this.seen.set(id, this.cut + this.sightings.length)
    this.sightings.push(id)
    while (this.seen.size > limit) {
      const forgotten = this.sightings[this.oldest] as string
      if (this.seen.get(forgotten) === this.cut + this.oldest) this.seen.delete(forgotten)
      this.sightings[this.oldest++] = undefined
    }
    if (this.sightings.length - this.oldest > 2 * limit) {
      // More stale sightings than live ones (a parent that reads too slowly has
      // most messages unseen): keep the live ones only, numbered afresh.
      const live = this.sightings.filter((seen, at) => at >= this.oldest && this.seen.get(seen as string) === this.cut + at) as string[]
      this.cut += this.sightings.length
      this.sightings = live
      this.oldest = 0
      live.forEach((seen, at) => { this.seen.set(seen, this.cut + at) })
    } else if (this.oldest > 0 && 2 * this.oldest >= this.sightings.length) {
      this.sightings = this.sightings.slice(this.oldest)
      this.cut += this.oldest
      this.oldest = 0
    }
  }
}

/**
 * The recent messages of each topic: what this node serves to peers catching
 * up, and the ids of every message it delivered, so that none is delivered
 * twice (live and replayed). Bounded per topic by count, age and bytes. With a
 * directory, kept messages are also appended to one file per topic and read
 * back at start.
 */
export class HistoryStore {
  private readonly topics = new Map<string, TopicLog>()
  private readonly seenLimit: number

  private dir: string | undefined

  /** `warn` hears of files that cannot be written; the store then stops writing them. */
  constructor (private readonly limits: HistoryLimits, dir?: string, private readonly warn: (message: string) => void = () => {}) {
    this.dir = dir
    this.seenLimit = Math.max(MIN_SEEN_PER_TOPIC, 4 * limits.size)
    if (dir !== undefined) this.load(dir)
  }

  /** Whether a message with this id was seen on the topic. */
  has (topic: string, id: string): boolean {
    return this.topics.get(topic)?.seen.has(id) ?? false
  }

  /** Records a message; false (and nothing changes) if it was seen before. */
  add (message: HistoryMessage): boolean {
    const log = this.log(message.topic)
    const id = messageId(message.from, message.seqno)
    if (log.seen.has(id)) return false
    log.see(id, this.seenLimit)
    // Kept already: a message that was dropped on its way to the parent, now replayed.
    if (this.limits.size === 0 || log.byId.has(id)) return true
    log.entries.push(message)
    log.byId.set(id, message)
    log.bytes += message.data.byteLength
    this.evict(log, Date.now())
    if (this.dir !== undefined) {
      try {
        this.append(message.topic, log, message)
      } catch (err) {
        this.warn(`cannot write the history under ${this.dir} (${(err as Error).message}); history is kept in memory only from now on`)
        this.close()
        this.dir = undefined
      }
    }
    return true
  }

  /** Forgets that a message was seen, so that it can be delivered (once) again. */
  unsee (topic: string, id: string): void {
    this.topics.get(topic)?.seen.delete(id)
  }

  get (topic: string, id: string): HistoryMessage | undefined {
    return this.topics.get(topic)?.byId.get(id)
  }

  /** The newest `limit` messages received at or after `since`, oldest first. */
  summary (topic: string, range: HistoryRange): SummaryEntry[] {
    const log = this.topics.get(topic)
    if (log === undefined) return []
    this.evict(log, Date.now())
    let entries = log.kept()
    if (range.since !== undefined) {
      const since = range.since
      entries = entries.filter((entry) => entry.receivedAt >= since)
    }
    if (range.limit !== undefined && entries.length > range.limit) entries = entries.slice(entries.length - range.limit)
    return entries.map((entry) => [entry.from, entry.seqno, entry.receivedAt])
  }

  /** Closes the files. */
  close (): void {
    for (const log of this.topics.values()) {
      if (log.fd !== undefined) closeSync(log.fd)
      log.fd = undefined
    }
  }

  private log (topic: string): TopicLog {
    let log = this.topics.get(topic)
    if (log === undefined) {
      log = new TopicLog()
      this.topics.set(topic, log)
    }
    return log
  }

  private evict (log: TopicLog, now: number): void {
    for (let entry = log.entries[log.first]; entry !== undefined; entry = log.entries[log.first]) {
      const over = log.count > this.limits.size || log.bytes > this.limits.maxBytes
      if (!over && now - entry.receivedAt <= this.limits.ttlMs) break
      log.bytes -= entry.data.byteLength
      log.byId.delete(messageId(entry.from, entry.seqno))
      log.entries[log.first++] = undefined
    }
    if (log.first > 0 && 2 * log.first >= log.entries.length) {
      log.entries = log.entries.slice(log.first)
      log.first = 0
    }
  }

  // Persistence: one file per topic, named by the topic's hash. Its first line
  // is {"topic": …}; each further line a message in its JSON form. Appends are
  // synchronous (small writes to the page cache); a file is rewritten with only
  // the kept messages once it has twice as many lines as may be kept.

  private file (topic: string): string {
    return join(this.dir as string, `${createHash('sha256').update(topic).digest('hex')}.jsonl`)
  }

  private append (topic: string, log: TopicLog, message: HistoryMessage): void {
    if (log.fileLines > 2 * this.limits.size) {
      this.rewrite(topic, log)
      return
    }
    const header = log.fileLines === 0 ? `${JSON.stringify({ topic })}\n` : ''
    log.fd ??= openSync(this.file(topic), 'a', 0o600)
    writeSync(log.fd, `${header}${JSON.stringify(toJson(message))}\n`)
    log.fileLines += header === '' ? 1 : 2
  }

  private rewrite (topic: string, log: TopicLog): void {
    const path = this.file(topic)
    if (log.fd !== undefined) closeSync(log.fd)
    log.fd = undefined
    const lines = [JSON.stringify({ topic }), ...log.kept().map((entry) => JSON.stringify(toJson(entry)))]
    writeFileSync(`${path}.tmp`, `${lines.join('\n')}\n`, { mode: 0o600 })
    renameSync(`${path}.tmp`, path)
    log.fileLines = lines.length
  }

  private load (dir: string): void {
    mkdirSync(dir, { recursive: true, mode: 0o700 })
    const now = Date.now()
    for (const name of readdirSync(dir)) {
      if (!name.endsWith('.jsonl')) continue
      const lines = readFileSync(join(dir, name), 'utf8').split('\n')
      let topic: unknown
      try {
        topic = (JSON.parse(lines[0] ?? '') as { topic?: unknown }).topic
      } catch {}
      if (typeof topic !== 'string') continue
      const log = this.log(topic)
      for (const line of lines.slice(1)) {
        let message: HistoryMessage | undefined
        try {
          message = fromJson(topic, JSON.parse(line))
        } catch {}
        // A line cut short by a crash, or a message that has expired since.
        if (message === undefined || now - message.receivedAt > this.limits.ttlMs) continue
        const id = messageId(message.from, message.seqno)
        if (log.seen.has(id)) continue
        log.see(id, this.seenLimit)
        log.entries.push(message)
        log.byId.set(id, message)
        log.bytes += message.data.byteLength
      }
      this.evict(log, now)
      this.rewrite(topic, log)
    }
  }
}
