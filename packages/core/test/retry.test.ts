import { describe, expect, it } from 'vitest';
import { SessionError, SessionErrorCode } from '@sessionkit/core';
import { CONFLICT_RETRY_ATTEMPTS, retryOnConflict } from '@sessionkit/core/adapter';

const conflict = () => new SessionError(SessionErrorCode.Conflict, 'lost a race');

describe('retryOnConflict: the one conflict-retry budget', () => {
  it('retries lost races and returns what the first winning try returns', async () => {
    const tries: number[] = [];
    const result = await retryOnConflict(async (n) => {
      tries.push(n);
      if (n < 3) throw conflict();
      return 'won';
    });
    expect(result).toBe('won');
    expect(tries).toEqual([0, 1, 2, 3]);
  });

  it('gives up after CONFLICT_RETRY_ATTEMPTS tries with CONFLICT, naming the operation, the last loss as cause', async () => {
    let tries = 0;
    let last: unknown;
    const failure = await retryOnConflict(
      async () => {
        tries++;
        last = conflict();
        throw last;
      },
      { operation: 'test write' },
    ).catch((error: unknown) => error);
    expect(tries).toBe(CONFLICT_RETRY_ATTEMPTS);
    expect(failure).toBeInstanceOf(SessionError);
    expect((failure as SessionError).code).toBe(SessionErrorCode.Conflict);
    expect((failure as SessionError).message).toMatch(/^test write gave up after \d+ attempts/);
    expect((failure as SessionError).cause).toBe(last);
  });

  it('throws anything that is not a lost race at once, untouched', async () => {
    let tries = 0;
    const boom = new SessionError(SessionErrorCode.BackendUnavailable, 'down');
    await expect(
      retryOnConflict(async () => {
        tries++;
        throw boom;
      }),
    ).rejects.toBe(boom);
    expect(tries).toBe(1);
  });

  it('retries exactly what isConflict names: a CONFLICT it does not name is final', async () => {
    class Lost extends Error {}
    const final = conflict();
    let tries = 0;
    await expect(
      retryOnConflict(
        async () => {
          tries++;
          throw tries < 3 ? new Lost() : final;
        },
        { isConflict: (error) => error instanceof Lost },
      ),
    ).rejects.toBe(final);
    expect(tries).toBe(3);
  });
});
