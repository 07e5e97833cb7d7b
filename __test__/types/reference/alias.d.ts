// Used only by tsconfig.reference*.json: makes 'rust-cluster' mean exactly
// what @types/node declares for 'node:cluster', so the compat/ corpus can be
// checked against @types/node itself.
declare module 'rust-cluster' {
  export * from 'node:cluster';
  export { default } from 'node:cluster';
}
