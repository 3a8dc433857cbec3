// Bundles an app with rollup (node-resolve + commonjs): `node rollup-build.mjs <app.mjs> <outdir>`.
// Prints the warnings and the bundled module ids as JSON.
import { rollup } from 'rollup';
import commonjs from '@rollup/plugin-commonjs';
import { nodeResolve } from '@rollup/plugin-node-resolve';

const warnings = [];
const bundle = await rollup({
  input: process.argv[2],
  // A native driver ships in node_modules beside the bundle (docs/bundling.md).
  external: ['better-sqlite3'],
  plugins: [nodeResolve({ preferBuiltins: true, exportConditions: ['node'] }), commonjs()],
  onwarn: (warning) => warnings.push({ code: warning.code, message: warning.message }),
});
await bundle.write({ dir: process.argv[3], format: 'es', entryFileNames: 'app.mjs' });
console.log(JSON.stringify({ warnings, modules: bundle.watchFiles }));
await bundle.close();
