'use strict';
// The Rust-JS contract (lib/contract.json) is defined once: JS requires the
// file, build.rs compiles it into the binary. This fails when the binary
// was built from another version of it, or when a copy of one of its
// constants turns up in the code instead of a reference to it.
const { test } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const binding = require('../../lib/binding');
const contract = require('../../lib/contract.json');

const ROOT = path.join(__dirname, '..', '..');

test('the loaded binary was built from lib/contract.json as it is', () => {
  assert.deepEqual(JSON.parse(binding.contract()), contract);
});

function files(dir, ext) {
  const out = [];
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...files(full, ext));
    else if (entry.name.endsWith(ext)) out.push(full);
  }
  return out;
}

// Code only: comments may name them.
function code(file) {
  let text = fs.readFileSync(file, 'utf8');
  if (file.endsWith('.rs')) text = text.split('#[cfg(test)]')[0];
  return text.split('\n').filter((line) => !/^\s*(\/\/|\*)/.test(line)).join('\n');
}

test('no constant of the contract is copied into the code', () => {
  const names = [contract.agent.cmd, ...Object.keys(contract.policies)];
  const sources = [
    ...files(path.join(ROOT, 'lib'), '.js'),
    ...files(path.join(ROOT, 'src'), '.rs'),
    path.join(ROOT, 'index.js'),
    path.join(ROOT, 'index.mjs'),
  ];
  const copies = [];
  for (const file of sources) {
    const text = code(file);
    for (const name of names) {
      // A name as a string, or a policy defined as a number.
      const asString = new RegExp(`['"]${name}['"]`);
      const asNumber = new RegExp(`${name}\\s*=\\s*\\d`);
      if (asString.test(text) || asNumber.test(text)) copies.push(`${path.relative(ROOT, file)}: ${name}`);
    }
  }
  assert.deepEqual(copies, []);
});
