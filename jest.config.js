// @ts-check
// Plain CommonJS: Node 22.18+ and 24+ load a jest.config.ts by stripping its types as an ES module,
// where __dirname does not exist; a .js config reads the same on every supported Node.
const { readdirSync, existsSync } = require('node:fs');
const { join } = require('node:path');

/** Every @tracewire/* import resolves to the package's source, compiled by ts-jest. */
const moduleNameMapper = { '^@tracewire/([a-z-]+)$': '<rootDir>/../$1/src/index.ts' };
const transform = (tsconfig) => ({ '^.+\\.ts$': ['ts-jest', { tsconfig }] });

// One jest project per package with a test folder.
const projects = readdirSync(join(__dirname, 'packages'))
  .filter((name) => existsSync(join(__dirname, 'packages', name, 'test')))
  .map((name) => {
    const project = {
      displayName: name,
      rootDir: `<rootDir>/packages/${name}`,
      testEnvironment: 'node',
      testMatch: ['<rootDir>/test/**/*.test.ts'],
      transform: transform('<rootDir>/../../tsconfig.json'),
      moduleNameMapper,
    };
    // A package may adjust its own project: test/jest.project.js exports (project) => overrides.
    const own = join(__dirname, 'packages', name, 'test', 'jest.project.js');
    return existsSync(own) ? { ...project, ...require(own)(project) } : project;
  });

/** @type {import('jest').Config} */
module.exports = {
  projects: [
    ...projects,
    ...(existsSync(join(__dirname, 'integration'))
      ? [{
          displayName: 'integration',
          rootDir: '<rootDir>/integration',
          testEnvironment: 'node',
          testMatch: ['<rootDir>/**/*.test.ts'],
          transform: transform('<rootDir>/../tsconfig.json'),
          moduleNameMapper: { '^@tracewire/([a-z-]+)$': '<rootDir>/../packages/$1/src/index.ts' },
        }]
      : []),
  ],
};
