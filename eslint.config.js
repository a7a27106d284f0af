// Lint: typescript-eslint, no import cycles, and pure cores kept free of I/O imports.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import importPlugin from 'eslint-plugin-import';
import { builtinModules } from 'node:module';

// Product code never imports tests, and only `kubedask bench` (cli/commands/bench.ts, itself
// loaded only when that command runs) imports bench/.
const noTestImports = { group: ['**/test/**', '../test', './test'], message: 'product code does not import tests' };
const noBenchImports = { group: ['**/bench/**', '../bench', './bench'], message: 'only cli/commands/bench.ts loads bench/' };
// Generated protobuf types stay in protocol/ and the servers; the client and the operator get
// plain types, converted at their one RPC edge file each. Besides protocol/generated, the
// protocol modules whose exports carry generated types are closed too: services.ts (the gRPC
// clients and `pb`), chunks.ts (DataChunk) and data-client.ts (DataChunks streams).
const wireModules = ['services', 'chunks', 'data-client'].flatMap((m) => [`**/protocol/${m}`, `**/protocol/${m}.js`]);
const noGeneratedImports = {
  group: ['**/protocol/generated/**', '**/generated/kubedask*', ...wireModules],
  message: 'generated protobuf types (protocol/generated, services, chunks, data-client) stay inside protocol/, the servers and the RPC edges (client/scheduler-rpc.ts, operator/control/scheduler-control.ts); use plain types',
};
const noDynamicGeneratedImports = {
  selector: 'ImportExpression[source.value=/(^|\\/)protocol\\/(generated\\/|(services|chunks|data-client)(\\.js)?$)/]',
  message: noGeneratedImports.message,
};
const noDynamicTestImports = { selector: 'ImportExpression[source.value=/(^|\\/)(test|bench)\\//]', message: 'product code does not load test/ or bench/' };
const generatedAllowed = ['protocol/**/*.ts', 'scheduler/server/**/*.ts', 'worker/runtime/**/*.ts', 'client/scheduler-rpc.ts', 'operator/control/scheduler-control.ts'];
const productImports = { patterns: [noTestImports, noBenchImports, noGeneratedImports] };
const edgeImports = { patterns: [noTestImports, noBenchImports] };
const benchImports = { patterns: [noTestImports, noGeneratedImports] };

// The pure cores (state machines, builders) import nothing from Node or the network: only
// their own folder.
// `allowed`: regexes of further paths (relative to ../) a core may import.
const pureCoreImports = (...allowed) => ({
  patterns: [
    noTestImports, noBenchImports, noGeneratedImports,
    { group: ['node:*', ...builtinModules, '@grpc/*', '@kubernetes/*'], message: 'pure core: no I/O imports' },
    // The builders may also read the resource types of operator/api.
    { regex: `^\\.\\./(?!(${['api', 'api/.*', ...allowed].join('|')})$)`, message: 'pure core: import only from this folder' },
  ],
});

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'protocol/generated/**', 'ml/onnx/generated/**', 'bench/**/*.py'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    plugins: { import: importPlugin },
    languageOptions: { globals: { process: 'readonly', console: 'readonly', Buffer: 'readonly', URL: 'readonly', setTimeout: 'readonly', clearTimeout: 'readonly', setInterval: 'readonly', clearInterval: 'readonly', setImmediate: 'readonly', TextEncoder: 'readonly', TextDecoder: 'readonly', queueMicrotask: 'readonly', performance: 'readonly', structuredClone: 'readonly', AbortController: 'readonly', AbortSignal: 'readonly' } },
    settings: {
      'import/resolver': { typescript: { project: './tsconfig.json' } },
      'import/extensions': ['.ts', '.js'],
      'import/parsers': { '@typescript-eslint/parser': ['.ts'] },
    },
    rules: {
      'import/no-cycle': ['error', { ignoreExternal: true }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-explicit-any': 'error',
    },
  },
  { files: ['**/*.ts'], ignores: ['test/**', 'bench/**', 'cli/commands/bench.ts'], rules: { 'no-restricted-imports': ['error', productImports] } },
  { files: generatedAllowed, rules: { 'no-restricted-imports': ['error', edgeImports] } },
  // The errors users catch import nothing, so that the pure scheduler state can throw them.
  {
    files: ['protocol/errors.ts'],
    rules: { 'no-restricted-syntax': ['error', { selector: 'ImportDeclaration, ExportAllDeclaration, ExportNamedDeclaration[source]', message: 'protocol/errors.ts imports nothing: pure cores throw its errors' }] },
  },
  { files: ['bench/**/*.ts', 'cli/commands/bench.ts'], rules: { 'no-restricted-imports': ['error', benchImports] } },
  {
    files: ['scheduler/state/**/*.ts', 'worker/state/**/*.ts', 'operator/builders/**/*.ts', 'operator/api/**/*.ts',
      // The autoscaler's decision; runner.ts and inputs.ts are its I/O edge.
      'operator/autoscaler/{types,policy,history,behavior,limits,decide}.ts'],
    rules: {
      'no-restricted-imports': ['error', pureCoreImports()],
      'no-restricted-globals': ['error', { name: 'process', message: 'pure core: options come in, not from the environment' }],
      'no-restricted-properties': ['error', { object: 'Date', property: 'now', message: 'pure core: time arrives with events' }],
    },
  },
  // The scheduler state throws the client's GraphValidationError itself (one class, no bridge).
  { files: ['scheduler/state/**/*.ts'], rules: { 'no-restricted-imports': ['error', pureCoreImports('\\.\\./protocol/errors\\.js')] } },
  // Each command's code loads only when it runs: the CLI's entry and its light option definitions
  // name a command's module in a dynamic import() in its action, never in a static import.
  {
    files: ['cli/main.ts', 'cli/program.ts', 'cli/definitions/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        patterns: [...productImports.patterns, {
          group: ['../commands/*', './commands/*'], allowTypeImports: true,
          message: 'a command\'s module loads only when it runs: import() it in the action',
        }],
      }],
    },
  },
  // A dynamic import() is no way around the rules above.
  {
    files: ['**/*.ts'], ignores: ['test/**', 'bench/**', 'cli/commands/bench.ts', 'protocol/errors.ts'],
    rules: { 'no-restricted-syntax': ['error', noDynamicTestImports] },
  },
  {
    files: ['**/*.ts'], ignores: ['test/**', 'bench/**', 'cli/commands/bench.ts', ...generatedAllowed],
    rules: { 'no-restricted-syntax': ['error', noDynamicTestImports, noDynamicGeneratedImports] },
  },
  { files: ['bench/**/*.ts', 'cli/commands/bench.ts'], rules: { 'no-restricted-syntax': ['error', noDynamicGeneratedImports] } },
  // The dashboard's pages run in the browser: plain ES modules, uPlot loaded as a global.
  { files: ['dashboard/static/**/*.js'], languageOptions: { globals: Object.fromEntries(['window', 'document', 'fetch', 'TextDecoderStream', 'URLSearchParams', 'requestAnimationFrame', 'cancelAnimationFrame', 'uPlot'].map((name) => [name, 'readonly'])) } },
);
