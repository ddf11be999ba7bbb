/**
 * The same calls on the oldest @grpc/grpc-js the peer range allows, 1.10.0 (the first with server
 * interceptors): every `@grpc/grpc-js` this test loads, the interceptors' own included, is that one.
 */
jest.mock('@grpc/grpc-js', () => jest.requireActual('grpc-js-oldest'));

import * as grpc from '@grpc/grpc-js';
import { defineSuite } from './suite';

const version: string = require('grpc-js-oldest/package.json').version;
if (version !== '1.10.0') throw new Error(`grpc-js-oldest is ${version}, not 1.10.0`);
defineSuite(`${version} (oldest)`, grpc);
