import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';
import { importX } from 'eslint-plugin-import-x';
import { createTypeScriptImportResolver } from 'eslint-import-resolver-typescript';
import jsdoc from 'eslint-plugin-jsdoc';

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', 'bench/results/', 'coverage/'] },
  js.configs.recommended,
  ...tseslint.configs.strictTypeChecked,
  {
    languageOptions: {
      globals: globals.node,
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      // Fastify plugins and handlers are async by contract, whether or not they await
      '@typescript-eslint/require-await': 'off',
      '@typescript-eslint/restrict-template-expressions': ['error', { allowNumber: true }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    files: ['src/**/*.ts', 'test/**/*.ts', 'bench/**/*.ts'],
    rules: {
      'no-restricted-syntax': ['error', { selector: 'ExportDefaultDeclaration', message: 'Use named exports.' }],
    },
  },
  {
    // a cycle means two files are one layer pretending to be two: imports only point down
    files: ['src/**/*.ts', 'bench/**/*.ts', 'test/**/*.ts'],
    plugins: { 'import-x': importX },
    settings: {
      ...importX.flatConfigs.typescript.settings,
      'import-x/resolver-next': [createTypeScriptImportResolver({ project: './tsconfig.json' })],
    },
    rules: {
      'import-x/no-cycle': ['error', { ignoreExternal: true }],
      // the layers of docs/architecture.md: each folder imports only the layers below it
      'import-x/no-restricted-paths': [
        'error',
        {
          zones: [
            {
              target: './src/domain',
              from: ['./src/store', './src/services', './src/infra', './src/http', './src/cli'],
            },
            { target: './src/store', from: ['./src/services', './src/infra', './src/http', './src/cli'] },
            { target: './src/services', from: ['./src/infra', './src/http', './src/cli'] },
            { target: './src/infra', from: ['./src/services', './src/http', './src/cli'] },
            { target: './src/http', from: ['./src/cli'] },
          ].map((zone) => ({ ...zone, message: 'imports point down the layers (docs/architecture.md)' })),
        },
      ],
    },
  },
  {
    // every export of the library and service code says in one line what it is for. Named by selectors, not
    // publicOnly: publicOnly counts a method of a documented exported class as documented, so it never checks one
    files: ['src/**/*.ts'],
    ignores: ['src/**/*.test.ts'],
    plugins: { jsdoc },
    rules: {
      'jsdoc/require-jsdoc': [
        'error',
        {
          require: {
            FunctionDeclaration: false,
            ClassDeclaration: false,
            ArrowFunctionExpression: false,
            FunctionExpression: false,
            MethodDefinition: false,
            ClassExpression: false,
          },
          contexts: [
            // the export statement itself: its leading comment is the declaration's doc comment
            'ExportNamedDeclaration[declaration!=null]',
            'ExportNamedDeclaration > ClassDeclaration > ClassBody > MethodDefinition[accessibility!="private"][accessibility!="protected"][key.type!="PrivateIdentifier"]',
            'ExportNamedDeclaration > ClassDeclaration > ClassBody > TSAbstractMethodDefinition[accessibility!="private"][accessibility!="protected"]',
          ],
          checkConstructors: false,
        },
      ],
      // a name exported in a list (`function f() {}; export { f };`) escapes the selectors above
      'no-restricted-syntax': [
        'error',
        { selector: 'ExportDefaultDeclaration', message: 'Use named exports.' },
        {
          selector: 'ExportNamedDeclaration[source=null][declaration=null]',
          message:
            'Export a declaration where it is made (export function ..., export const ...), so it is documented there.',
        },
      ],
    },
  },
  {
    files: ['**/*.js', '**/*.mjs'],
    ...tseslint.configs.disableTypeChecked,
  },
  {
    // the storefront widget is a plain browser script, served as it is
    files: ['src/web/**/*.js'],
    languageOptions: { globals: globals.browser, sourceType: 'script' },
  },
  {
    files: ['**/*.test.ts', 'test/**/*.ts'],
    rules: {
      '@typescript-eslint/no-non-null-assertion': 'off',
    },
  },
);
