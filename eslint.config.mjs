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
    // Electron stays a thin shell: only main/electron/ may import it.
    files: ['main/**/*.ts'],
    ignores: ['main/electron/**'],
    rules: { 'no-restricted-imports': ['error', { paths: ['electron'] }] },
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
