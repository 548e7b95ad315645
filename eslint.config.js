import eslint from '@eslint/js'
import prettier from 'eslint-config-prettier'
import tseslint from 'typescript-eslint'

/** Forbid spreading into calls of the named methods: the spread array's size is the stack's. */
function spreadInto(methods) {
  return {
    selector: `CallExpression[callee.property.name=/^(${methods})$/] > SpreadElement`,
    message: 'Do not spread an array of unbounded size into a call (stack overflow at ~125k elements).',
  }
}

export default tseslint.config(
  {
    ignores: [
      'dist/',
      'node_modules/',
      'man/',
      '.neo4j-test/',
      '.venv-ci/',
      'coverage/',
      'bin/',
      'test/fixtures/',
      'eslint.config.js',
    ],
  },
  eslint.configs.recommended,
  ...tseslint.configs.strictTypeChecked,
  ...tseslint.configs.stylisticTypeChecked,
  {
    languageOptions: {
      parserOptions: {projectService: true, tsconfigRootDir: import.meta.dirname},
    },
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/restrict-template-expressions': ['error', {allowNumber: true, allowBoolean: true}],
      // Spreading an array into a call puts every element on the stack: past ~125k it throws
      // "Maximum call stack size exceeded" (issue 18). Use a loop or reduce instead.
      'no-restricted-syntax': ['error', spreadInto('min|max|fromCharCode|fromCodePoint')],
    },
  },
  {
    // Where arrays grow with the repository (events, files, rows), no spread into push/unshift either.
    files: ['src/core/ingest/**/*.ts', 'src/core/graph/**/*.ts', 'src/bench/**/*.ts'],
    rules: {'no-restricted-syntax': ['error', spreadInto('min|max|fromCharCode|fromCodePoint|push|unshift|splice')]},
  },
  {
    // oclif's run() is async by contract even where a command's work is synchronous.
    files: ['src/commands/**/*.ts'],
    rules: {'@typescript-eslint/require-await': 'off'},
  },
  {
    // Commands, their human output and the bench use the core only through its public surface.
    files: ['src/commands/**/*.ts', 'src/ui/**/*.ts', 'src/hooks/**/*.ts', 'src/bench/**/*.ts', 'src/base-command.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['**/core/**', '!**/core/index.js'],
              message: 'Import the core through src/core/index.ts, its public surface.',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['test/**/*.ts'],
    rules: {
      '@typescript-eslint/no-unused-expressions': 'off',
      '@typescript-eslint/no-non-null-assertion': 'off',
    },
  },
  prettier,
)
