import {
  SessionError,
  SessionErrorCode,
  type SessionItem,
  type SessionStore,
} from '@sessionkit/core';
import { ForwardingStore, STORE_OPERATIONS, type StoreOperation } from '@sessionkit/core/adapter';

/** The store operations a fault can target. */
export type FaultOperation = StoreOperation;

export const FAULT_OPERATIONS: readonly FaultOperation[] = STORE_OPERATIONS;

/** Which calls a rule applies to: one operation, several, or `'*'` for all. */
export type FaultTarget = FaultOperation | readonly FaultOperation[] | '*';

/** When a rule fires. With neither `times` nor `probability` it fires on every call until healed. */
export interface FaultTrigger {
  /** Fire on the next `times` matching calls, then retire. Default: unlimited (until `heal()`). */
  readonly times?: number;
  /** Fire on each matching call with this probability (0–1), drawn from the store's seeded RNG. Default: 1. */
  readonly probability?: number;
  /** Only calls on this session id (operations without one — listSessions, prune — never match). Default: any. */
  readonly sessionId?: string;
}

export interface FailOptions extends FaultTrigger {
  /** Code of the thrown SessionError, one of SessionErrorCode's (others are INVALID_ARGUMENT). Default: `BACKEND_UNAVAILABLE`. */
  readonly code?: SessionErrorCode;
  /**
   * `'before'` (default): the call fails without reaching the inner store.
   * `'after'`: the inner store performs the call, then the caller gets the
   * error anyway — an acknowledgement lost on the way back, the failure a
   * timeout after commit produces.
   */
  readonly when?: 'before' | 'after';
}

export interface HangOptions extends FaultTrigger {
  /**
   * Milliseconds (0 to 2^31 - 1, about 24.8 days) after which a hung call
   * gives up and fails with BACKEND_UNAVAILABLE (without reaching the inner
   * store). Default (or `Infinity`): never; the call waits for `release()`,
   * `heal()` or `close()`.
   */
  readonly timeoutMs?: number;
}

/** One active rule, as `rules()` reports it. */
export interface FaultRule {
  readonly id: number;
  readonly kind: 'fail' | 'delay' | 'hang';
  readonly operations: readonly FaultOperation[];
  /** Calls still to fire on; `Infinity` until healed. */
  readonly remaining: number;
  readonly probability: number;
  readonly sessionId?: string;
  readonly code?: SessionErrorCode;
  readonly when?: 'before' | 'after';
  readonly delayMs?: number;
  readonly timeoutMs?: number;
}

/** A declarative fault, for the plan given to {@link withFaults}. */
export type FaultPlanRule =
  | ({ readonly fail: FaultTarget } & FailOptions)
  | ({ readonly delay: FaultTarget; readonly ms: number } & FaultTrigger)
  | ({ readonly hang: FaultTarget } & HangOptions);

export interface FaultPlan {
  /** Seed of the RNG used by `probability` rules, so a failing run can be replayed exactly. Default: 1. */
  readonly seed?: number;
  /** Rules active from the start. Default: none (a healthy pass-through). */
  readonly rules?: readonly FaultPlanRule[];
}

/** Counters per operation: calls seen and faults injected. */
export interface FaultStats {
  readonly calls: Readonly<Record<FaultOperation, number>>;
  readonly failed: Readonly<Record<FaultOperation, number>>;
  readonly delayed: Readonly<Record<FaultOperation, number>>;
  readonly hung: Readonly<Record<FaultOperation, number>>;
}

interface MutableRule {
  id: number;
  kind: 'fail' | 'delay' | 'hang';
  operations: Set<FaultOperation>;
  remaining: number;
  probability: number;
  sessionId: string | undefined;
  code: SessionErrorCode;
  when: 'before' | 'after';
  delayMs: number;
  timeoutMs: number | undefined;
}

interface Hung {
  operation: FaultOperation;
  /** The rule that hung the call: `heal(id)` releases it. */
  rule: number;
  resume: () => void;
  fail: (error: SessionError) => void;
}

/** mulberry32: a tiny, well-distributed 32-bit PRNG; deterministic for a seed. Also orders the per-turn bench's turns. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function counters(): Record<FaultOperation, number> {
  return Object.fromEntries(FAULT_OPERATIONS.map((op) => [op, 0])) as Record<FaultOperation, number>;
}

function toOperations(target: FaultTarget): Set<FaultOperation> {
  if (target === '*') return new Set(FAULT_OPERATIONS);
  const list = typeof target === 'string' ? [target] : target;
  if (!Array.isArray(list)) {
    throw new SessionError(SessionErrorCode.InvalidArgument, "a fault target must be an operation name, a list of them, or '*'");
  }
  for (const op of list) {
    if (!FAULT_OPERATIONS.includes(op)) {
      throw new SessionError(SessionErrorCode.InvalidArgument, `unknown fault operation: ${String(op)}`);
    }
  }
  return new Set(list);
}

/** The longest wait setTimeout honours (about 24.8 days); beyond it Node fires after 1 ms. */
const MAX_WAIT_MS = 2 ** 31 - 1;

const ERROR_CODES: ReadonlySet<string> = new Set(Object.values(SessionErrorCode));

function checkWait(value: unknown, name: string, infinityMeansNever: boolean): void {
  if (infinityMeansNever && value === Number.POSITIVE_INFINITY) return;
  if (typeof value !== 'number' || !(value >= 0 && value <= MAX_WAIT_MS)) {
    throw new SessionError(
      SessionErrorCode.InvalidArgument,
      `${name} must be a number of milliseconds from 0 to ${MAX_WAIT_MS}${infinityMeansNever ? ' (Infinity or left out: never)' : ''}`,
    );
  }
}

/** Options given as `null` or a non-object would otherwise surface as a TypeError from reading their fields. */
function checkObject(value: unknown, name: string): void {
  if (value === null || typeof value !== 'object') {
    throw new SessionError(SessionErrorCode.InvalidArgument, `${name} must be an object`);
  }
}

function checkTrigger(trigger: FaultTrigger): void {
  checkObject(trigger, 'the options');
  const { times, probability } = trigger;
  if (times !== undefined && (!Number.isSafeInteger(times) || times <= 0)) {
    throw new SessionError(SessionErrorCode.InvalidArgument, 'times must be a positive integer');
  }
  if (probability !== undefined && !(probability >= 0 && probability <= 1)) {
    throw new SessionError(SessionErrorCode.InvalidArgument, 'probability must be between 0 and 1');
  }
}

/**
 * A decorator over a real store that fails, delays or hangs chosen operations
 * on command — for testing what sits above a store (fallbacks, retries,
 * timeouts) against a real backend instead of a fake one. Calls that no rule
 * matches pass through untouched; capabilities are the inner store's.
 *
 * Rules are checked in the order they were added: each `delay` that fires
 * adds its wait, until the first `fail` or `hang` that fires decides the call.
 * Only rules that take effect use one of their `times`; rules after the
 * deciding one are not consulted for that call.
 */
export class FaultInjectionStore<TItem = SessionItem> extends ForwardingStore<TItem> {
  readonly #random: () => number;
  #rules: MutableRule[] = [];
  #nextId = 1;
  readonly #hung = new Set<Hung>();
  readonly #stats = { calls: counters(), failed: counters(), delayed: counters(), hung: counters() };

  constructor(inner: SessionStore<TItem>, plan: FaultPlan = {}) {
    super(inner as SessionStore<unknown> as SessionStore<TItem>);
    checkObject(plan, 'the fault plan');
    if (plan.rules !== undefined && !Array.isArray(plan.rules)) {
      throw new SessionError(SessionErrorCode.InvalidArgument, 'the fault plan\'s rules must be an array');
    }
    this.#random = seededRandom(plan.seed ?? 1);
    for (const rule of plan.rules ?? []) {
      checkObject(rule, 'a fault plan rule');
      if ('fail' in rule) this.fail(rule.fail, rule);
      else if ('delay' in rule) this.delay(rule.delay, rule.ms, rule);
      else if ('hang' in rule) this.hang(rule.hang, rule);
      else throw new SessionError(SessionErrorCode.InvalidArgument, 'a fault plan rule needs fail, delay or hang');
    }
  }

  /** Makes matching calls throw a SessionError (BACKEND_UNAVAILABLE unless `code` says otherwise). Returns the rule id. */
  fail(target: FaultTarget, options: FailOptions = {}): number {
    checkObject(options, 'the options');
    if (options.code !== undefined && !ERROR_CODES.has(options.code)) {
      throw new SessionError(SessionErrorCode.InvalidArgument, `code must be a SessionErrorCode (${[...ERROR_CODES].join(', ')})`);
    }
    if (options.when !== undefined && options.when !== 'before' && options.when !== 'after') {
      throw new SessionError(SessionErrorCode.InvalidArgument, "when must be 'before' or 'after'");
    }
    return this.#add('fail', target, options, {
      code: options.code ?? SessionErrorCode.BackendUnavailable,
      when: options.when ?? 'before',
    });
  }

  /**
   * Makes matching calls wait `ms` milliseconds (0 to 2^31 - 1, about 24.8
   * days) before reaching the inner store. Returns the rule id.
   */
  delay(target: FaultTarget, ms: number, options: FaultTrigger = {}): number {
    checkWait(ms, 'ms', false);
    return this.#add('delay', target, options, { delayMs: ms });
  }

  /**
   * Makes matching calls wait until `release()`, `heal()`, `close()` or
   * `timeoutMs` (0 to 2^31 - 1; Infinity or left out: no timeout). Returns
   * the rule id.
   */
  hang(target: FaultTarget, options: HangOptions = {}): number {
    checkObject(options, 'the options');
    if (options.timeoutMs !== undefined) checkWait(options.timeoutMs, 'timeoutMs', true);
    const timeoutMs = options.timeoutMs === Number.POSITIVE_INFINITY ? undefined : options.timeoutMs;
    return this.#add('hang', target, options, { timeoutMs });
  }

  /**
   * Stops faults: all of them (no argument), every fault on the given
   * operations, or the rule with the given id. Healing operations heals
   * those and no other: a rule that also targets other operations (`'*'`, a
   * list) keeps faulting those, and one left with no operation is removed.
   * Releases the calls that stop being faulted: all hung calls (no argument),
   * those of the healed operations, or those the rule with that id hung.
   */
  heal(target?: FaultTarget | number): void {
    if (target === undefined) {
      this.#rules = [];
      this.release();
      return;
    }
    if (typeof target === 'number') {
      this.#rules = this.#rules.filter((rule) => rule.id !== target);
      for (const hung of [...this.#hung]) {
        if (hung.rule !== target) continue;
        this.#hung.delete(hung);
        hung.resume();
      }
      return;
    }
    const ops = toOperations(target);
    for (const rule of this.#rules) for (const op of ops) rule.operations.delete(op);
    this.#rules = this.#rules.filter((rule) => rule.operations.size > 0);
    this.release(target);
  }

  /** Lets hung calls (all, or of the given operations) continue to the inner store. Returns how many were released. */
  release(target?: FaultTarget): number {
    const ops = target === undefined ? undefined : toOperations(target);
    let count = 0;
    for (const hung of [...this.#hung]) {
      if (ops && !ops.has(hung.operation)) continue;
      this.#hung.delete(hung);
      hung.resume();
      count++;
    }
    return count;
  }

  /** Calls currently hung. */
  get pendingHangs(): number {
    return this.#hung.size;
  }

  /** The active rules, in the order they are checked. */
  rules(): FaultRule[] {
    return this.#rules.map((rule) => ({
      id: rule.id,
      kind: rule.kind,
      operations: [...rule.operations],
      remaining: rule.remaining,
      probability: rule.probability,
      ...(rule.sessionId !== undefined ? { sessionId: rule.sessionId } : {}),
      ...(rule.kind === 'fail' ? { code: rule.code, when: rule.when } : {}),
      ...(rule.kind === 'delay' ? { delayMs: rule.delayMs } : {}),
      ...(rule.kind === 'hang' && rule.timeoutMs !== undefined ? { timeoutMs: rule.timeoutMs } : {}),
    }));
  }

  /** Calls seen and faults injected so far, per operation. */
  stats(): FaultStats {
    return {
      calls: { ...this.#stats.calls },
      failed: { ...this.#stats.failed },
      delayed: { ...this.#stats.delayed },
      hung: { ...this.#stats.hung },
    };
  }

  #add(
    kind: MutableRule['kind'],
    target: FaultTarget,
    trigger: FaultTrigger,
    extra: Partial<Pick<MutableRule, 'code' | 'when' | 'delayMs' | 'timeoutMs'>>,
  ): number {
    checkTrigger(trigger);
    const operations = toOperations(target);
    if (operations.size === 0) throw new SessionError(SessionErrorCode.InvalidArgument, 'a fault rule needs at least one operation');
    const id = this.#nextId++;
    this.#rules.push({
      id,
      kind,
      operations,
      remaining: trigger.times ?? Number.POSITIVE_INFINITY,
      probability: trigger.probability ?? 1,
      sessionId: trigger.sessionId,
      code: extra.code ?? SessionErrorCode.BackendUnavailable,
      when: extra.when ?? 'before',
      delayMs: extra.delayMs ?? 0,
      timeoutMs: extra.timeoutMs,
    });
    return id;
  }

  /**
   * Rules that take effect on this call: the delays that fire, up to and with
   * the first fail or hang that fires (rules after it are not consulted). Each
   * uses one of its `times`; retired rules are dropped.
   */
  #firing(operation: FaultOperation, sessionId: string | undefined): MutableRule[] {
    const fired: MutableRule[] = [];
    for (const rule of this.#rules) {
      if (!rule.operations.has(operation)) continue;
      if (rule.sessionId !== undefined && rule.sessionId !== sessionId) continue;
      // Draw only for probabilistic rules, so adding a certain rule never shifts a seeded sequence.
      if (rule.probability < 1 && this.#random() >= rule.probability) continue;
      rule.remaining--;
      fired.push(rule);
      if (rule.kind !== 'delay') break;
    }
    this.#rules = this.#rules.filter((rule) => rule.remaining > 0);
    return fired;
  }

  #error(code: SessionErrorCode, operation: FaultOperation): SessionError {
    return new SessionError(code, `injected fault in ${operation}`, { cause: new Error('fault injection') });
  }

  #wait(operation: FaultOperation, rule: number, timeoutMs: number | undefined): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      const hung: Hung = {
        operation,
        rule,
        resume: () => {
          if (timer) clearTimeout(timer);
          resolve();
        },
        fail: (error) => {
          if (timer) clearTimeout(timer);
          reject(error);
        },
      };
      if (timeoutMs !== undefined) {
        timer = setTimeout(() => {
          this.#hung.delete(hung);
          reject(new SessionError(SessionErrorCode.BackendUnavailable, `injected hang in ${operation} timed out`));
        }, timeoutMs);
      }
      this.#hung.add(hung);
    });
  }

  /** Every forwarded operation passes here; a listing faults when its iteration starts (before) or ends (after). */
  protected override async around<R>(operation: FaultOperation, sessionId: string | undefined, call: () => Promise<R>): Promise<R> {
    this.#stats.calls[operation]++;
    let failAfter: SessionError | undefined;
    for (const rule of this.#firing(operation, sessionId)) {
      if (rule.kind === 'delay') {
        this.#stats.delayed[operation]++;
        await new Promise((resolve) => setTimeout(resolve, rule.delayMs));
      } else if (rule.kind === 'hang') {
        this.#stats.hung[operation]++;
        await this.#wait(operation, rule.id, rule.timeoutMs);
        break;
      } else {
        this.#stats.failed[operation]++;
        const error = this.#error(rule.code, operation);
        if (rule.when === 'before') throw error;
        failAfter = error;
        break;
      }
    }
    const result = await call();
    if (failAfter) throw failAfter;
    return result;
  }

  /** Hung calls fail with CLOSED; rules are dropped. */
  override async close(): Promise<void> {
    this.#rules = [];
    for (const hung of [...this.#hung]) {
      this.#hung.delete(hung);
      hung.fail(new SessionError(SessionErrorCode.Closed, 'store is closed'));
    }
    await super.close();
  }
}

/** Wraps `store` in a {@link FaultInjectionStore} with the given initial plan. */
export function withFaults<TItem = SessionItem>(store: SessionStore<NoInfer<TItem>>, plan: FaultPlan = {}): FaultInjectionStore<TItem> {
  return new FaultInjectionStore<TItem>(store, plan);
}
