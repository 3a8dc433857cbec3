import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { extname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

/** How the CLI loaded a harness module. */
export type HarnessLoader = 'node' | 'tsx' | 'node type stripping';

/** A harness module that cannot be loaded; its message is one line saying what to do. */
export class HarnessLoadError extends Error {
  override readonly name = 'HarnessLoadError';
}

const TYPESCRIPT = new Set(['.ts', '.mts', '.cts', '.tsx']);

/** True when this Node runs `.ts` files itself (22.18+ and 24 by default; older 22.x with --experimental-strip-types). */
export function nodeStripsTypes(): boolean {
  return Boolean((process.features as { typescript?: unknown }).typescript);
}

/** tsx's API entry as the harness's project (or the working directory) resolves it, if installed there. */
function findTsx(harnessPath: string): string | undefined {
  for (const from of [harnessPath, join(process.cwd(), 'package.json')]) {
    try {
      return createRequire(from).resolve('tsx/esm/api');
    } catch {
      // not installed there
    }
  }
  return undefined;
}

const HOW = 'install tsx in your project (npm i -D tsx), run on Node 22.18+ or 24 (they strip types), or build the harness to JavaScript';

/**
 * Imports a harness module. JavaScript is imported as it is; TypeScript goes
 * through tsx when the harness's project has it (it also handles `.js`
 * specifiers naming `.ts` files, enums and tsconfig paths), else through
 * Node's own type stripping where this Node has it, else fails with one line
 * saying how to run it.
 */
export async function importHarness(modulePath: string): Promise<{ module: Record<string, unknown>; loader: HarnessLoader }> {
  const path = resolve(modulePath);
  const url = pathToFileURL(path).href;
  if (!TYPESCRIPT.has(extname(path).toLowerCase())) {
    try {
      return { module: (await import(url)) as Record<string, unknown>, loader: 'node' };
    } catch (error) {
      if ((error as { code?: unknown }).code === 'ERR_UNKNOWN_FILE_EXTENSION') {
        throw new HarnessLoadError(`cannot load ${modulePath}: Node cannot import ${extname(path) || 'files without an extension'} files; give a .js, .mjs or .ts module`);
      }
      throw error;
    }
  }
  const tsx = findTsx(path);
  if (tsx) {
    const api = (await import(pathToFileURL(tsx).href)) as { tsImport(specifier: string, parentURL: string): Promise<Record<string, unknown>> };
    return { module: await api.tsImport(url, import.meta.url), loader: 'tsx' };
  }
  if (!nodeStripsTypes()) {
    const [major = 0, minor = 0] = process.versions.node.split('.').map(Number);
    const turnedOff = major > 22 || (major === 22 && minor >= 18);
    throw new HarnessLoadError(
      turnedOff
        ? `cannot load ${modulePath}: type stripping is turned off in this Node (${process.version}); install tsx in your project (npm i -D tsx), drop --no-experimental-strip-types, or build the harness to JavaScript`
        : `cannot load ${modulePath}: Node ${process.version} does not run TypeScript; ${HOW}`,
    );
  }
  try {
    return { module: (await import(url)) as Record<string, unknown>, loader: 'node type stripping' };
  } catch (error) {
    const { code, message } = error as { code?: unknown; message?: unknown };
    if (code === 'ERR_UNSUPPORTED_TYPESCRIPT_SYNTAX' || code === 'ERR_UNKNOWN_FILE_EXTENSION') {
      const what = String(message ?? '').split('\n')[0];
      throw new HarnessLoadError(`cannot load ${modulePath} with Node's type stripping (${what}); install tsx in your project (npm i -D tsx) or build the harness to JavaScript`);
    }
    const missing = /Cannot find module '([^']+)\.js'/.exec(String(message))?.[1];
    if (code === 'ERR_MODULE_NOT_FOUND' && missing !== undefined && existsSync(`${missing}.ts`)) {
      throw new HarnessLoadError(
        `cannot load ${modulePath}: ${String(message).split('\n')[0]} (Node's type stripping does not map .js imports to .ts files: import the .ts file, or install tsx)`,
      );
    }
    throw error;
  }
}
