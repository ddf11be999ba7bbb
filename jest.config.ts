import type { Config } from 'jest';
import { readdirSync, existsSync } from 'node:fs';
import { join } from 'node:path';

const moduleNameMapper: Record<string, string> = {
  '^@tracewire/([a-z-]+)$': '<rootDir>/../$1/src/index.ts',
};

// One jest project per package, each compiled from source by ts-jest.
const projects = readdirSync(join(__dirname, 'packages'))
  .filter((name) => existsSync(join(__dirname, 'packages', name, 'test')))
  .map((name) => ({
    displayName: name,
    rootDir: `<rootDir>/packages/${name}`,
    testEnvironment: 'node',
    testMatch: ['<rootDir>/test/**/*.test.ts'],
    transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: '<rootDir>/../../tsconfig.json' }] },
    moduleNameMapper,
  }));

const config: Config = {
  projects: [
    ...projects,
    ...(existsSync(join(__dirname, 'integration'))
      ? [{
          displayName: 'integration',
          rootDir: '<rootDir>/integration',
          testEnvironment: 'node',
          testMatch: ['<rootDir>/**/*.test.ts'],
          transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: '<rootDir>/../tsconfig.json' }] },
          moduleNameMapper: { '^@tracewire/([a-z-]+)$': '<rootDir>/../packages/$1/src/index.ts' },
        }]
      : []),
  ],
};

export default config;
