'use strict';
// JSON.stringify's text, byte for byte, written as UTF-8 straight into a
// frame buffer. It exists for long strings: V8's JSON.stringify escapes a
// long string a character at a time (about 90 µs for 64 KiB), while a string
// that needs no escaping (ASCII, no `"`, `\` or control character) is just
// copied between quotes here, checked with native searches.
//
// The walk follows JSON.stringify: own enumerable string keys in order,
// toJSON(key) called where there is one, undefined/functions/symbols left
// out of objects and written as null in arrays, non-finite numbers as null.
// Getters run once. What it does not follow (proxies, boxed primitives,
// JSON.rawJSON, BigInt, cycles, nesting beyond MAX_DEPTH) makes encode()
// return -1, and the caller uses JSON.stringify: a getter met before then
// runs again.
const { isProxy, isBoxedPrimitive } = require('node:util').types;

// Strings at least this long are checked and copied; shorter ones go
// through JSON.stringify (one native call each).
const LONG = 256;
const MAX_DEPTH = 64;
// A buffer grown past this for one big message is not kept for the next.
const KEEP_BYTES = 1024 * 1024;

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const isRawJSON = typeof JSON.isRawJSON === 'function' ? JSON.isRawJSON : () => false;

let out = Buffer.allocUnsafeSlow(64 * 1024);
let words = new Uint32Array(out.buffer, out.byteOffset, out.length >>> 2);
let at = 0;
let failed = false;
const stack = [];

function room(n) {
  if (at + n <= out.length) return;
  resize(Math.max(out.length * 2, at + n));
}

function resize(size) {
  const bigger = Buffer.allocUnsafeSlow(size);
  out.copy(bigger, 0, 0, at);
  out = bigger;
  words = new Uint32Array(out.buffer, out.byteOffset, out.length >>> 2);
}

// Punctuation, numbers, true/false/null: short ASCII, copied in JS (a
// native call costs more).
function ascii(text) {
  room(text.length);
  for (let i = 0; i < text.length; i++) out[at++] = text.charCodeAt(i);
}

// Any byte below 0x20 in out[start, end), which holds ASCII: four bytes at
// a time (a byte b < 0x20 is one where b - 0x20 borrows and b < 0x80).
function hasControl(start, end) {
  let i = start;
  for (; i < end && (i & 3) !== 0; i++) if (out[i] < 0x20) return true;
  const last = end >>> 2;
  for (let w = i >>> 2; w < last; w++) {
    const x = words[w];
    if (((x - 0x20202020) & ~x & 0x80808080) !== 0) return true;
  }
  for (i = Math.max(i, last << 2); i < end; i++) if (out[i] < 0x20) return true;
  return false;
}

function writeString(s) {
  if (s.length >= LONG) {
    room(s.length * 3 + 2);
    const start = at + 1;
    const n = out.utf8Write(s, start);
    const end = start + n;
    if (n === s.length) {
      const written = out.subarray(start, end);
      if (written.indexOf(QUOTE) === -1 && written.indexOf(BACKSLASH) === -1 && !hasControl(start, end)) {
        out[at] = QUOTE;
        out[end] = QUOTE;
        at = end + 1;
        return;
      }
    }
  }
  const text = JSON.stringify(s);
  room(text.length * 3);
  at += out.utf8Write(text, at);
}

// Like JSON.stringify's SerializeJSValue: false when the value is left out
// (undefined, a function, a symbol).
function writeValue(value, key, depth) {
  // JSON.stringify asks any object, functions included, for toJSON.
  if (((typeof value === 'object' && value !== null) || typeof value === 'function') &&
      typeof value.toJSON === 'function') {
    value = value.toJSON(key);
  }
  switch (typeof value) {
    case 'string': writeString(value); return true;
    case 'number': ascii(Number.isFinite(value) ? `${value}` : 'null'); return true;
    case 'boolean': ascii(value ? 'true' : 'false'); return true;
    case 'object':
      if (value === null) ascii('null');
      else writeObject(value, depth);
      return true;
    case 'bigint':
      failed = true;
      return true;
    default:
      return false;
  }
}

function writeObject(object, depth) {
  if (depth >= MAX_DEPTH || stack.includes(object) || isProxy(object) || isBoxedPrimitive(object) ||
      isRawJSON(object)) {
    failed = true;
    return;
  }
  stack.push(object);
  if (Array.isArray(object)) {
    ascii('[');
    const length = object.length;
    for (let i = 0; i < length && !failed; i++) {
      if (i > 0) ascii(',');
      if (!writeValue(object[i], `${i}`, depth + 1)) ascii('null');
    }
    ascii(']');
  } else {
    ascii('{');
    const keys = Object.keys(object);
    let first = true;
    for (let i = 0; i < keys.length && !failed; i++) {
      const key = keys[i];
      const value = object[key];
      const mark = at;
      if (!first) ascii(',');
      writeString(key);
      ascii(':');
      if (writeValue(value, key, depth + 1)) first = false;
      else at = mark;
    }
    ascii('}');
  }
  stack.pop();
}

/**
 * Write `message` as a json frame (its JSON text and `\n`) at the start of
 * `encode.frame`, valid until the next call; returns the frame's length, or
 * -1 when JSON.stringify must do it.
 */
function encode(message) {
  at = 0;
  if (out.length > KEEP_BYTES) resize(64 * 1024);
  failed = false;
  let written;
  try {
    written = writeValue(message, '', 0);
  } finally {
    stack.length = 0;
  }
  // JSON.stringify(undefined) is undefined: Node writes "undefined".
  if (failed || !written) return -1;
  room(1);
  out[at++] = 0x0a;
  encode.frame = out;
  return at;
}
encode.frame = null;

module.exports = { encode };
