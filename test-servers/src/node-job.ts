import { spawn } from 'node:child_process';

/**
 * Runs `module` in a Node process of its own, with `job` as its one argument
 * (JSON), and resolves with the JSON of the last line it prints. Rejects with
 * the end of its stderr when it exits non-zero or prints nothing; killed after
 * `timeoutMs`. Tests use it for writers and migrations in separate processes.
 */
export function runNodeJob<T = unknown>(module: string, job: unknown, timeoutMs = 60_000): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const child = spawn(process.execPath, [module, JSON.stringify(job)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (err += chunk));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      const line = out.trim().split('\n').pop();
      if (code === 0 && line) resolve(JSON.parse(line) as T);
      else reject(new Error(`${module} exited ${code}: ${err.trim().slice(-2000)}`));
    });
  });
}
