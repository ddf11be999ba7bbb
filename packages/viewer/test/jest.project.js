// @ts-check
/**
 * Jest settings of this package's project (read by the root jest.config.js): metrics.test.ts sends
 * through @tracewire/metrics' OTLP exporters, whose `import('http')` Jest's module VM refuses; the
 * same one-expression rewrite as packages/metrics/test/jest.project.js.
 */
module.exports = require('../../metrics/test/jest.project.js');
