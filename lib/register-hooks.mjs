// Off-thread module hooks of rust-cluster/register, for Node versions
// without module.registerHooks (see register.js).
import { createRequire } from 'node:module';

const { resolveCluster } = createRequire(import.meta.url)('./register-resolve.js');
let urls;

export function initialize(data) {
  urls = data;
}

export function resolve(specifier, context, next) {
  return resolveCluster(urls, specifier, context) || next(specifier, context);
}
