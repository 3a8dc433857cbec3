import { withEncryption, type BindableStore, type EncryptionOptions, type SessionStore } from '@sessionkit/core';
import { usage } from './errors.js';

/**
 * A store opened from a URL. Each adapter package is imported only when its
 * URL is used, so `sessionkit ls sqlite:…` never loads the S3 SDK.
 *
 * - `sqlite:./file.db`, `sqlite:/abs/file.db` (`?tablePrefix=`)
 * - `redis://[user:pass@]host:port[/db]`, `rediss://…` (`?keyPrefix=`)
 * - `redis+cluster://host1:port1,host2:port2` (`?keyPrefix=`), `rediss+cluster://…`
 * - `s3://bucket/prefix/?endpoint=…&region=…&forcePathStyle=true&conditionalWrites=false`
 *   (credentials from the AWS environment / profile chain)
 * - `mongodb://…`, `mongodb+srv://…` (`?sessionkitDatabase=`, `?collectionPrefix=`)
 * - `postgres://…`, `postgresql://…` (`?schema=`, `?tablePrefix=`)
 */
export interface OpenedStore {
  readonly store: BindableStore;
  /** The store beneath any encryption layer. */
  readonly base: SessionStore;
  /** The URL with any password removed, for messages. */
  readonly label: string;
  readonly encrypted: boolean;
}

export interface OpenStoreOptions {
  /** Key ring (from the environment or a file); wraps the store in withEncryption. Default: none. */
  readonly encryption?: EncryptionOptions;
}

// A variable specifier keeps bundlers and tsc from resolving optional adapters up front.
const load = (specifier: string): Promise<any> => import(specifier);

export async function openStore(url: string, options: OpenStoreOptions = {}): Promise<OpenedStore> {
  const base = await openBase(url);
  const label = redact(url);
  if (!options.encryption) return { store: base, base, label, encrypted: false };
  return { store: withEncryption(options.encryption)(base), base, label, encrypted: true };
}

async function openBase(url: string): Promise<BindableStore> {
  const scheme = /^([a-z0-9+.-]+):/i.exec(url)?.[1]?.toLowerCase();
  switch (scheme) {
    case 'sqlite': {
      const rest = url.slice('sqlite:'.length);
      const [pathPart, query = ''] = splitQuery(rest.startsWith('//') ? rest.slice(2) : rest);
      if (!pathPart) throw usage('sqlite: URLs name a file, e.g. sqlite:./conversations.db');
      const params = new URLSearchParams(query);
      const { SqliteStore } = await load('@sessionkit/sqlite');
      return new SqliteStore({ path: decodeURIComponent(pathPart), ...optional('tablePrefix', params.get('tablePrefix')) });
    }
    case 'redis':
    case 'rediss': {
      const parsed = new URL(url);
      const keyPrefix = parsed.searchParams.get('keyPrefix');
      parsed.searchParams.delete('keyPrefix');
      const { RedisStore } = await load('@sessionkit/redis');
      return new RedisStore({ url: parsed.toString(), ...optional('keyPrefix', keyPrefix) });
    }
    case 'redis+cluster':
    case 'rediss+cluster': {
      const [head, query = ''] = splitQuery(url.slice(scheme.length + 3));
      const params = new URLSearchParams(query);
      const hosts = head.replace(/\/$/, '').split(',').filter(Boolean);
      if (hosts.length === 0) throw usage('redis+cluster:// URLs list nodes: redis+cluster://host1:port1,host2:port2');
      const clusterNodes = hosts.map((entry) => {
        const at = entry.lastIndexOf(':');
        return at < 0 ? { host: entry, port: 6379 } : { host: entry.slice(0, at), port: Number(entry.slice(at + 1)) };
      });
      const { RedisStore } = await load('@sessionkit/redis');
      return new RedisStore({
        clusterNodes,
        ...(scheme === 'rediss+cluster' ? { clusterOptions: { redisOptions: { tls: {} } } } : {}),
        ...optional('keyPrefix', params.get('keyPrefix')),
      });
    }
    case 's3': {
      const parsed = new URL(url);
      const bucket = parsed.hostname;
      if (!bucket) throw usage('s3:// URLs name a bucket: s3://bucket/prefix/?endpoint=…&region=…');
      let prefix = decodeURIComponent(parsed.pathname.replace(/^\//, ''));
      if (prefix && !prefix.endsWith('/')) prefix += '/';
      const params = parsed.searchParams;
      const endpoint = params.get('endpoint') ?? undefined;
      const { S3Store } = await load('@sessionkit/s3');
      return new S3Store({
        bucket,
        ...(parsed.pathname.length > 1 ? { prefix } : {}),
        ...(params.get('conditionalWrites') === 'false' ? { conditionalWrites: false } : {}),
        clientConfig: {
          region: params.get('region') ?? process.env.AWS_REGION ?? 'us-east-1',
          ...(endpoint ? { endpoint } : {}),
          forcePathStyle: params.get('forcePathStyle') === 'true' || (endpoint !== undefined && params.get('forcePathStyle') !== 'false'),
          // Checksums only where S3 requires them: services such as s3rver otherwise store chunk framing.
          requestChecksumCalculation: 'WHEN_REQUIRED',
          responseChecksumValidation: 'WHEN_REQUIRED',
        },
      });
    }
    case 'mongodb':
    case 'mongodb+srv': {
      const parsed = new URL(url);
      const database = parsed.searchParams.get('sessionkitDatabase');
      const collectionPrefix = parsed.searchParams.get('collectionPrefix');
      parsed.searchParams.delete('sessionkitDatabase');
      parsed.searchParams.delete('collectionPrefix');
      const { MongoStore } = await load('@sessionkit/mongodb');
      return new MongoStore({
        uri: parsed.toString(),
        ...optional('database', database),
        ...optional('collectionPrefix', collectionPrefix),
      });
    }
    case 'postgres':
    case 'postgresql': {
      let mod: any;
      try {
        mod = await load('@sessionkit/postgres');
      } catch {
        throw usage('postgres:// needs the @sessionkit/postgres package installed next to @sessionkit/cli');
      }
      const parsed = new URL(url);
      const tablePrefix = parsed.searchParams.get('tablePrefix');
      const schema = parsed.searchParams.get('schema');
      parsed.searchParams.delete('tablePrefix');
      parsed.searchParams.delete('schema');
      return new mod.PostgresStore({ connectionString: parsed.toString(), ...optional('tablePrefix', tablePrefix), ...optional('schema', schema) });
    }
    default:
      throw usage(
        `unknown store URL "${redact(url)}": use sqlite:./file.db, redis://host:port, redis+cluster://h1:p1,h2:p2, s3://bucket/prefix, mongodb://… or postgres://…`,
      );
  }
}

function optional<K extends string>(key: K, value: string | null): Partial<Record<K, string>> {
  return value === null ? {} : ({ [key]: value } as Record<K, string>);
}

function splitQuery(text: string): [string, string?] {
  const at = text.indexOf('?');
  return at < 0 ? [text] : [text.slice(0, at), text.slice(at + 1)];
}

/** The URL without a password, safe for messages. */
export function redact(url: string): string {
  // The userinfo ends at the authority's last `@` (as URL parsers read it): a password may hold `@` unencoded.
  return url.replace(/\/\/([^:@/?#]*):[^/?#]*@/, '//$1:***@');
}
