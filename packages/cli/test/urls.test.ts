import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { redact } from '@sessionkit/cli';
import { cli, tempDir } from './helpers.js';

describe('store URLs and usage errors', () => {
  it('masks passwords', () => {
    expect(redact('redis://user:secret@host:6379/0')).toBe('redis://user:***@host:6379/0');
    expect(redact('postgres://app:p%40ss@db/x')).toBe('postgres://app:***@db/x');
  });

  it('refuses an unknown scheme with exit 2 and never echoes a password', async () => {
    const result = await cli(['ls', 'ftp://me:hunter2@host/x']);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/^usage error: unknown store URL/);
    expect(result.stderr).not.toContain('hunter2');
  });

  it('exit codes for usage mistakes', async () => {
    expect((await cli([])).code).toBe(2);
    expect((await cli(['nope'])).code).toBe(2);
    expect((await cli(['ls'])).code).toBe(2);
    expect((await cli(['ls', 'sqlite:./x.db', '--bogus'])).code).toBe(2);
    const tmp = tempDir();
    expect((await cli(['copy', `sqlite:${tmp.path('x.db')}`, `sqlite:${tmp.path('y.db')}`, '--concurrency', '0'])).code).toBe(2);
    tmp.remove();
    expect((await cli(['--help'])).code).toBe(0);
    for (const command of ['ls', 'show', 'export', 'import', 'copy', 'prune', 'clear', 'rekey', 'doctor', 'stats']) {
      const help = await cli([command, '--help']);
      expect(help.code).toBe(0);
      expect(help.stdout).toMatch(/Examples:\n {2}(\S+=\S+ )?sessionkit /);
    }
  });

  it('--version prints the package version', async () => {
    const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
    for (const flag of ['--version', '-v']) {
      const result = await cli([flag]);
      expect(result.code).toBe(0);
      expect(result.stdout).toBe(`sessionkit ${version}\n`);
    }
  });

  it('keys never come from argv', async () => {
    const result = await cli(['ls', 'sqlite:./x.db', '--key', 'abc']);
    expect(result.code).toBe(2);
  });
});
