import { EventEmitter } from 'node:events'
import { P2PNode, P2PNodeError } from '@p2p-node/sdk'
import type { MessageEvent, P2PNodeInit } from '@p2p-node/sdk'
import { ANNOUNCE_TOPIC, CAPABILITIES, DEFAULT_ANNOUNCE_INTERVAL_MS } from './constants.js'

/** What an agent publishes on ANNOUNCE_TOPIC. */
export interface Announcement {
  kind: 'announce'
  name: string
  peerId: string
  capabilities: string[]
}

/** One row of the live table of other agents. */
export interface AgentRecord {
  name: string
  peerId: string
  capabilities: string[]
  /** How the agent was first learned of. */
  via: 'announcement' | 'discover'
  lastSeen: number
}

/** Requests an agent answers: {op: 'ping'}, {op: 'echo', payload}, {op: 'capabilities'}. */
export type AgentRequest =
  | { op: 'ping' }
  | { op: 'echo', payload: unknown }
  | { op: 'capabilities' }

export interface AgentInit {
  /** The agent's name, announced to the others. */
  name: string
  /** Multiaddrs of agents to join through. @default [] */
  bootstrapPeers?: string[]
  /** IPv4 address the node listens on. @default the executable's, 0.0.0.0 */
  host?: string
  /** TCP port. @default 0, any free port */
  port?: number
  /** How often to announce and discover, ms. @default 5_000 */
  announceIntervalMs?: number
  /** Anything else for the P2PNode (binaryPath, env, …). */
  node?: Omit<P2PNodeInit, 'name' | 'bootstrapPeers' | 'host' | 'port'>
}

export interface AgentEvents {
  /** A new agent entered the table. */
  agent: [AgentRecord]
  /** This agent answered a request. */
  request: [{ from: string, request: unknown }]
  /** Something went wrong that no caller awaits (a failed announcement, …). */
  warning: [Error]
}

/**
 * An agent on the p2p-node network: announces itself, keeps a table of the
 * agents it hears of (announcements and discover), answers direct requests.
 * Uses nothing but the SDK.
 */
export class Agent extends EventEmitter<AgentEvents> {
  readonly node: P2PNode
  readonly name: string
  private readonly table = new Map<string, AgentRecord>()
  private readonly intervalMs: number
  private timer: NodeJS.Timeout | undefined

  constructor (init: AgentInit) {
    super()
    this.name = init.name
    this.intervalMs = init.announceIntervalMs ?? DEFAULT_ANNOUNCE_INTERVAL_MS
    this.node = new P2PNode({
      ...init.node,
      name: init.name,
      ...(init.host === undefined ? {} : { host: init.host }),
      ...(init.port === undefined ? {} : { port: init.port }),
      bootstrapPeers: init.bootstrapPeers ?? []
    })
  }

  /** The other agents known so far. */
  get agents (): AgentRecord[] {
    return [...this.table.values()]
  }

  get peerId (): string {
    return this.node.peerId ?? ''
  }

  async start (): Promise<void> {
    await this.node.start()
    this.node.onRequest(async (data, from) => await this.answer(data, from))
    await this.node.subscribe(ANNOUNCE_TOPIC, (message) => { this.onAnnouncement(message) })
    this.tick()
    this.timer = setInterval(() => { this.tick() }, this.intervalMs)
  }

  async stop (): Promise<void> {
    clearInterval(this.timer)
    await this.node.stop()
  }

  /** Sends a request to another agent (by name from the table, or by peer id) and resolves with its answer. */
  async ask (nameOrPeerId: string, request: AgentRequest, options?: { signal?: AbortSignal, timeoutMs?: number }): Promise<unknown> {
    const peerId = this.agents.find((a) => a.name === nameOrPeerId)?.peerId ?? nameOrPeerId
    return await this.node.request(peerId, request, options)
  }

  /** Resolves once every named agent is in the table, or rejects after timeoutMs. */
  async waitForAgents (names: string[], timeoutMs: number): Promise<void> {
    const missing = (): string[] => names.filter((name) => !this.agents.some((a) => a.name === name))
    if (missing().length === 0) return
    await new Promise<void>((resolve, reject) => {
      const onAgent = (): void => {
        if (missing().length > 0) return
        clearTimeout(timer)
        this.off('agent', onAgent)
        resolve()
      }
      const timer = setTimeout(() => {
        this.off('agent', onAgent)
        reject(new Error(`${this.name}: did not hear of ${missing().join(', ')} within ${timeoutMs} ms`))
      }, timeoutMs)
      this.on('agent', onAgent)
    })
  }

  private tick (): void {
    void this.announce()
    void this.discover()
  }

  private async announce (): Promise<void> {
    const announcement: Announcement = { kind: 'announce', name: this.name, peerId: this.peerId, capabilities: [...CAPABILITIES] }
    try {
      await this.node.publish(ANNOUNCE_TOPIC, { ...announcement })
    } catch (err) {
      // Alone on the topic for now: the next tick tries again.
      if (!(err instanceof P2PNodeError && (err.code === 'NO_PEERS_SUBSCRIBED' || err.code === 'NOT_RUNNING'))) this.emit('warning', err as Error)
    }
  }

  /** Finds agents on the announcement topic that have not announced to us yet, and asks them who they are. */
  private async discover (): Promise<void> {
    try {
      const { peers } = await this.node.discover(ANNOUNCE_TOPIC)
      await Promise.all(peers.filter((peerId) => !this.table.has(peerId)).map(async (peerId) => {
        const answer = await this.node.request(peerId, { op: 'capabilities' }, { timeoutMs: 5_000 }) as { name?: unknown, capabilities?: unknown }
        if (typeof answer?.name === 'string' && Array.isArray(answer.capabilities)) {
          this.remember({ name: answer.name, peerId, capabilities: answer.capabilities.map(String) }, 'discover')
        }
      }))
    } catch (err) {
      if (!(err instanceof P2PNodeError && err.code === 'NOT_RUNNING')) this.emit('warning', err as Error)
    }
  }

  private onAnnouncement (message: MessageEvent): void {
    const data = message.data as Partial<Announcement> | undefined
    if (data?.kind !== 'announce' || typeof data.name !== 'string' || data.peerId !== message.from || !Array.isArray(data.capabilities)) return
    const isNew = this.remember({ name: data.name, peerId: message.from, capabilities: data.capabilities.map(String) }, 'announcement')
    // A newcomer hears from us right away instead of at our next tick.
    if (isNew) void this.announce()
  }

  private remember (agent: Omit<AgentRecord, 'via' | 'lastSeen'>, via: AgentRecord['via']): boolean {
    if (agent.peerId === this.peerId) return false
    const known = this.table.get(agent.peerId)
    this.table.set(agent.peerId, { ...agent, via: known?.via ?? via, lastSeen: Date.now() })
    if (known === undefined) this.emit('agent', this.table.get(agent.peerId) as AgentRecord)
    return known === undefined
  }

  private async answer (data: unknown, from: string): Promise<unknown> {
    this.emit('request', { from, request: data })
    const request = data as Partial<AgentRequest> | undefined
    switch (request?.op) {
      case 'ping': return { op: 'pong', name: this.name }
      case 'echo': return { op: 'echo', payload: (request as { payload?: unknown }).payload ?? null }
      case 'capabilities': return { name: this.name, capabilities: [...CAPABILITIES] }
      default: throw new Error(`unknown request; send {op: ${CAPABILITIES.map((c) => `'${c}'`).join(' | ')}}`)
    }
  }
}
