#!/usr/bin/env node
// The CLI runs the compiled code; `npm ci` builds it (the prepare script).
try {
  await import('../dist/cli/main.js');
} catch (error) {
  if (error && error.code === 'ERR_MODULE_NOT_FOUND' && String(error.message).includes('dist/cli/main.js')) {
    process.stderr.write('stockroom is not built yet: run `npm run build` (npm ci does it for you)\n');
    process.exit(3);
  }
  throw error;
}
