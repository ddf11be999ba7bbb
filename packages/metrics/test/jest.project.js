// @ts-check
/**
 * Jest settings of this package's project (read by the root jest.config.js). The OpenTelemetry OTLP
 * exporters load node:http with a dynamic `import('http')`, which Jest's module VM refuses without
 * --experimental-vm-modules; in these tests that one expression of @opentelemetry/otlp-exporter-base
 * becomes `require`, nothing else. test/environment.test.ts runs the untouched exporters in a
 * separate Node.js process.
 */
const { join } = require('node:path');

/** @param {import('jest').Config} base */
module.exports = (base) => ({
  transform: {
    ...base.transform,
    'otlp-exporter-base/build/src/.+\\.js$': join(__dirname, 'dynamic-import-transform.js'),
  },
  transformIgnorePatterns: ['^(?!.*/otlp-exporter-base/build/src/).*/node_modules/'],
});
