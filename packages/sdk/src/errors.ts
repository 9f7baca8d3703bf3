import type { ErrorCode } from '@p2p-node/protocol'

/** Codes of failures the SDK itself detects, next to the node's own ErrorCode list. */
export type SdkErrorCode =
  /** The child process exited (or could not be spawned) while the call was pending. */
  | 'NODE_EXITED'
  /** `ready` did not arrive within startTimeoutMs. */
  | 'START_TIMEOUT'
  /** No reply within the request's timeout. */
  | 'REQUEST_TIMEOUT'
  /** The caller's AbortSignal fired. */
  | 'ABORTED'
  /** The node is not running (call start() first, or it was stopped). */
  | 'NOT_RUNNING'
  /** The child wrote a stdout line that is not a valid protocol event. */
  | 'INVALID_EVENT'
  /** A remote onRequest() handler threw; its message is carried over. */
  | 'REMOTE_HANDLER_FAILED'
  /** One of this process's own listeners or subscribe handlers threw (reported on 'error'). */
  | 'HANDLER_FAILED'

/** Every error the SDK rejects with or emits. `code` is a protocol ErrorCode or an SdkErrorCode. */
export class P2PNodeError extends Error {
  static override name = 'P2PNodeError'
  override name = 'P2PNodeError'
  readonly code: ErrorCode | SdkErrorCode
  /** The tail of the child's stderr, when the failure involved the child process. */
  readonly stderr?: string

  constructor (code: ErrorCode | SdkErrorCode, message: string, options?: ErrorOptions & { stderr?: string }) {
    super(message, options)
    this.code = code
    if (options?.stderr !== undefined) this.stderr = options.stderr
  }
}
