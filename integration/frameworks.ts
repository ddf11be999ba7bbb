/**
 * The web frameworks, loaded from the adapter packages that depend on them (the integration
 * folder has no dependencies of its own).
 */
import { createRequire } from 'node:module';
import { join } from 'node:path';

const from = (pkg: string) => createRequire(join(__dirname, '..', 'packages', pkg, 'package.json'));

export const express: any = from('express')('express');
export const Koa: any = from('koa')('koa');
export const Router: any = from('koa')('@koa/router');
export const Fastify: any = from('fastify')('fastify');
