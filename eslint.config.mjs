// One lint setup for the whole tree; formatting is Prettier's job (eslint-config-prettier turns
// off the stylistic rules that would fight it).
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import prettier from 'eslint-config-prettier';

const adapterModules = ['electron', 'ssh2', 'better-sqlite3', 'node-notifier'];
const nodeIo = [
  'fs',
  'node:fs',
  'fs/promises',
  'node:fs/promises',
  'child_process',
  'node:child_process',
];

/** Import patterns that reach into the named folders of main/ from main/ or one floor below. */
const frontDoors = (folders) =>
  folders.flatMap((f) => [`../${f}/*`, `./${f}/*`, `../${f}.js`, `./${f}.js`]);

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'test-output/**', 'release/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  prettier,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
    },
  },
  {
    // Electron stays a thin shell: only main/electron/ may import it. The layers below both front
    // doors (monitor, ssh, sources, store, config, …) import neither of them.
    files: ['main/**/*.ts'],
    ignores: ['main/electron/**', 'main/app/**', 'main/cli/**', 'main/cli.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        { paths: ['electron'], patterns: frontDoors(['cli', 'app', 'electron']) },
      ],
    },
  },
  {
    // The app's services sit under main/electron/ and beside the CLI.
    files: ['main/app/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        { paths: ['electron'], patterns: frontDoors(['cli', 'electron']) },
      ],
    },
  },
  {
    // The app is a sibling of the CLI, not built on it (house style: two front doors).
    files: ['main/electron/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: frontDoors(['cli']) }] },
  },
  {
    // … and the CLI is not built on the app.
    files: ['main/cli/**/*.ts', 'main/cli.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        { paths: ['electron'], patterns: frontDoors(['app', 'electron']) },
      ],
    },
  },
  {
    // The core is pure logic: adapters and I/O live outside it (house style).
    files: ['main/core/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        { paths: [...adapterModules, ...nodeIo], patterns: ['../*', '!../core/*'] },
      ],
      'no-restricted-syntax': [
        'error',
        {
          selector: "MemberExpression[object.name='Date'][property.name='now']",
          message: 'Inject the clock.',
        },
        {
          selector: "NewExpression[callee.name='Date'][arguments.length=0]",
          message: 'Inject the clock.',
        },
      ],
    },
  },
  {
    // The window never reaches Node or Electron.
    files: ['renderer/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [...adapterModules, ...nodeIo],
          patterns: ['node:*', '../main/*', '!../main/core'],
        },
      ],
    },
  },
);
