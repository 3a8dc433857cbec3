export { run, type CliIo } from './main.js';
export { openStore, redact, type OpenedStore, type OpenStoreOptions } from './open-store.js';
export { EXPORT_FORMAT, EXPORT_VERSION, readExport, type ExportedSession, type SessionHeader } from './export-format.js';
export { mapPythonItems, type MapResult } from './python-items.js';
export { readPythonRedis, readPythonSqlite, type PythonSession } from './python-source.js';
export { copySessions, verifyCopy, type CopyOptions, type CopyReport, type VerifyReport } from './copy.js';
export { historyHash } from './sessions.js';
