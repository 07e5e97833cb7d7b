// Imports of names the module does not have.
import { nope } from 'rust-cluster'; // expect-error: no such export
import { type Settings } from 'rust-cluster'; // expect-error: it is ClusterSettings
import * as cluster from 'rust-cluster';

const t: cluster.NotAType = 1; // expect-error: no such type
console.log(nope, t);
export type S = Settings;
