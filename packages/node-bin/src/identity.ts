import { chmod, open, readFile, stat } from 'node:fs/promises'
import { generateKeyPair, privateKeyFromProtobuf, privateKeyFromRaw, privateKeyToProtobuf } from '@libp2p/crypto/keys'
import type { PrivateKey } from '@libp2p/interface'

/** Where the node's key comes from; secrets never come from argv. */
export interface IdentityInit {
  /** P2P_PRIVATE_KEY (environment or -e file): hex of a raw secp256k1 key (an Ethereum private key) or of a libp2p protobuf-encoded key. */
  privateKeyHex?: string
  /** --key-file: a libp2p protobuf-encoded key, created (mode 0600) when missing. */
  keyFile?: string
}

export interface Identity {
  privateKey: PrivateKey
  /** Set when the key file was readable by others; the caller reports it. */
  warning?: string
}

/** An error about the key: its message never contains key material. */
export class IdentityError extends Error {
  static override name = 'IdentityError'
  override name = 'IdentityError'
}

/**
 * Loads the node's private key: P2P_PRIVATE_KEY, else the key file (made on
 * first use), else a fresh Ed25519 key. The same key always gives the same
 * peer id.
 */
export async function loadIdentity (init: IdentityInit): Promise<Identity> {
  if (init.privateKeyHex !== undefined) return { privateKey: parseHexKey(init.privateKeyHex) }
  if (init.keyFile !== undefined) return await loadKeyFile(init.keyFile)
  return { privateKey: await generateKeyPair('Ed25519') }
}

function parseHexKey (text: string): PrivateKey {
  const hex = text.trim().replace(/^0x/i, '')
  if (!/^([0-9a-f]{2})+$/i.test(hex)) throw new IdentityError('P2P_PRIVATE_KEY is not hex: expected a 32-byte secp256k1 key (64 hex digits, as an Ethereum private key) or a hex libp2p protobuf-encoded key')
  const bytes = Buffer.from(hex, 'hex')
  try {
    return bytes.length === 32 ? privateKeyFromRaw(bytes) : privateKeyFromProtobuf(bytes)
  } catch {
    throw new IdentityError(`P2P_PRIVATE_KEY (${bytes.length} bytes) is neither a raw secp256k1 key (32 bytes) nor a libp2p protobuf-encoded private key`)
  }
}

async function loadKeyFile (path: string): Promise<Identity> {
  let bytes: Buffer
  try {
    bytes = await readFile(path)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw new IdentityError(`cannot read key file ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`)
    return { privateKey: await createKeyFile(path) }
  }
  let privateKey: PrivateKey
  try {
    privateKey = privateKeyFromProtobuf(bytes)
  } catch {
    throw new IdentityError(`key file ${path} does not hold a libp2p protobuf-encoded private key; move it away to have a new one made`)
  }
  const mode = (await stat(path)).mode & 0o777
  if ((mode & 0o077) !== 0) {
    const fixed = await chmod(path, 0o600).then(() => true, () => false)
    return { privateKey, warning: `key file ${path} was readable by others (mode ${mode.toString(8)}); ${fixed ? 'its mode is now 600' : 'could not change its mode: chmod 600 it'}` }
  }
  return { privateKey }
}

async function createKeyFile (path: string): Promise<PrivateKey> {
  const privateKey = await generateKeyPair('Ed25519')
  let handle
  try {
    // 'wx': never overwrite a key another process has just written.
    handle = await open(path, 'wx', 0o600)
    await handle.writeFile(privateKeyToProtobuf(privateKey))
  } catch (err) {
    throw new IdentityError(`cannot create key file ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`)
  } finally {
    await handle?.close()
  }
  return privateKey
}
