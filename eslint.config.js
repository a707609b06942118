// typescript-eslint with type information over the whole tree; `npm run lint` (and .ci/run).
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['node_modules/', 'runs/', 'bench/results/', 'app/dashboard/dist/'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      // A function longer than a screen is a warning, not a failure: split it when you touch it.
      'max-lines-per-function': ['warn', { max: 80, skipBlankLines: true, skipComments: true }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    // The few JavaScript files (bin/fedsim.js, this config) are outside the TypeScript program, which
    // does not allow JS: they get the untyped rules only.
    files: ['**/*.js'],
    extends: [tseslint.configs.disableTypeChecked],
  },
  {
    // The in-process bus and task queue stand in for NATS and JetStream behind the same async
    // interfaces. Their methods stay async with nothing to await so that a failure is a rejection,
    // as over NATS, and callers follow the same path on either bus.
    files: ['shared/bus/in-process-*.ts'],
    rules: { '@typescript-eslint/require-await': 'off' },
  },
  {
    // Tests use vitest's async callbacks and loose fixtures; the typed rules that only flag those stay off there.
    files: ['test/**/*.ts', 'bench/**/*.ts'],
    rules: { '@typescript-eslint/no-floating-promises': 'off', 'max-lines-per-function': 'off' },
  },
);
