import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import reactHooks from 'eslint-plugin-react-hooks';

export default tseslint.config(
  { ignores: ['dist/', 'web/dist/', 'node_modules/', 'coverage/', '.hygie/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      globals: { process: 'readonly', console: 'readonly', URL: 'readonly', document: 'readonly', fetch: 'readonly' },
    },
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-console': 'off',
      eqeqeq: ['error', 'always'],
    },
  },
  {
    // Server code logs through pino (which redacts personal data), never the console.
    files: ['src/**/*.ts'],
    ignores: ['src/main.ts', 'src/cli/**'],
    rules: { 'no-console': 'error' },
  },
  {
    files: ['src/**/*.ts'],
    ignores: ['src/config.ts'],
    rules: {
      'no-restricted-properties': ['error', { object: 'process', property: 'env', message: 'Read configuration in src/config.ts only.' }],
    },
  },
  {
    // The browser application: hooks rules, and no storage of anything but the language choice.
    files: ['web/**/*.{ts,tsx}'],
    ...reactHooks.configs.flat.recommended,
  },
  {
    files: ['web/src/**/*.{ts,tsx}'],
    ignores: ['web/src/i18n/index.ts'],
    rules: {
      'no-restricted-globals': ['error', { name: 'sessionStorage', message: 'No personal data in browser storage.' }, { name: 'localStorage', message: 'Only the language choice is stored (web/src/i18n).' }],
      'no-restricted-properties': [
        'error',
        { object: 'window', property: 'localStorage', message: 'Only the language choice is stored (web/src/i18n).' },
        { object: 'window', property: 'sessionStorage', message: 'No personal data in browser storage.' },
      ],
    },
  },
);
