// A CommonJS TypeScript file (nodenext): it sees the packages' require condition and .d.cts declarations.
import core = require('@sessionkit/core');
import sqlite = require('@sessionkit/sqlite');
import conformance = require('@sessionkit/conformance');

export const store: core.SessionStore = new sqlite.SqliteStore({ path: ':memory:' });
export const memory = new core.MemoryStore();
export const tests: number = conformance.conformanceTests.length;
