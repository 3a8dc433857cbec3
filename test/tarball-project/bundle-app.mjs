// The app the bundlers get: core's decorators (encryption, analytics, monitoring, cache) over MemoryStore and
// SqliteStore, and none of the optional peers (js-tiktoken, @opentelemetry/api) or the other adapters'
// drivers (ioredis, mongodb, @aws-sdk/client-s3, pg).
import { compose, MemoryStore, withAnalytics, withCache, withEncryption, withMonitoring } from '@sessionkit/core';
import { SqliteStore } from '@sessionkit/sqlite';

const replies = [];
for (const base of [new MemoryStore(), new SqliteStore({ path: ':memory:' })]) {
  const store = compose(
    base,
    withEncryption({ keys: { k1: new Uint8Array(32).fill(1) }, primary: 'k1' }),
    withAnalytics(),
    withMonitoring(),
    withCache({ maxSessions: 10 }),
  );
  const session = store.session('bundled');
  await session.addItems([{ role: 'user', content: 'hello from a bundle' }]);
  replies.push((await session.getItems())[0].content);
  await store.close();
}
console.log(JSON.stringify({ replies }));
