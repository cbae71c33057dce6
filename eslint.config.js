import js from '@eslint/js'
import reactHooks from 'eslint-plugin-react-hooks'
import globals from 'globals'
import tseslint from 'typescript-eslint'

const serverOnly = {
  patterns: [
    { group: ['*.server', '*.server.*', '**/*.server', '**/*.server.*'], message: 'Server-only module: the classic compiler empties it in the browser bundle. Load data in a loader instead.' },
    { group: ['#db/*', '../db/*', 'pg', 'stripe', 'resend', 'drizzle-orm', 'drizzle-orm/*', 'node:*'], message: 'Server-only dependency: keep it in *.server.ts modules.' },
  ],
}

export default tseslint.config(
  { ignores: ['build/**', 'public/build/**', '.data/**', 'node_modules/**', 'db/migrations/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node, ...globals.browser } },
    plugins: { 'react-hooks': reactHooks },
    rules: {
      ...reactHooks.configs.recommended.rules,
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/ban-ts-comment': ['error', { 'ts-expect-error': 'allow-with-description', 'ts-ignore': true }],
      '@typescript-eslint/no-non-null-assertion': 'off',
    },
  },
  {
    // Components and the browser entry run in the browser: nothing server-only may reach them.
    files: ['app/components/**', 'app/entry.client.tsx', 'app/utils/money.ts', 'app/utils/progress.ts', 'app/utils/donation-form.ts'],
    rules: { 'no-restricted-imports': ['error', serverOnly] },
  },
  {
    // db/ and emails/ are below the app: they never import from it.
    files: ['db/**', 'emails/**'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [{ group: ['#app/*', '../app/*'], message: 'db/ and emails/ must not depend on app/.' }] }],
    },
  },
  {
    // Business rules never depend on routes or components.
    files: ['app/models/**'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [{ group: ['#app/routes/*', '#app/components/*'], message: 'Models must not import routes or components.' }] }],
    },
  },
)
