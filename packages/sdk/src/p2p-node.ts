import { EventEmitter } from 'node:events'
import { randomUUID } from 'node:crypto'
import { fileURLToPath } from 'node:url'
import type { Command, CommandType, Event, HistoryRange, JsonValue, LogEvent, MessageEvent, PeerConnectedEvent, PeerDisconnectedEvent, PeerDiscoveredEvent, ResultEvent, ResultFields } from '@p2p-node/protocol'
import {
  DEFAULT_REQUEST_TIMEOUT_MS, DEFAULT_RESTART_ATTEMPTS, DEFAULT_RESTART_DELAY_MS, DEFAULT_RESTART_MAX_DELAY_MS,
  DEFAULT_MAX_LINE_BYTES, DEFAULT_START_TIMEOUT_MS, DEFAULT_STOP_GRACE_MS
} from './constants.js'
import { encodeLine } from '@p2p-node/protocol'
import { P2PNodeError } from './errors.js'
import { MessageQueue } from './message-queue.js'
import { readEnvelope, requestEnvelope, responseEnvelope } from './rpc.js'
import { ChildTransport } from './transport.js'
import type { ChildExit } from './transport.js'

export interface RestartOptions {
  /** Attempts after an unexpected exit before giving up. @default 5 */
  maxAttempts?: number
  /** Delay before the first attempt, ms; doubled after each failure. @default 250 */
  initialDelayMs?: number
  /** Longest delay between attempts, ms. @default 10_000 */
  maxDelayMs?: number
}

export interface P2PNodeInit {
  /** Name reported in `ready` (-n). @default none */
  name?: string
  /** TCP port to listen on (-p); 0 for any free port. @default 0 */
  port?: number
  /** IPv4 address to listen on (--host). @default the executable's, 0.0.0.0 */
  host?: string
  /** Multiaddrs dialled at start (--bootstrap). @default [] */
  bootstrapPeers?: string[]
  /** Lowest level of `log` events (--log-level). @default the executable's, warn */
  logLevel?: 'error' | 'warn' | 'info' | 'debug'
  /** Path to the p2p-node executable. @default env P2P_NODE_PATH, else the workspace's dist/p2p-node */
  binaryPath?: string
  /** Longest command line the node accepts (--max-line-bytes); longer calls reject with LINE_TOO_LONG before anything is sent. @default 1_048_576 */
  maxLineBytes?: number
  /** Extra command-line flags for the executable. @default [] */
  args?: string[]
  /** Environment of the child, merged over process.env. @default {} */
  env?: NodeJS.ProcessEnv
  /** How long start() waits for `ready`, ms. @default 10_000 */
  startTimeoutMs?: number
  /** Default time limit of every method, ms. @default 30_000 */
  requestTimeoutMs?: number
  /** How long each step of stop() waits for the child to exit, ms. @default 2_000 */
  stopGraceMs?: number
  /** Restart the child when it exits unexpectedly; `true` uses the defaults of RestartOptions. @default false */
  restart?: boolean | RestartOptions
}

export type P2PNodeState = 'idle' | 'starting' | 'running' | 'stopping' | 'stopped'

export interface NodeInfo {
  peerId: string
  addrs: string[]
}

export interface CallOptions {
  /** Cancels the call: it rejects with code ABORTED. */
  signal?: AbortSignal
  /** Time limit, ms. @default requestTimeoutMs */
  timeoutMs?: number
}

export interface SubscribeOptions extends CallOptions {
  /**
   * Catch up on the topic: messages its peers hold that this node has not
   * delivered arrive first, with `replayed: true`. true for all they hold; an
   * object narrows it. After a restart (see `restart`), such a topic catches up
   * on what was received since the old child exited.
   */
  history?: boolean | HistoryRange
}

export type MessageHandler = (message: MessageEvent) => void
/** Answers a request() from another node; what it returns (or resolves) is the answer. */
export type RequestHandler = (data: unknown, from: string) => unknown

export interface P2PNodeEvents {
  message: [MessageEvent]
  peer_discovered: [PeerDiscoveredEvent]
  peer_connected: [PeerConnectedEvent]
  peer_disconnected: [PeerDisconnectedEvent]
  log: [LogEvent]
  /** Errors no call is waiting for: node errors without id, invalid stdout lines, failed restarts. */
  error: [P2PNodeError]
  /** The child exited (whether expected or not). */
  exit: [ChildExit]
  /** The child was restarted after an unexpected exit, and its topics re-subscribed. */
  restarted: [NodeInfo & { attempt: number }]
}

type Fields<C extends ResultEvent['command']> = ResultFields<C>
/** A command as the caller writes it: the SDK adds the id. */
export type CommandInput<T extends CommandType> = { type: T } & Omit<Extract<Command, { type: T }>, 'id'>

interface PendingCall {
  resolve: (fields: any) => void
  reject: (err: P2PNodeError) => void
}

const liveTransports = new Set<ChildTransport>()
let exitHookInstalled = false

/** A child must not outlive its parent: kill what is left when the parent exits. */
function track (transport: ChildTransport): void {
  liveTransports.add(transport)
  void transport.exited.then(() => { liveTransports.delete(transport) })
  if (exitHookInstalled) return
  exitHookInstalled = true
  process.once('exit', () => {
    for (const live of liveTransports) live.signal('SIGKILL')
  })
}

function defaultBinaryPath (): string {
  return process.env.P2P_NODE_PATH ?? fileURLToPath(new URL('../../../dist/p2p-node', import.meta.url))
}

/**
 * Spawns the p2p-node executable and drives it: one promise method per
 * command, events and async iterators for what arrives, request/reply between
 * nodes, and a lifecycle that never leaves the child behind.
 */
export class P2PNode extends EventEmitter<P2PNodeEvents> {
  private readonly init: P2PNodeInit
  private currentState: P2PNodeState = 'idle'
  private transport: ChildTransport | undefined
  private nodeInfo: NodeInfo | undefined
  private nextId = 1
  private readonly calls = new Map<number, PendingCall>()
  private readonly rpcCalls = new Map<string, PendingCall & { peer: string }>()
  private readonly topics = new Map<string, Set<MessageHandler>>()
  /** Topics subscribed with history, caught up again after a restart. */
  private readonly historyTopics = new Set<string>()
  /** When the last child exited unexpectedly, ms since the epoch. */
  private exitedAt = 0
  private readonly queues = new Set<MessageQueue<MessageEvent>>()
  private requestHandler: RequestHandler | undefined
  private stopping: Promise<void> | undefined
  private restartTimer: NodeJS.Timeout | undefined
  /** A shutdown command was sent: the coming exit is not a crash. */
  private shutdownSent = false

  constructor (init: P2PNodeInit = {}) {
    super()
    this.init = init
  }

  get state (): P2PNodeState { return this.currentState }
  /** The node's peer id, once started. */
  get peerId (): string | undefined { return this.nodeInfo?.peerId }
  /** The node's listen addresses (with /p2p/<peerId>), once started. */
  get addrs (): string[] { return this.nodeInfo?.addrs ?? [] }
  /** pid of the child process, while one runs. */
  get pid (): number | undefined { return this.transport?.alive === true ? this.transport.pid : undefined }

  /** Spawns the executable; resolves on `ready`. Rejects (START_TIMEOUT, NODE_EXITED) with the child's stderr tail. */
  async start (): Promise<NodeInfo> {
    if (this.currentState !== 'idle') throw new P2PNodeError('NOT_RUNNING', `start() can only be called once, on an idle node (state: ${this.currentState})`)
    this.currentState = 'starting'
    try {
      this.nodeInfo = await this.spawnChild()
    } catch (err) {
      if (this.stopping !== undefined) await this.stopping
      this.finish()
      throw err
    }
    if (this.stopping !== undefined) {
      await this.stopping
      throw new P2PNodeError('NOT_RUNNING', 'stop() was called before start() finished')
    }
    this.currentState = 'running'
    return this.nodeInfo
  }

  /** Stops the node: shutdown command, then stdin EOF, SIGTERM, SIGKILL, each after a grace period. Resolves once the child has exited. */
  async stop (): Promise<void> {
    if (this.currentState === 'idle' || this.currentState === 'stopped') {
      this.finish()
      return
    }
    this.stopping ??= this.escalate()
    await this.stopping
  }

  connect (bootstrapPeers: string[] = [], options?: CallOptions): Promise<Fields<'connect'>> {
    return this.call({ type: 'connect', bootstrapPeers, ...timeoutField(options) }, options)
  }

  /** Sends a direct message; resolves once the receiving node acknowledged it. */
  send (peerId: string, data: JsonValue, options?: CallOptions): Promise<Fields<'send'>> {
    return this.call({ type: 'send', peerId, data, ...timeoutField(options) }, options)
  }

  publish (topic: string, data: JsonValue, options?: CallOptions): Promise<Fields<'publish'>> {
    return this.call({ type: 'publish', topic, data }, options)
  }

  /** Joins a topic; `handler` gets its messages (they are also emitted as 'message'). Re-subscribed after a restart. */
  async subscribe (topic: string, handler?: MessageHandler, options?: SubscribeOptions): Promise<Fields<'subscribe'>> {
    // Registered first: messages can arrive before the reply (which waits for the DHT advertisement).
    const known = this.topics.get(topic)
    const handlers = known ?? new Set()
    if (handler !== undefined) handlers.add(handler)
    this.topics.set(topic, handlers)
    try {
      const history = options?.history
      const result = await this.call(history === undefined ? { type: 'subscribe', topic } : { type: 'subscribe', topic, history }, options)
      if (history !== undefined && history !== false) this.historyTopics.add(topic)
      return result
    } catch (err) {
      if (handler !== undefined) handlers.delete(handler)
      if (known === undefined) this.topics.delete(topic)
      throw err
    }
  }

  async unsubscribe (topic: string, options?: CallOptions): Promise<Fields<'unsubscribe'>> {
    const result = await this.call({ type: 'unsubscribe', topic }, options)
    this.topics.delete(topic)
    this.historyTopics.delete(topic)
    return result
  }

  /**
   * Catches up on a topic: messages its peers hold that this node has not
   * delivered are emitted (and given to the topic's handlers) with
   * `replayed: true` before this resolves.
   */
  history (topic: string, range: HistoryRange = {}, options?: CallOptions): Promise<Fields<'history'>> {
    return this.call({ type: 'history', topic, ...range, ...timeoutField(options) }, options)
  }

  discover (topic: string, options?: CallOptions): Promise<Fields<'discover'>> {
    return this.call({ type: 'discover', topic, ...timeoutField(options) }, options)
  }

  peers (options?: CallOptions): Promise<Fields<'peers'>> {
    return this.call({ type: 'peers' }, options)
  }

  /** Round trip to a peer (peer id or registered name), dialling it if needed. */
  ping (peer: string, options?: CallOptions): Promise<Fields<'ping'>> {
    return this.call({ type: 'ping', peerId: peer, ...timeoutField(options) }, options)
  }

  /** Resolves a name registered with `name` (-n) to its peer id and addresses. Rejects NOT_FOUND. */
  lookup (name: string, options?: CallOptions): Promise<Fields<'lookup'>> {
    return this.call({ type: 'lookup', name, ...timeoutField(options) }, options)
  }

  /** Stores a record signed by this node under `key`; readers drop it after ttlSeconds (default 3600). */
  dhtPut (key: string, value: JsonValue, ttlSeconds?: number, options?: CallOptions): Promise<Fields<'dht_put'>> {
    return this.call({ type: 'dht_put', key, value, ...(ttlSeconds === undefined ? {} : { ttlSeconds }), ...timeoutField(options) }, options)
  }

  /** Reads the newest valid record under `key`. Rejects NOT_FOUND. */
  dhtGet (key: string, options?: CallOptions): Promise<Fields<'dht_get'>> {
    return this.call({ type: 'dht_get', key, ...timeoutField(options) }, options)
  }

  /** Announces this node as a provider of `key`. */
  dhtProvide (key: string, options?: CallOptions): Promise<Fields<'dht_provide'>> {
    return this.call({ type: 'dht_provide', key, ...timeoutField(options) }, options)
  }

  /** Refuses every connection with the peer and closes the open ones, until unban(). */
  ban (peerId: string, options?: CallOptions): Promise<Fields<'ban'>> {
    return this.call({ type: 'ban', peerId }, options)
  }

  /** Lifts a ban. */
  unban (peerId: string, options?: CallOptions): Promise<Fields<'unban'>> {
    return this.call({ type: 'unban', peerId }, options)
  }

  /** Finds the providers of `key`. */
  dhtFindProviders (key: string, options?: CallOptions): Promise<Fields<'dht_find_providers'>> {
    return this.call({ type: 'dht_find_providers', key, ...timeoutField(options) }, options)
  }

  /**
   * Asks another node's onRequest() handler and resolves with its answer. The
   * request and the answer are direct messages with the correlation id inside
   * the payload (see rpc.ts).
   */
  async request (peerId: string, data: JsonValue, options?: CallOptions): Promise<unknown> {
    const rid = randomUUID()
    const answer = this.pendingCall(this.rpcCalls, rid, options, 'request', { peer: peerId })
    // The answer may time out while the send is still pending; it is awaited below.
    answer.catch(() => {})
    try {
      // `peer` may be a name: from now on answers must come from the peer id it resolved to.
      const sent = await this.send(peerId, requestEnvelope(rid, data), options)
      const call = this.rpcCalls.get(rid)
      if (call !== undefined) call.peer = sent.peerId
    } catch (err) {
      this.rpcCalls.get(rid)?.reject(err as P2PNodeError)
    }
    return await answer
  }

  /** Sets the handler that answers request() from other nodes (one per node; a new one replaces the old). */
  onRequest (handler: RequestHandler): void {
    this.requestHandler = handler
  }

  /** Messages as an async iterator, optionally of one topic (`topic: null` for direct messages only). Ends when the node stops. */
  messages (filter: { topic?: string | null, signal?: AbortSignal } = {}): AsyncIterableIterator<MessageEvent> {
    const queue: MessageQueue<MessageEvent> = new MessageQueue(() => { this.queues.delete(matching) })
    const matching = Object.assign(queue, { matches: (m: MessageEvent) => filter.topic === undefined || (m.topic ?? null) === filter.topic })
    if (this.currentState === 'stopped') queue.close()
    else this.queues.add(matching)
    filter.signal?.addEventListener('abort', () => { queue.close() }, { once: true })
    return queue
  }

  /** Sends any protocol command and resolves with its result fields. */
  async call<T extends CommandType> (command: CommandInput<T>, options?: CallOptions): Promise<Fields<T>> {
    const transport = this.transport
    const allowed = this.currentState === 'running' || (this.currentState === 'stopping' && command.type === 'shutdown')
    if (transport === undefined || !allowed) {
      throw new P2PNodeError('NOT_RUNNING', `cannot ${command.type}: the node is ${this.currentState}${this.currentState === 'idle' ? '; call start() first' : ''}`)
    }
    if (options?.signal?.aborted === true) throw new P2PNodeError('ABORTED', `${command.type} aborted`, { cause: options.signal.reason })
    const id = this.nextId++
    let line: string
    try {
      line = encodeLine({ ...command, id })
    } catch (err) {
      throw new P2PNodeError('INVALID_COMMAND', `${command.type}: the command cannot be encoded as JSON (${(err as Error).message})`)
    }
    const maxLineBytes = this.init.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES
    // A UTF-16 code unit takes at most 3 bytes in UTF-8: most lines need no count.
    if (line.length * 3 > maxLineBytes + 1 && Buffer.byteLength(line) > maxLineBytes + 1) {
      throw new P2PNodeError('LINE_TOO_LONG', `${command.type}: the command is ${Buffer.byteLength(line)} bytes as JSON, more than maxLineBytes (${maxLineBytes}); send less data at once`)
    }
    if (command.type === 'shutdown') this.shutdownSent = true
    const reply = this.pendingCall(this.calls, id, options, command.type, {})
    // Waiting for the child's stdin to take the line holds back a caller that writes faster than
    // the node reads; the reply may settle meanwhile, and is awaited right after.
    reply.catch(() => {})
    await transport.writeLine(line)
    return await reply
  }

  private pendingCall<K, X extends object> (map: Map<K, PendingCall & X>, key: K, options: CallOptions | undefined, what: string, extra: X): Promise<any> {
    const timeoutMs = options?.timeoutMs ?? this.init.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS
    return new Promise((resolve, reject) => {
      const signal = options?.signal
      const cleanup = (): void => {
        clearTimeout(timer)
        signal?.removeEventListener('abort', onAbort)
        map.delete(key)
      }
      const onAbort = (): void => {
        cleanup()
        reject(new P2PNodeError('ABORTED', `${what} aborted`, { cause: signal?.reason }))
      }
      // Commands with their own timeoutMs get a little longer, so the node's TIMEOUT reply wins.
      const timer = setTimeout(() => {
        cleanup()
        reject(new P2PNodeError('REQUEST_TIMEOUT', `${what}: no reply within ${timeoutMs} ms`))
      }, timeoutMs + 250)
      if (signal?.aborted === true) return onAbort()
      signal?.addEventListener('abort', onAbort, { once: true })
      map.set(key, {
        ...extra,
        resolve: (value) => { cleanup(); resolve(value) },
        reject: (err) => { cleanup(); reject(err) }
      })
    })
  }

  private async spawnChild (): Promise<NodeInfo> {
    const args: string[] = []
    if (this.init.name !== undefined) args.push('--name', this.init.name)
    if (this.init.port !== undefined) args.push('--port', String(this.init.port))
    if (this.init.host !== undefined) args.push('--host', this.init.host)
    if (this.init.logLevel !== undefined) args.push('--log-level', this.init.logLevel)
    if (this.init.maxLineBytes !== undefined) args.push('--max-line-bytes', String(this.init.maxLineBytes))
    if (this.init.bootstrapPeers !== undefined && this.init.bootstrapPeers.length > 0) args.push('--bootstrap', ...this.init.bootstrapPeers)
    args.push(...this.init.args ?? [])

    const ready = deferred<NodeInfo>()
    let isReady = false
    /** An error the node reported before `ready` (PORT_IN_USE, …): why it is about to exit. */
    let startError: { code: P2PNodeError['code'], message: string } | undefined
    const transport: ChildTransport = this.newTransport({
      binaryPath: this.init.binaryPath ?? defaultBinaryPath(),
      args,
      env: { ...process.env, ...this.init.env },
      onEvent: (event) => {
        if (event.type === 'ready') {
          isReady = true
          ready.resolve({ peerId: event.peerId, addrs: event.addrs })
        } else if (!isReady && event.type === 'error') {
          startError = { code: event.code, message: event.message }
        } else if (this.transport === transport) {
          this.dispatch(event)
        }
      },
      onInvalidLine: (line, reason) => { this.report(new P2PNodeError('INVALID_EVENT', `the node wrote a stdout line that is not a protocol event (${reason}): ${line.slice(0, 200)}`)) }
    })
    this.transport = transport
    track(transport)

    // On timeout the child is killed, and start() rejects once it has exited.
    const startTimeoutMs = this.init.startTimeoutMs ?? DEFAULT_START_TIMEOUT_MS
    let timedOut = false
    const timer = setTimeout(() => {
      timedOut = true
      transport.signal('SIGKILL')
    }, startTimeoutMs)
    void transport.exited.then((exit) => {
      clearTimeout(timer)
      ready.reject(timedOut
        ? new P2PNodeError('START_TIMEOUT', `the node did not become ready within ${startTimeoutMs} ms${tail(transport.stderr)}`, { stderr: transport.stderr })
        : startError !== undefined
          ? new P2PNodeError(startError.code, `the node could not start: ${startError.message}`, { stderr: transport.stderr })
          : new P2PNodeError('NODE_EXITED', `the node exited before it was ready (${describeExit(exit)})${tail(transport.stderr)}`, { stderr: transport.stderr }))
      this.onChildExit(transport, exit)
    })
    try {
      return await ready.promise
    } finally {
      clearTimeout(timer)
    }
  }

  private newTransport (init: ConstructorParameters<typeof ChildTransport>[0]): ChildTransport {
    try {
      return new ChildTransport(init)
    } catch (err) {
      throw new P2PNodeError('NODE_EXITED', `could not spawn ${init.binaryPath}: ${(err as Error).message}`, { cause: err })
    }
  }

  private dispatch (event: Event): void {
    switch (event.type) {
      case 'result':
      case 'error': {
        const call = typeof event.id === 'number' ? this.calls.get(event.id) : undefined
        if (call === undefined) {
          if (event.type === 'error') this.report(new P2PNodeError(event.code, event.message))
        } else if (event.type === 'error') {
          call.reject(new P2PNodeError(event.code, event.message))
        } else {
          const { type: _type, id: _id, command: _command, ...fields } = event
          call.resolve(fields)
        }
        return
      }
      case 'message': {
        const envelope = event.topic === undefined ? readEnvelope(event.data) : undefined
        if (envelope !== undefined) return this.onRpc(event.from, envelope)
        for (const queue of this.queues) if ((queue as any).matches(event) === true) queue.push(event)
        // A throwing handler is the caller's bug: report it, and keep reading the node's output.
        this.guard('a message listener', () => { this.emit('message', event) })
        if (event.topic !== undefined) for (const handler of this.topics.get(event.topic) ?? []) this.guard('a subscribe handler', () => { handler(event) })
        return
      }
      case 'peer_discovered': this.guard('a peer_discovered listener', () => { this.emit('peer_discovered', event) }); return
      case 'peer_connected': this.guard('a peer_connected listener', () => { this.emit('peer_connected', event) }); return
      case 'peer_disconnected': this.guard('a peer_disconnected listener', () => { this.emit('peer_disconnected', event) }); return
      case 'log': this.guard('a log listener', () => { this.emit('log', event) }); return
      case 'ready': return
    }
  }

  private onRpc (from: string, envelope: ReturnType<typeof readEnvelope> & object): void {
    if (envelope['p2p-node/rpc/1'] === 'response') {
      const call = this.rpcCalls.get(envelope.rid)
      // The rid is random and unguessable; `from` is checked too once the peer id is known
      // (an answer can overtake the reply to the send that carried a request to a name).
      if (call === undefined || (call.peer !== from && /^(12D3KooW|16Uiu2|Qm)/.test(call.peer))) return
      if ('error' in envelope) call.reject(new P2PNodeError('REMOTE_HANDLER_FAILED', `the remote handler failed: ${envelope.error}`))
      else call.resolve(envelope.body)
      return
    }
    const handler = this.requestHandler
    void (async () => {
      try {
        if (handler === undefined) throw new Error('this node has no request handler (onRequest)')
        return { body: (await handler(envelope.body, from)) ?? null }
      } catch (err) {
        return { error: (err as Error)?.message ?? String(err) }
      }
    })().then(async (outcome) => {
      try {
        await this.send(from, responseEnvelope(envelope.rid, outcome))
      } catch (err) {
        if (!(err instanceof P2PNodeError && (err.code === 'INVALID_COMMAND' || err.code === 'LINE_TOO_LONG'))) throw err
        await this.send(from, responseEnvelope(envelope.rid, { error: `the answer could not be sent: ${err.message}` }))
      }
    }).catch((err: unknown) => {
      this.report(err instanceof P2PNodeError ? err : new P2PNodeError('INTERNAL', String(err)))
    })
  }

  private onChildExit (transport: ChildTransport, exit: ChildExit): void {
    if (this.transport !== transport) return
    const error = new P2PNodeError('NODE_EXITED', `the node exited (${describeExit(exit)})${tail(transport.stderr)}`, { stderr: transport.stderr })
    for (const call of [...this.calls.values(), ...this.rpcCalls.values()]) call.reject(error)
    this.emit('exit', exit)
    this.exitedAt = Date.now()
    if (this.currentState === 'running' && !this.shutdownSent && this.init.restart !== undefined && this.init.restart !== false) {
      this.scheduleRestart(1)
    } else if (this.currentState !== 'stopping' && this.currentState !== 'starting') {
      this.finish()
    }
  }

  private scheduleRestart (attempt: number): void {
    const options = this.init.restart === true ? {} : this.init.restart as RestartOptions
    const maxAttempts = options.maxAttempts ?? DEFAULT_RESTART_ATTEMPTS
    if (attempt > maxAttempts) {
      this.report(new P2PNodeError('NODE_EXITED', `the node kept exiting; gave up after ${maxAttempts} restart attempts`))
      this.finish()
      return
    }
    this.currentState = 'starting'
    const delay = Math.min((options.initialDelayMs ?? DEFAULT_RESTART_DELAY_MS) * 2 ** (attempt - 1), options.maxDelayMs ?? DEFAULT_RESTART_MAX_DELAY_MS)
    this.restartTimer = setTimeout(() => {
      this.restartTimer = undefined
      void this.restart(attempt)
    }, delay)
  }

  private async restart (attempt: number): Promise<void> {
    try {
      this.nodeInfo = await this.spawnChild()
      if (this.currentState !== 'starting') return
      this.currentState = 'running'
      await Promise.all([...this.topics.keys()].map(async (topic) => {
        await this.call(this.historyTopics.has(topic) ? { type: 'subscribe', topic, history: { since: this.exitedAt } } : { type: 'subscribe', topic })
      }))
      this.emit('restarted', { ...this.nodeInfo, attempt })
    } catch (err) {
      if (this.currentState !== 'starting' && this.currentState !== 'running') return
      this.report(err instanceof P2PNodeError ? err : new P2PNodeError('INTERNAL', String(err)))
      if (this.transport?.alive === true) return
      this.scheduleRestart(attempt + 1)
    }
  }

  private async escalate (): Promise<void> {
    this.currentState = 'stopping'
    clearTimeout(this.restartTimer)
    const transport = this.transport
    if (transport !== undefined && transport.alive) {
      const grace = this.init.stopGraceMs ?? DEFAULT_STOP_GRACE_MS
      const steps: Array<() => void> = [
        () => { void this.call({ type: 'shutdown' }).catch(() => {}) },
        () => { transport.endInput() },
        () => { transport.signal('SIGTERM') }
      ]
      let exited = false
      for (const step of steps) {
        step()
        if (await transport.exitsWithin(grace)) {
          exited = true
          break
        }
      }
      if (!exited) {
        transport.signal('SIGKILL')
        await transport.exited
      }
    }
    this.finish()
  }

  /** Enters the final state: iterators end, nothing is pending. */
  private finish (): void {
    this.currentState = 'stopped'
    clearTimeout(this.restartTimer)
    for (const queue of this.queues) queue.close()
    this.queues.clear()
  }

  /** Runs a caller's callback; what it throws is reported on 'error' instead of breaking the stdout reader. */
  private guard (what: string, callback: () => void): void {
    try {
      callback()
    } catch (err) {
      this.report(new P2PNodeError('HANDLER_FAILED', `${what} threw: ${(err as Error)?.message ?? String(err)}`, { cause: err }))
    }
  }

  /** Emits 'error' only when someone listens: an EventEmitter would otherwise throw. */
  private report (error: P2PNodeError): void {
    if (this.listenerCount('error') > 0) this.emit('error', error)
  }
}

/** Promise.withResolvers, which Node 20 lacks. */
function deferred<T> (): { promise: Promise<T>, resolve: (value: T) => void, reject: (err: Error) => void } {
  let resolve!: (value: T) => void
  let reject!: (err: Error) => void
  const promise = new Promise<T>((res, rej) => { resolve = res; reject = rej })
  return { promise, resolve, reject }
}

function timeoutField (options: CallOptions | undefined): { timeoutMs?: number } {
  return options?.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }
}

function describeExit (exit: ChildExit): string {
  if (exit.error !== undefined) return `could not spawn: ${exit.error.message}`
  return exit.signal !== null ? `signal ${exit.signal}` : `code ${exit.code}`
}

function tail (stderr: string): string {
  const text = stderr.trim()
  return text === '' ? '' : `; stderr: ${text.slice(-500)}`
}
