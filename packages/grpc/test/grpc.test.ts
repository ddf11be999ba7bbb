/** The interceptors on the newest @grpc/grpc-js the peer range allows (the devDependency). */
import * as grpc from '@grpc/grpc-js';
import { defineSuite } from './suite';

defineSuite(`${require('@grpc/grpc-js/package.json').version} (newest)`, grpc);
