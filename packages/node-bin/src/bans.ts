import type { ConnectionGater, PeerId } from '@libp2p/interface'

/**
 * Peers refused by the `ban` command, kept in memory until `unban` or exit.
 * Its connection gater stops dials to them and drops their connections at the
 * handshake, whichever side opens them.
 */
export class BanList {
  private readonly banned = new Set<string>()

  has (peerId: PeerId): boolean {
    return this.banned.has(peerId.toString())
  }

  add (peerId: PeerId): void {
    this.banned.add(peerId.toString())
  }

  delete (peerId: PeerId): void {
    this.banned.delete(peerId.toString())
  }

  gater (): ConnectionGater {
    return {
      denyDialPeer: (peerId) => this.has(peerId),
      denyInboundEncryptedConnection: (peerId) => this.has(peerId),
      denyOutboundEncryptedConnection: (peerId) => this.has(peerId),
      denyInboundUpgradedConnection: (peerId) => this.has(peerId),
      denyOutboundUpgradedConnection: (peerId) => this.has(peerId)
    }
  }
}
