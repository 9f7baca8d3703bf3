import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { BINARY } from './helpers/node-process.js'
// @ts-expect-error a build script, plain JavaScript without types
import { codeCacheOffset, withoutBuiltinCodeCache } from '../scripts/sea-blob.mjs'

const SEA_MAGIC = 0x143da20
const u32 = (value: number): Buffer => { const b = Buffer.alloc(4); b.writeUInt32LE(value); return b }
const u64 = (value: number): Buffer => { const b = Buffer.alloc(8); b.writeBigUInt64LE(BigInt(value)); return b }
const field = (bytes: Buffer): Buffer => Buffer.concat([u64(bytes.length), bytes])

/** A code cache as SnapshotData writes it: a count, then each module's id and cache. */
const codeCache = (entries: Array<[string, number]>): Buffer => Buffer.concat([u64(entries.length), ...entries.flatMap(([id, size]) => [field(Buffer.from(id)), field(Buffer.alloc(size, 7))])])

// The snapshot's own data before the cache, with a decoy: something shaped like an entry, followed by more data.
const snapshotData = Buffer.concat([Buffer.from('snapshot data '), u64(1), field(Buffer.from('decoy')), field(Buffer.alloc(5)), Buffer.from(' more data')])
const cache = codeCache([['net', 300], ['internal/bootstrap/realm', 1000], ['wasi', 20]])
const execArgv = Buffer.concat([u64(1), field(Buffer.from('--expose-gc'))])
const seaBlob = (snapshot: Buffer, { magic = SEA_MAGIC, flags = 0b10011, path = '/build/p2p-node.cjs' } = {}): Buffer =>
  Buffer.concat([u32(magic), u32(flags), Buffer.from([0]), field(Buffer.from(path)), field(snapshot), execArgv])

test('the built-in code cache at the end of the snapshot becomes empty, and the rest of the blob stays as it was', () => {
  const { blob, leftOut } = withoutBuiltinCodeCache(seaBlob(Buffer.concat([snapshotData, cache])), '/build/p2p-node.cjs')
  assert.deepEqual(blob, seaBlob(Buffer.concat([snapshotData, u64(0)])))
  assert.equal(leftOut, cache.length - 8)
})

test('a blob of another layout fails the build instead of being rewritten', () => {
  const snapshot = Buffer.concat([snapshotData, cache])
  assert.throws(() => withoutBuiltinCodeCache(seaBlob(snapshot, { magic: 0x1234 }), '/build/p2p-node.cjs'), /not a SEA preparation blob/)
  assert.throws(() => withoutBuiltinCodeCache(seaBlob(snapshot, { flags: 0b10001 }), '/build/p2p-node.cjs'), /no startup snapshot/)
  assert.throws(() => withoutBuiltinCodeCache(seaBlob(snapshot), '/elsewhere/p2p-node.cjs'), /layout is not the one expected/)
  // Entries that do not run to the snapshot's end are not its code cache.
  assert.throws(() => withoutBuiltinCodeCache(seaBlob(Buffer.concat([snapshotData, cache, Buffer.from('trailing')])), '/build/p2p-node.cjs'), /no built-in code cache found/)
  assert.throws(() => codeCacheOffset(Buffer.concat([snapshotData, u64(0)])), /no built-in code cache found/)
})

test('the executable\'s snapshot holds an empty built-in code cache', () => {
  const exe = readFileSync(BINARY)
  // The magic number also appears in Node's own code: the blob is where the bundle's path follows it.
  const pathLength = (at: number): number => Number(exe.readBigUInt64LE(at + 9))
  const namesBundle = (at: number): boolean => pathLength(at) < 4096 && exe.toString('latin1', at + 17, at + 17 + pathLength(at)).endsWith('/dist/p2p-node.cjs')
  let at = exe.indexOf(u32(SEA_MAGIC))
  while (at >= 0 && !namesBundle(at)) at = exe.indexOf(u32(SEA_MAGIC), at + 1)
  assert.ok(at >= 0, `no SEA blob with the bundle as its main script in ${BINARY}`)
  const snapshotAt = at + 17 + pathLength(at)
  const snapshotEnd = snapshotAt + 8 + Number(exe.readBigUInt64LE(snapshotAt))
  assert.equal(exe.readBigUInt64LE(snapshotEnd - 8), 0n, 'the snapshot ends with a code cache of 0 modules')
})
