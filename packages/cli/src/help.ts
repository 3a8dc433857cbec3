/** --help text for every command, each with examples. */
export const COMMANDS: Record<string, { summary: string; usage: string; options: string[]; examples: string[] }> = {
  ls: {
    summary: 'list sessions with item count, created and updated times (newest first, paged)',
    usage: 'sessionkit ls <store> [--older-than 30d] [--limit 50] [--offset 0] [--json]',
    options: ['--older-than <dur>  only sessions last written longer ago (30d, 12h, 90m, 45s)', '--limit <n>  rows per page (default 50)', '--offset <n>  rows to skip (default 0)'],
    examples: ['sessionkit ls sqlite:./conversations.db', 'sessionkit ls redis://127.0.0.1:6379 --older-than 30d --json'],
  },
  show: {
    summary: 'print one conversation as a person reads it: roles, text, tool calls and results, reasoning summaries',
    usage: 'sessionkit show <store> <session-id> [--limit n] [--json]',
    options: ['--limit <n>  only the newest n items', '--json  the raw items as a JSON array'],
    examples: ['sessionkit show sqlite:./conversations.db user-123', 'sessionkit show s3://bucket/app/ user-123 --limit 10 --json'],
  },
  export: {
    summary: 'write sessions as JSON Lines (format sessionkit-export v1: a session header, then its items)',
    usage: 'sessionkit export <store> [ids…] [--out file.jsonl] [--older-than dur]',
    options: ['--out <file>  write to a file instead of stdout'],
    examples: ['sessionkit export sqlite:./conversations.db > all.jsonl', 'sessionkit export redis://127.0.0.1:6379 user-1 user-2 --out two.jsonl'],
  },
  import: {
    summary: 'import an export file, or sessions of the Python Agents SDK; idempotent (importing twice does not duplicate)',
    usage: 'sessionkit import <store> <file.jsonl> [--overwrite]\n       sessionkit import <store> --from python-sqlite <agents.db> [--sessions-table t] [--messages-table t]\n       sessionkit import <store> --from python-redis <redis://…> [--key-prefix agents:session]',
    options: [
      '--from <python-sqlite|python-redis>  read the Python SDK\'s SQLiteSession / RedisSession data and map its items',
      '--overwrite  replace a different history at the target (default: report a conflict)',
      '--sessions-table, --messages-table  custom SQLiteSession table names',
      '--key-prefix  RedisSession key_prefix (default agents:session)',
    ],
    examples: [
      'sessionkit import sqlite:./conversations.db all.jsonl',
      'sessionkit import redis://127.0.0.1:6379 --from python-sqlite ./agents.db',
      'sessionkit import sqlite:./c.db --from python-redis redis://127.0.0.1:6379 --key-prefix myapp',
    ],
  },
  copy: {
    summary: 'copy every session (or some) to another store; resumable, never deletes the source',
    usage: 'sessionkit copy <from> <to> [ids…] [--concurrency 8] [--checkpoint file] [--verify] [--overwrite]',
    options: [
      '--concurrency <n>  sessions copied at once (default 8)',
      '--checkpoint <file>  record finished sessions; a restarted copy skips them (default .sessionkit-copy-<hash>.checkpoint)',
      '--verify  afterwards compare count and hash of every session on both sides',
      '--older-than <dur>  only sessions last written longer ago',
      '--overwrite  replace a different history at the target',
    ],
    examples: ['sessionkit copy sqlite:./a.db redis://127.0.0.1:6379 --verify', 'sessionkit copy redis://h:6379 "s3://bucket/app/?region=eu-west-1" --concurrency 32'],
  },
  prune: {
    summary: 'delete sessions last written before a cut-off',
    usage: 'sessionkit prune <store> --older-than 30d',
    options: ['--older-than <dur>  required'],
    examples: ['sessionkit prune sqlite:./conversations.db --older-than 30d'],
  },
  clear: {
    summary: 'delete one session',
    usage: 'sessionkit clear <store> <session-id>',
    options: [],
    examples: ['sessionkit clear redis://127.0.0.1:6379 user-123'],
  },
  rekey: {
    summary: 're-encrypt every session under the key ring\'s primary key (keys from SESSIONKIT_KEYRING or SESSIONKIT_KEYRING_FILE)',
    usage: 'sessionkit rekey <store> [ids…] [--allow-plaintext] [--concurrency 4]',
    options: ['--allow-plaintext  also encrypt items stored in clear (migrating to encryption)'],
    examples: ['SESSIONKIT_KEYRING_FILE=./keys.json sessionkit rekey sqlite:./conversations.db'],
  },
  doctor: {
    summary: 'read every item and report what fails to decode or decrypt, by session and position; changes nothing',
    usage: 'sessionkit doctor <store> [ids…] [--json]',
    options: [],
    examples: ['sessionkit doctor sqlite:./conversations.db', 'SESSIONKIT_KEYRING_FILE=./keys.json sessionkit doctor redis://127.0.0.1:6379 --json'],
  },
  stats: {
    summary: 'analytics per session or in total: items by role and type, turns, tool calls, token estimate',
    usage: 'sessionkit stats <store> [ids…] [--per-session] [--json]',
    options: ['--per-session  one row per session as well as the total'],
    examples: ['sessionkit stats sqlite:./conversations.db', 'sessionkit stats redis://127.0.0.1:6379 user-123 --json'],
  },
};

export const GLOBAL_OPTIONS = [
  '--json  machine-readable output (every read command)',
  '--quiet  no progress output',
  '--keyring-file <file>  encryption key ring (or SESSIONKIT_KEYRING / SESSIONKIT_KEYRING_FILE); never pass keys on the command line',
  '-h, --help  this help',
];

export function mainHelp(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((c) => c.length));
  return [
    'sessionkit — look into, export, import, copy and maintain conversations on any sessionkit store',
    '',
    'Usage: sessionkit <command> [options]',
    '',
    'Commands:',
    ...Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(width)}  ${c.summary}`),
    '',
    'Stores: sqlite:./file.db  redis://host:port  rediss://…  redis+cluster://h1:p1,h2:p2',
    '        s3://bucket/prefix/?endpoint=…&region=…  mongodb://…  postgres://…',
    '',
    'Options:',
    ...GLOBAL_OPTIONS.map((o) => `  ${o}`),
    '',
    'Exit codes: 0 ok, 1 failure (including differences found by doctor or --verify), 2 usage error.',
    'Run `sessionkit <command> --help` for examples.',
  ].join('\n');
}

export function commandHelp(name: string): string {
  const c = COMMANDS[name]!;
  return [
    `sessionkit ${name} — ${c.summary}`,
    '',
    `Usage: ${c.usage}`,
    '',
    'Options:',
    ...[...c.options, ...GLOBAL_OPTIONS].map((o) => `  ${o}`),
    '',
    'Examples:',
    ...c.examples.map((e) => `  ${e}`),
  ].join('\n');
}
