#!/usr/bin/env node
// Runs after tsup in a package directory (its build script: `tsup && node ../../scripts/cjs-entries.mjs`).
//
// Each package is built once, as ESM. For `require()` (Node >= 22.12 loads ESM
// through require when the graph has no top-level await) every entry gets a
// CommonJS twin that re-exports the ESM module, so CommonJS and ESM users share
// one module instance (one SessionError class, one libsodium load) instead of
// two copies of the code. TypeScript needs CommonJS declarations for the
// `require` condition: every dist/*.d.ts gets a .d.cts copy whose relative
// specifiers name the .cjs twins. See docs/decisions.md ("import and require").
//
// The legacy `node10` resolution (TypeScript's `"module": "commonjs"`) ignores `exports`: it reads `types`
// for the root and `typesVersions` for subpaths. Both must name the same flavour (.d.cts, the require
// declarations), or a project sees two copies of every class (the root's from .d.ts, a subpath's from
// .d.cts) and classes with #private members stop being assignable to each other. This script checks
// that package.json says so and fails the build otherwise.
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const dist = 'dist';
const pkg = JSON.parse(readFileSync('package.json', 'utf8'));

const fail = (message) => {
  console.error(`cjs-entries (${pkg.name}): ${message}`);
  process.exit(1);
};

let entries = 0;
const legacy = {}; // what node10 must resolve each subpath to: its require declarations
for (const [subpath, target] of Object.entries(pkg.exports ?? {})) {
  if (typeof target === 'string') continue; // ./package.json
  const esm = target.import?.default;
  const cjs = target.require?.default;
  const match = /^\.\/dist\/([\w.-]+)\.js$/.exec(esm ?? '');
  if (!match || cjs !== `./dist/${match[1]}.cjs`) {
    fail(`exports["${subpath}"] must be { import: { types, default: ./dist/X.js }, require: { types, default: ./dist/X.cjs } }`);
  }
  writeFileSync(
    join(dist, `${match[1]}.cjs`),
    `'use strict';\n// CommonJS entry: the ESM build, loaded through require(esm) (Node >= 22.12).\nmodule.exports = require('./${match[1]}.js');\n`,
  );
  if (target.require.types !== `./dist/${match[1]}.d.cts`) {
    fail(`exports["${subpath}"].require.types must be ./dist/${match[1]}.d.cts`);
  }
  legacy[subpath] = target.require.types;
  entries++;
}
if (entries === 0) fail('no entries in exports');

// node10: `types` for the root, `typesVersions` for every other subpath, all of them .d.cts.
if (pkg.types !== legacy['.']) fail(`"types" must be ${legacy['.']} (the root's require declarations), not ${pkg.types}`);
const expected = Object.fromEntries(
  Object.entries(legacy)
    .filter(([subpath]) => subpath !== '.')
    .map(([subpath, types]) => [subpath.slice(2), [types]]),
);
const actual = pkg.typesVersions?.['*'] ?? {};
if (
  Object.keys(pkg.typesVersions ?? {}).some((range) => range !== '*') ||
  JSON.stringify(actual) !== JSON.stringify(expected)
) {
  fail(`"typesVersions" must be ${JSON.stringify(Object.keys(expected).length > 0 ? { '*': expected } : undefined)}`);
}

// Relative specifiers in declarations: './x.js' -> './x.cjs', so a .d.cts only imports .d.cts files.
const relative = /(from\s+|import\s*\(\s*|import\s+)(['"])(\.{1,2}\/[^'"]+)\.js\2/g;
for (const file of readdirSync(dist)) {
  if (!file.endsWith('.d.ts')) continue;
  const text = readFileSync(join(dist, file), 'utf8');
  writeFileSync(join(dist, file.replace(/\.d\.ts$/, '.d.cts')), text.replace(relative, '$1$2$3.cjs$2'));
}
