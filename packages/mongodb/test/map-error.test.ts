import { isSessionError, SessionError, SessionErrorCode } from '@sessionkit/core';
import {
  MongoBulkWriteError,
  MongoClientClosedError,
  MongoNetworkError,
  MongoNetworkTimeoutError,
  MongoNotConnectedError,
  MongoServerError,
  MongoServerSelectionError,
  MongoTopologyClosedError,
} from 'mongodb';
import { describe, expect, it } from 'vitest';
import { isDuplicateKeyError, mapMongoError } from '../src/map-error.js';

// Driver error classes constructed directly: their constructors are internal
// API, so each construction is guarded and the test says which one broke.
const SECRET = 'session-id-that-must-not-leak';

function serverError(code: number, codeName: string, extra: Record<string, unknown> = {}) {
  return new MongoServerError({ message: `${codeName}: filter { _id: "${SECRET}" }`, code, codeName, ...extra });
}

describe('mapMongoError', () => {
  const unavailable: [string, () => unknown][] = [
    ['MongoServerSelectionError', () => new MongoServerSelectionError(`connect ECONNREFUSED ${SECRET}`, {} as never)],
    ['MongoNetworkError', () => new MongoNetworkError(`socket closed ${SECRET}`)],
    ['MongoNetworkTimeoutError', () => new MongoNetworkTimeoutError(`timed out ${SECRET}`)],
    ['MongoTopologyClosedError', () => new MongoTopologyClosedError()],
    ['MongoClientClosedError', () => new MongoClientClosedError()],
    ['MongoNotConnectedError', () => new MongoNotConnectedError('not connected')],
    ['NotWritablePrimary (10107)', () => serverError(10107, 'NotWritablePrimary')],
    ['PrimarySteppedDown (189)', () => serverError(189, 'PrimarySteppedDown')],
    ['ShutdownInProgress (91)', () => serverError(91, 'ShutdownInProgress')],
    ['InterruptedDueToReplStateChange (11602)', () => serverError(11602, 'InterruptedDueToReplStateChange')],
    ['MaxTimeMSExpired (50)', () => serverError(50, 'MaxTimeMSExpired')],
    ['errno ECONNREFUSED', () => Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' })],
    [
      'TransientTransactionError label',
      () => {
        const error = serverError(251, 'NoSuchTransaction');
        error.addErrorLabel('TransientTransactionError');
        return error;
      },
    ],
  ];

  it.each(unavailable)('%s → BACKEND_UNAVAILABLE, driver error kept as cause, message without its text', (_, make) => {
    const error = make();
    const mapped = mapMongoError(error);
    expect(mapped).toBeInstanceOf(SessionError);
    expect(mapped.code).toBe(SessionErrorCode.BackendUnavailable);
    expect(mapped.cause).toBe(error);
    expect(mapped.message).not.toContain(SECRET);
  });

  it('document too large → TOO_LARGE', () => {
    expect(mapMongoError(serverError(10334, 'BSONObjectTooLarge')).code).toBe(SessionErrorCode.TooLarge);
    expect(mapMongoError(serverError(2, 'BadValue', { message: 'object to insert too large' })).code).toBe(
      SessionErrorCode.TooLarge,
    );
    // BadValue for anything else is not a size problem.
    expect(mapMongoError(serverError(2, 'BadValue')).code).toBe(SessionErrorCode.BackendError);
  });

  it('write conflict → CONFLICT; auth and unknown errors → BACKEND_ERROR', () => {
    expect(mapMongoError(serverError(112, 'WriteConflict')).code).toBe(SessionErrorCode.Conflict);
    expect(mapMongoError(serverError(13, 'Unauthorized')).code).toBe(SessionErrorCode.BackendError);
    expect(mapMongoError(serverError(18, 'AuthenticationFailed')).code).toBe(SessionErrorCode.BackendError);
    expect(mapMongoError(new Error(`weird ${SECRET}`)).code).toBe(SessionErrorCode.BackendError);
    expect(mapMongoError(new Error(`weird ${SECRET}`)).message).not.toContain(SECRET);
    expect(mapMongoError('a string').code).toBe(SessionErrorCode.BackendError);
    expect(mapMongoError(undefined).code).toBe(SessionErrorCode.BackendError);
  });

  it('passes SessionErrors through unchanged', () => {
    const original = new SessionError(SessionErrorCode.Conflict, 'x');
    expect(mapMongoError(original)).toBe(original);
  });

  it('recognises errors of another driver copy by name', () => {
    const foreign = Object.assign(new Error('x'), { name: 'MongoServerSelectionError' });
    expect(isSessionError(mapMongoError(foreign), SessionErrorCode.BackendUnavailable)).toBe(true);
  });
});

describe('isDuplicateKeyError', () => {
  it('sees E11000 alone and inside a bulk write error', () => {
    expect(isDuplicateKeyError(serverError(11000, 'DuplicateKey'))).toBe(true);
    const bulk = new MongoBulkWriteError(
      { message: 'E11000', code: 11000, writeErrors: [{ index: 0, code: 11000, errmsg: 'E11000' }] } as never,
      { insertedCount: 0, matchedCount: 0, modifiedCount: 0, deletedCount: 0, upsertedCount: 0, upsertedIds: {}, insertedIds: {} } as never,
    );
    expect(isDuplicateKeyError(bulk)).toBe(true);
    expect(isDuplicateKeyError({ writeErrors: [{ code: 11000 }] })).toBe(true);
    expect(isDuplicateKeyError(serverError(112, 'WriteConflict'))).toBe(false);
    expect(isDuplicateKeyError(null)).toBe(false);
  });
});
