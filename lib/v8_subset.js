'use strict';
// V8's value serialization (Node's `advanced` IPC mode) for the values most
// messages are made of: undefined, null, booleans, numbers, strings, plain
// objects and dense arrays. Node creates a v8.Serializer or Deserializer per
// message, which costs more than the rest of a small message's trip; these
// plain functions do the same job for the subset, and say when a value or
// payload is outside it so the caller uses Node's classes instead.
//
// Rule: what comes out is exactly what Node's classes would give (the same
// value on the other side, the same getters called once, in order), or
// nothing: encode() returns -1, decode() returns NOT_SUBSET. Decoding has
// no side effects, so falling back is always exact. The format is V8's
// src/objects/value-serializer.cc; src/channel/v8.rs reads the same subset
// in Rust.
const v8 = require('node:v8');
const { isProxy, isArgumentsObject, isModuleNamespaceObject } = require('node:util').types;

const NOT_SUBSET = Symbol('not in the subset');

// The version this Node's V8 writes (v8.serialize's header: 0xFF, version).
const VERSION = v8.serialize(null)[1];
// The oldest version whose subset tags read as they do now.
const MIN_VERSION = 13;

const TAG = {
  PADDING: 0x00,
  VERIFY_OBJECT_COUNT: 0x3f, // '?'
  THE_HOLE: 0x2d, // '-'
  UNDEFINED: 0x5f, // '_'
  NULL: 0x30, // '0'
  TRUE: 0x54, // 'T'
  FALSE: 0x46, // 'F'
  INT32: 0x49, // 'I'
  UINT32: 0x55, // 'U'
  DOUBLE: 0x4e, // 'N'
  ONE_BYTE_STRING: 0x22, // '"'
  TWO_BYTE_STRING: 0x63, // 'c'
  BEGIN_OBJECT: 0x6f, // 'o'
  END_OBJECT: 0x7b, // '{'
  BEGIN_DENSE_ARRAY: 0x41, // 'A'
  END_DENSE_ARRAY: 0x24, // '$'
  VERSION: 0xff,
};

// Bounds that keep the walk cheap; past them Node's classes take over.
const MAX_DEPTH = 64;
const MAX_OBJECTS = 64;
// A buffer grown past this for one big message is not kept for the next.
const KEEP_BYTES = 1024 * 1024;

// ---- encode --------------------------------------------------------------

let out = Buffer.allocUnsafeSlow(64 * 1024);
let at = 0;
// The objects of the message being written: the first `seenCount` slots
// (emptied, not shortened, after each message: shortening the array would
// give its storage back and every message would allocate it again).
const seen = new Array(MAX_OBJECTS).fill(undefined);
let seenCount = 0;
let failed = false;

function room(n) {
  if (at + n > out.length) resize(Math.max(out.length * 2, at + n));
}

function resize(size) {
  const bigger = Buffer.allocUnsafeSlow(size);
  out.copy(bigger, 0, 0, at);
  out = bigger;
}

function varint(n) {
  room(5);
  while (n >= 0x80) {
    out[at++] = (n & 0x7f) | 0x80;
    n >>>= 7;
  }
  out[at++] = n;
}

function writeString(s) {
  const length = s.length;
  if (length < 0x80) {
    // Short: copy the characters while checking they fit in a byte (one
    // call into C++ per string costs more than the loop).
    room(2 + length);
    const start = at;
    out[at++] = TAG.ONE_BYTE_STRING;
    out[at++] = length;
    for (let i = 0; i < length; i++) {
      const c = s.charCodeAt(i);
      if (c > 0xff) {
        at = start;
        return writeTwoByte(s);
      }
      out[at++] = c;
    }
    return;
  }
  // Long: one-byte when it is ASCII (Buffer.byteLength is native). Else
  // V8 writes it as it holds it, one byte or two per character, which JS
  // cannot see; the size decides when send() reports backpressure, so such
  // messages are left to V8.
  if (Buffer.byteLength(s, 'utf8') !== length) {
    failed = true;
    return;
  }
  room(6 + length);
  out[at++] = TAG.ONE_BYTE_STRING;
  varint(length);
  at += out.latin1Write(s, at, length);
}

function writeTwoByte(s) {
  const bytes = s.length * 2;
  // V8 pads so that the characters start at an even offset.
  room(7 + bytes);
  let header = 1;
  for (let n = bytes; n >= 0x80; n >>>= 7) header++;
  if ((at + header) & 1) out[at++] = TAG.PADDING;
  out[at++] = TAG.TWO_BYTE_STRING;
  varint(bytes);
  at += out.ucs2Write(s, at, bytes);
}

function writeNumber(n) {
  if ((n | 0) === n && !Object.is(n, -0)) {
    out[at++] = TAG.INT32;
    varint(((n << 1) ^ (n >> 31)) >>> 0);
    return;
  }
  out[at++] = TAG.DOUBLE;
  room(8);
  out.writeDoubleLE(n, at);
  at += 8;
}

function writeValue(value, depth) {
  room(1);
  switch (typeof value) {
    case 'undefined': out[at++] = TAG.UNDEFINED; return;
    case 'boolean': out[at++] = value ? TAG.TRUE : TAG.FALSE; return;
    case 'number': writeNumber(value); return;
    case 'string': writeString(value); return;
    case 'object':
      if (value === null) {
        out[at++] = TAG.NULL;
        return;
      }
      writeObject(value, depth);
      return;
    default:
      failed = true;
  }
}

function writeObject(object, depth) {
  // V8 writes an object seen before in the same message as a reference to
  // it; such messages (and deep or big ones) are left to V8.
  if (depth >= MAX_DEPTH || seenCount >= MAX_OBJECTS || wasSeen(object) || isProxy(object)) {
    failed = true;
    return;
  }
  seen[seenCount++] = object;
  const proto = Object.getPrototypeOf(object);
  if (Array.isArray(object)) {
    if (proto !== Array.prototype) {
      failed = true;
      return;
    }
    writeArray(object, depth);
    return;
  }
  if ((proto !== Object.prototype && proto !== null) || isArgumentsObject(object) ||
      isModuleNamespaceObject(object)) {
    failed = true;
    return;
  }
  const keys = Object.keys(object);
  out[at++] = TAG.BEGIN_OBJECT;
  for (let i = 0; i < keys.length && !failed; i++) {
    writeString(keys[i]);
    writeValue(object[keys[i]], depth + 1);
  }
  room(1);
  out[at++] = TAG.END_OBJECT;
  varint(keys.length);
}

function wasSeen(object) {
  for (let i = 0; i < seenCount; i++) if (seen[i] === object) return true;
  return false;
}

function writeArray(array, depth) {
  const length = array.length;
  // Only arrays whose own enumerable keys are exactly 0..length-1: no holes
  // (V8 writes those sparse) and no named properties.
  const keys = Object.keys(array);
  if (keys.length !== length || (length > 0 && keys[length - 1] !== `${length - 1}`)) {
    failed = true;
    return;
  }
  out[at++] = TAG.BEGIN_DENSE_ARRAY;
  varint(length);
  for (let i = 0; i < length && !failed; i++) writeValue(array[i], depth + 1);
  room(1);
  out[at++] = TAG.END_DENSE_ARRAY;
  varint(0);
  varint(length);
}

/**
 * Encode `message` as an advanced IPC frame (4-byte big-endian length, V8
 * header, value) at the start of `encode.frame`, valid until the next call.
 * Returns the frame's length, or -1 when the message is outside the subset.
 */
function encode(message) {
  at = 0;
  if (out.length > KEEP_BYTES) resize(64 * 1024);
  at = 4;
  failed = false;
  out[at++] = TAG.VERSION;
  varint(VERSION);
  try {
    // A getter may throw, as under Node's serializer; nothing is kept.
    writeValue(message, 0);
  } finally {
    for (let i = 0; i < seenCount; i++) seen[i] = undefined;
    seenCount = 0;
  }
  if (failed) return -1;
  out.writeUInt32BE(at - 4, 0);
  encode.frame = out;
  return at;
}
encode.frame = null;

// ---- decode --------------------------------------------------------------

let data = null;
let pos = 0;
let end = 0;
let bad = false;

function readVarint() {
  let value = 0;
  let shift = 0;
  for (;;) {
    if (pos >= end || shift > 28) {
      bad = true;
      return 0;
    }
    const byte = data[pos++];
    value += (byte & 0x7f) * 2 ** shift;
    if (byte < 0x80) break;
    shift += 7;
  }
  if (value > 0xffffffff) bad = true;
  return value;
}

function readTag() {
  while (pos < end && data[pos] === TAG.PADDING) pos++;
  if (pos >= end) {
    bad = true;
    return -1;
  }
  return data[pos++];
}

function readBytes() {
  const length = readVarint();
  if (bad || length > end - pos) {
    bad = true;
    return -1;
  }
  const start = pos;
  pos += length;
  return start;
}

function readValue(depth) {
  if (depth >= MAX_DEPTH) {
    bad = true;
    return undefined;
  }
  let tag = readTag();
  if (tag === TAG.VERIFY_OBJECT_COUNT) {
    readVarint();
    tag = readTag();
  }
  switch (tag) {
    case TAG.UNDEFINED: return undefined;
    case TAG.NULL: return null;
    case TAG.TRUE: return true;
    case TAG.FALSE: return false;
    case TAG.INT32: {
      const z = readVarint();
      return (z >>> 1) ^ -(z & 1);
    }
    case TAG.UINT32: return readVarint();
    case TAG.DOUBLE:
      if (end - pos < 8) {
        bad = true;
        return undefined;
      }
      pos += 8;
      return data.readDoubleLE(pos - 8);
    case TAG.ONE_BYTE_STRING: {
      const start = readBytes();
      return bad ? undefined : data.latin1Slice(start, pos);
    }
    case TAG.TWO_BYTE_STRING: {
      const start = readBytes();
      if (bad || (pos - start) & 1) {
        bad = true;
        return undefined;
      }
      return data.ucs2Slice(start, pos);
    }
    case TAG.BEGIN_OBJECT: return readObject(depth);
    case TAG.BEGIN_DENSE_ARRAY: return readArray(depth);
    default:
      bad = true;
      return undefined;
  }
}

function readObject(depth) {
  const object = {};
  let count = 0;
  for (;;) {
    const next = readTag();
    if (bad) return undefined;
    if (next === TAG.END_OBJECT) break;
    pos--;
    let key = readValue(depth + 1);
    if (typeof key === 'number' && (key | 0) === key) key = `${key}`;
    // Repeated keys and `__proto__` are left to V8's own rules.
    if (bad || typeof key !== 'string' || key === '__proto__' || Object.hasOwn(object, key)) {
      bad = true;
      return undefined;
    }
    object[key] = readValue(depth + 1);
    count++;
  }
  if (readVarint() !== count) bad = true;
  return object;
}

function readArray(depth) {
  const length = readVarint();
  if (bad || length > end - pos) {
    bad = true;
    return undefined;
  }
  const array = new Array(length);
  for (let i = 0; i < length; i++) {
    if (pos < end && data[pos] === TAG.THE_HOLE) {
      bad = true;
      return undefined;
    }
    array[i] = readValue(depth + 1);
    if (bad) return undefined;
  }
  if (readTag() !== TAG.END_DENSE_ARRAY || readVarint() !== 0 || readVarint() !== length) bad = true;
  return array;
}

/**
 * The value of an advanced frame's body (header and value, no length
 * prefix) in `buffer` from `from` to `to`, or NOT_SUBSET when it is not
 * (only) of the subset.
 */
function decode(buffer, from = 0, to = buffer.length) {
  data = buffer;
  pos = from;
  end = to;
  bad = false;
  let value = NOT_SUBSET;
  if (readTag() === TAG.VERSION) {
    const version = readVarint();
    if (!bad && version >= MIN_VERSION && version <= VERSION) {
      const v = readValue(0);
      if (!bad && pos === end) value = v;
    }
  }
  data = null;
  return value;
}

module.exports = { encode, decode, NOT_SUBSET };
