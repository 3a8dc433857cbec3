import { withDeadline } from '../../deadline.js';
import { SessionError, SessionErrorCode } from '../../errors.js';
import { ForwardingStore } from '../../forwarding-store.js';
import type { StoreOperation } from '../../operations.js';
import type { ListSessionsOptions, SessionInfo, SessionStore } from '../../types.js';

/**
 * One replica of a fallback behind a deadline: a call that takes longer than
 * `ms` fails with BACKEND_UNAVAILABLE (an outage, so the fallback moves on),
 * and is counted as unsettled until it does end — it may still land.
 */
export class ReplicaDeadline<TItem> extends ForwardingStore<TItem> {
  readonly #ms: number;
  readonly #role: string;
  #unsettled = 0;

  constructor(inner: SessionStore<TItem>, ms: number, role: string) {
    super(inner);
    this.#ms = ms;
    this.#role = role;
  }

  /** Calls that timed out and have not ended yet. */
  get unsettled(): number {
    return this.#unsettled;
  }

  #within<R>(operation: string, call: () => Promise<R>): Promise<R> {
    // Stores take no AbortSignal, so none is made.
    return withDeadline(this.#ms, call, {
      signal: false,
      onTimeout: () => {
        this.#unsettled++;
        return new SessionError(SessionErrorCode.BackendUnavailable, `${this.#role} did not answer ${operation} within ${this.#ms} ms`);
      },
      onLateSettle: () => {
        this.#unsettled--;
      },
    });
  }

  protected override around<R>(operation: StoreOperation, _sessionId: string | undefined, call: () => Promise<R>): Promise<R> {
    // A listing is paced by its consumer, so it is bounded step by step (below), not as a whole.
    return operation === 'listSessions' ? call() : this.#within(operation, call);
  }

  override listSessions(options?: ListSessionsOptions): AsyncIterable<SessionInfo> {
    const iterable = super.listSessions(options);
    const within = (call: () => Promise<IteratorResult<SessionInfo>>) => this.#within('listSessions', call);
    return {
      [Symbol.asyncIterator]() {
        const iterator = iterable[Symbol.asyncIterator]();
        return {
          next: () => within(() => iterator.next()),
          return: async () => (await iterator.return?.()) ?? { done: true as const, value: undefined },
        };
      },
    };
  }
}
