import { NoSuchKey, S3ServiceException } from '@aws-sdk/client-s3';
import { SessionErrorCode } from '@sessionkit/core';
import { mapS3Error } from '../src/map-error.js';
import { describe, expect, it } from 'vitest';

/** An error as the SDK's deserializer builds it from an HTTP answer. */
function answered(status: number, name: string, fault: 'client' | 'server' = status >= 500 ? 'server' : 'client') {
  return new S3ServiceException({ name, $fault: fault, $metadata: { httpStatusCode: status, attempts: 1 }, message: `${name} for sktest/secret-key` });
}

describe('mapS3Error on the SDK error classes', () => {
  it.each([
    [500, 'InternalError'],
    [502, 'BadGateway'],
    [503, 'SlowDown'],
    [503, 'ServiceUnavailable'],
    [504, 'GatewayTimeout'],
    [500, 'SomethingNew'],
    [429, 'TooManyRequests'],
    [400, 'RequestTimeout'],
    [400, 'ThrottlingException'],
  ])('HTTP %i %s is BACKEND_UNAVAILABLE', (status, name) => {
    const error = answered(status, name);
    const mapped = mapS3Error(error);
    expect(mapped.code).toBe(SessionErrorCode.BackendUnavailable);
    expect(mapped.cause).toBe(error);
    expect(mapped.message).not.toContain('secret-key'); // keys never reach messages
  });

  it('a server fault without a status is BACKEND_UNAVAILABLE', () => {
    const error = new S3ServiceException({ name: 'Weird', $fault: 'server', $metadata: {}, message: 'x' });
    expect(mapS3Error(error).code).toBe(SessionErrorCode.BackendUnavailable);
  });

  it('network errors without an answer are BACKEND_UNAVAILABLE', () => {
    for (const code of ['ECONNRESET', 'ETIMEDOUT', 'ENOTFOUND', 'EPIPE']) {
      const error = Object.assign(new Error('request failed'), { code, $metadata: {} });
      expect(mapS3Error(error).code).toBe(SessionErrorCode.BackendUnavailable);
    }
    // The store's own request deadline.
    expect(mapS3Error(Object.assign(new Error('no answer'), { name: 'TimeoutError' })).code).toBe(SessionErrorCode.BackendUnavailable);
    // Nested under a cause, as the SDK sometimes wraps them.
    const wrapped = new Error('outer', { cause: Object.assign(new Error('inner'), { code: 'ECONNREFUSED' }) });
    expect(mapS3Error(wrapped).code).toBe(SessionErrorCode.BackendUnavailable);
  });

  it('answers that are not outages keep their meaning', () => {
    expect(mapS3Error(answered(403, 'AccessDenied')).code).toBe(SessionErrorCode.BackendError);
    expect(mapS3Error(answered(404, 'NoSuchBucket')).code).toBe(SessionErrorCode.BackendError);
    expect(mapS3Error(answered(400, 'EntityTooLarge')).code).toBe(SessionErrorCode.TooLarge);
    expect(mapS3Error(answered(412, 'PreconditionFailed')).code).toBe(SessionErrorCode.BackendError);
    expect(mapS3Error(answered(400, 'InvalidArgument')).code).toBe(SessionErrorCode.BackendError);
    const missing = new NoSuchKey({ $metadata: { httpStatusCode: 404 }, message: 'gone' });
    expect(mapS3Error(missing).code).toBe(SessionErrorCode.BackendError);
  });
});
