// require() of every entry a package exports, from CommonJS: `node require.cjs <specifier>...`.
// Prints { specifier: number of exports | error code }.
'use strict';
const results = {};
for (const specifier of process.argv.slice(2)) {
  try {
    results[specifier] = Object.keys(require(specifier)).length;
  } catch (error) {
    results[specifier] = `${error.code ?? 'error'}: ${String(error.message).split('\n')[0]}`;
  }
}
console.log(JSON.stringify(results));
