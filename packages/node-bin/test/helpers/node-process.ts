import { spawn } from 'node:child_process'
import type { ChildProcessWithoutNullStreams } from 'node:child_process'
import { existsSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { EventSchema, LineSplitter, decodeLine } from '@p2p-node/protocol'
import type { Event, ReadyEvent, SplitLine } from '@p2p-node/protocol'

/** The compiled executable every end-to-end test drives. Built by `pnpm build:exe`. */
export const BINARY = process.env.P2P_NODE_PATH ?? join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', '..', 'dist', 'p2p-node')

if (!existsSync(BINARY)) throw new Error(`${BINARY} does not exist: run \`pnpm build:exe\` first (\`pnpm test\` does it)`)

/** Default bound of every wait in these tests, ms. */
export const WAIT_MS = 10_000

export interface SpawnOptions {
  args?: string[]
  env?: NodeJS.ProcessEnv
  cwd?: string
  binary?: string
  /** Wait for `ready` before resolving. @default true */
  waitReady?: boolean
}

type AnyRecord = Record<string, any>

/**
 * One running p2p-node process. Every stdout line is parsed and checked against
 * the protocol's EventSchema; lines that fail are kept in `badLines` so a test
 * can assert there were none.
 */
export class NodeProcess {
  readonly proc: ChildProcessWithoutNullStreams
  readonly events: AnyRecord[] = []
  readonly badLines: string[] = []
  stderr = ''
  readonly exited: Promise<{ code: number | null, signal: NodeJS.Signals | null }>
  ready!: ReadyEvent
  private readonly waiters = new Set<{ match: (e: AnyRecord) => boolean, resolve: (e: AnyRecord) => void }>()
  /** Called for every event as it arrives (for tests that count many). */
  readonly listeners = new Set<(e: AnyRecord) => void>()
  private nextId = 1

  /** Keep every event in `events` (tests that count many events turn this off). @default true */
  keepEvents = true

  constructor (readonly label: string, options: SpawnOptions = {}) {
    this.proc = spawn(options.binary ?? BINARY, options.args ?? ['--host', '127.0.0.1'], {
      env: options.env ?? { ...process.env, P2P_NODE_TEST: '1' },
      cwd: options.cwd,
      stdio: ['pipe', 'pipe', 'pipe']
    })
    const splitter = new LineSplitter({ maxLineBytes: 64 * 1024 * 1024 })
    const onItem = (item: SplitLine): void => {
      if (item.kind !== 'line') {
        this.badLines.push(`<${item.kind}>`)
        return
      }
      const decoded = decodeLine(EventSchema, item.text)
      if (!decoded.ok) {
        this.badLines.push(item.text)
        return
      }
      const event: Event = decoded.value
      if (this.keepEvents) this.events.push(event)
      for (const listener of this.listeners) listener(event)
      for (const waiter of this.waiters) {
        if (waiter.match(event)) {
          this.waiters.delete(waiter)
          waiter.resolve(event)
        }
      }
    }
    this.proc.stdout.on('data', (chunk: Buffer) => { for (const item of splitter.push(chunk)) onItem(item) })
    // A line cut short at the end counts only if the process was not killed mid-write.
    this.proc.stdout.on('end', () => {
      const cut = [...splitter.end()]
      void this.exited.then(({ signal }) => { if (signal === null) for (const item of cut) onItem(item) })
    })
    this.proc.stderr.on('data', (chunk: Buffer) => { this.stderr = (this.stderr + chunk.toString()).slice(-20_000) })
    this.proc.stdin.on('error', () => {})
    this.exited = new Promise((resolve) => { this.proc.on('exit', (code, signal) => { resolve({ code, signal }) }) })
  }

  static async start (label: string, options: SpawnOptions = {}): Promise<NodeProcess> {
    const node = new NodeProcess(label, options)
    if (options.waitReady !== false) {
      node.ready = await node.waitFor((e) => e.type === 'ready', 'ready') as ReadyEvent
    }
    return node
  }

  get peerId (): string { return this.ready.peerId }
  /** The node's first address, with /p2p/<peerId>. */
  get addr (): string { return this.ready.addrs[0] as string }

  /** Writes raw text to stdin (no newline added). */
  write (text: string | Buffer): void {
    this.proc.stdin.write(text)
  }

  /** Sends a command with a fresh id and resolves with its reply (result or error). */
  async request (command: AnyRecord, timeoutMs = WAIT_MS): Promise<AnyRecord> {
    const id = `${this.label}-${this.nextId++}`
    this.write(JSON.stringify({ ...command, id }) + '\n')
    return await this.waitFor((e) => (e.type === 'result' || e.type === 'error') && e.id === id, `reply to ${command.type} #${id}`, timeoutMs)
  }

  /** Like request, but fails the test unless the reply is a result. */
  async ok (command: AnyRecord, timeoutMs = WAIT_MS): Promise<AnyRecord> {
    const reply = await this.request(command, timeoutMs)
    if (reply.type !== 'result') throw new Error(`${this.label}: ${command.type} failed: ${JSON.stringify(reply)}`)
    return reply
  }

  /**
   * Writes the `count` commands `command(i)` makes, each with the number `i`
   * as its id, keeping at most `inFlight` unanswered, as a client of a
   * reliable channel does. Resolves with the error replies once every command
   * was answered; rejects if the node exits, or after timeoutMs saying how
   * many were answered.
   */
  async pipeline (count: number, inFlight: number, command: (i: number) => AnyRecord, timeoutMs: number): Promise<AnyRecord[]> {
    let written = 0
    let answered = 0
    const failures: AnyRecord[] = []
    const pump = (): void => {
      for (; written < Math.min(count, answered + inFlight); written++) this.write(JSON.stringify({ ...command(written), id: written }) + '\n')
    }
    let listener: ((e: AnyRecord) => void) | undefined
    let timer: NodeJS.Timeout | undefined
    try {
      await Promise.race([
        new Promise<void>((resolve) => {
          listener = (e) => {
            if (typeof e.id !== 'number' || (e.type !== 'result' && e.type !== 'error')) return
            answered++
            if (e.type === 'error') failures.push(e)
            if (answered === count) resolve()
            else pump()
          }
          this.listeners.add(listener)
          pump()
        }),
        this.exited.then(() => { throw new Error(`${this.label} exited after ${answered} of ${count} commands were answered; stderr tail: ${this.stderr.slice(-1000)}`) }),
        new Promise((_resolve, reject) => { timer = setTimeout(() => { reject(new Error(`${this.label}: only ${answered} of ${count} commands answered within ${timeoutMs} ms`)) }, timeoutMs) })
      ])
    } finally {
      clearTimeout(timer)
      if (listener !== undefined) this.listeners.delete(listener)
    }
    return failures
  }

  /** Resolves with the first event (past or future) matching, or rejects after timeoutMs naming what was awaited. */
  async waitFor (match: (e: AnyRecord) => boolean, what: string, timeoutMs = WAIT_MS): Promise<AnyRecord> {
    const seen = this.events.find(match)
    if (seen !== undefined) return seen
    return await new Promise((resolve, reject) => {
      const waiter = {
        match,
        resolve: (e: AnyRecord) => {
          clearTimeout(timer)
          resolve(e)
        }
      }
      const timer = setTimeout(() => {
        this.waiters.delete(waiter)
        reject(new Error(`${this.label}: no ${what} within ${timeoutMs} ms; last events: ${JSON.stringify(this.events.slice(-5))}; stderr tail: ${this.stderr.slice(-1000)}`))
      }, timeoutMs)
      this.waiters.add(waiter)
      this.exited.then(() => {
        if (!this.waiters.has(waiter)) return
        this.waiters.delete(waiter)
        clearTimeout(timer)
        reject(new Error(`${this.label}: exited while waiting for ${what}; stderr tail: ${this.stderr.slice(-1000)}`))
      }, () => {})
    })
  }

  /** Every event of a type seen so far. */
  all (type: string): AnyRecord[] {
    return this.events.filter((e) => e.type === type)
  }

  /** Waits for the process to exit, failing after timeoutMs. */
  async waitExit (timeoutMs = WAIT_MS): Promise<{ code: number | null, signal: NodeJS.Signals | null }> {
    let timer: NodeJS.Timeout | undefined
    const timeout = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => { reject(new Error(`${this.label}: did not exit within ${timeoutMs} ms`)) }, timeoutMs)
    })
    try {
      return await Promise.race([this.exited, timeout])
    } finally {
      clearTimeout(timer)
    }
  }

  /** Ends the process however it can (for test cleanup). */
  async kill (): Promise<void> {
    if (this.proc.exitCode !== null || this.proc.signalCode !== null) return
    this.proc.kill('SIGKILL')
    await this.exited
  }
}

/** True while a process with this pid exists. */
export function isAlive (pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

/**
 * Polls `check` until it returns a value other than undefined, or fails after
 * timeoutMs naming what was awaited. For state that no event announces (a
 * peer's subscription reaching another peer, for example).
 */
export async function eventually<T> (check: () => Promise<T | undefined> | T | undefined, what: string, timeoutMs = WAIT_MS, intervalMs = 50): Promise<T> {
  const deadline = Date.now() + timeoutMs
  while (true) {
    const value = await check()
    if (value !== undefined) return value
    if (Date.now() > deadline) throw new Error(`${what}: not true within ${timeoutMs} ms`)
    await new Promise((resolve) => setTimeout(resolve, intervalMs))
  }
}
