#!/usr/bin/env node
'use strict';
// The package's CLI: see src/cli.ts. Stops on Ctrl-C or SIGTERM.
const { main } = require('../dist/cli.js');

main(process.argv.slice(2)).then((close) => {
  if (process.exitCode) return close();
  for (const sig of ['SIGINT', 'SIGTERM']) {
    process.once(sig, () => {
      close().then(() => process.exit(0));
    });
  }
  return undefined;
});
