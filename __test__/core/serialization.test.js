'use strict';
// The message codecs' fast paths against Node's own: lib/v8_subset.js
// against v8.Serializer/Deserializer (the classes Node's advanced channel
// uses): what it encodes must decode, with Node's class, to exactly what
// Node's encoding does; what it decodes must be exactly what Node's class
// gives; everything else it must refuse. lib/json_subset.js against
// JSON.stringify: the same bytes, or refused.
const { test } = require('node:test');
const assert = require('node:assert/strict');
const v8 = require('node:v8');
const subset = require('../../lib/v8_subset');
const serialization = require('../../lib/serialization');

// Node's channel classes (lib/internal/child_process/serialization.js).
class ChildProcessSerializer extends v8.DefaultSerializer {
  _writeHostObject(object) {
    if (ArrayBuffer.isView(object)) {
      this.writeUint32(0);
      return super._writeHostObject(object);
    }
    this.writeUint32(1);
    this.writeValue({ ...object });
  }
}

class ChildProcessDeserializer extends v8.DefaultDeserializer {
  _readHostObject() {
    const tag = this.readUint32();
    if (tag === 0) return super._readHostObject();
    return this.readValue();
  }
}

// Node's encoding of a frame (length prefix, header, value).
function nodeFrame(value) {
  const ser = new ChildProcessSerializer();
  ser.writeRawBytes(Buffer.alloc(4));
  ser.writeHeader();
  ser.writeValue(value);
  const out = ser.releaseBuffer();
  out.writeUInt32BE(out.length - 4, 0);
  return out;
}

function nodeDecode(body) {
  const des = new ChildProcessDeserializer(body);
  des.readHeader();
  return des.readValue();
}

function ourFrame(value) {
  const length = subset.encode(value);
  return length < 0 ? null : Buffer.from(subset.encode.frame.subarray(0, length));
}

// Equal as the receiver would see it: -0, key order, holes and prototypes.
function same(a, b) {
  if (typeof a !== 'object' || a === null) return Object.is(a, b);
  if (typeof b !== 'object' || b === null) return false;
  if (Object.getPrototypeOf(a) !== Object.getPrototypeOf(b)) return false;
  const ka = Reflect.ownKeys(a);
  const kb = Reflect.ownKeys(b);
  if (ka.length !== kb.length) return false;
  for (let i = 0; i < ka.length; i++) {
    if (ka[i] !== kb[i]) return false;
    if (ka[i] === 'length' && Array.isArray(a)) {
      if (a.length !== b.length) return false;
      continue;
    }
    if (!same(a[ka[i]], b[ka[i]])) return false;
  }
  return true;
}

const twoByte = 'λx€😀';
const loneSurrogate = 'a\ud800b';
const inSubset = [
  undefined, null, true, false, 0, -0, 1, -1, 2 ** 31 - 1, -(2 ** 31), 2 ** 31, 2 ** 32, -(2 ** 53),
  1.5, NaN, Infinity, -Infinity, Number.MIN_VALUE, Number.MAX_VALUE,
  '', 'a', 'x'.repeat(127), 'x'.repeat(128), 'x'.repeat(70000), 'é', 'é'.repeat(127),
  twoByte, twoByte.repeat(25), loneSurrogate, loneSurrogate.repeat(40),
  {}, { a: 1 }, { i: 123456, pad: 'x'.repeat(37) }, { 2: 'b', 1: 'a', z: 0, '-1': 1, 1.5: 2 },
  { nested: { deeper: { deepest: [1, 'two', { three: 3 }] } }, u: undefined, n: null },
  [], [1, 2, 3], [undefined, null, -0, 'λ'], [[[]]], Array.from({ length: 200 }, (_, i) => i),
  { cmd: 'NODE_CLUSTER', act: 'online', seq: 7 }, { __proto__: null, a: 1 },
  { constructor: 1, toString: 'x', hasOwnProperty: null }, { [twoByte]: twoByte },
];

test('what it encodes decodes, with Node\'s Deserializer, to what Node\'s encoding gives', () => {
  for (const value of inSubset) {
    const ours = ourFrame(value);
    assert.ok(ours !== null, `refused ${String(JSON.stringify(value)).slice(0, 60)}`);
    assert.equal(ours.readUInt32BE(0), ours.length - 4);
    const expected = nodeDecode(nodeFrame(value).subarray(4));
    assert.ok(same(nodeDecode(ours.subarray(4)), expected), String(JSON.stringify(value)).slice(0, 60));
  }
});

test('what it decodes is what Node\'s Deserializer gives', () => {
  for (const value of inSubset) {
    const what = String(JSON.stringify(value)).slice(0, 60);
    // Its own frames it always reads. Node's it may leave to Node: how V8
    // writes an array depends on how it holds it (Node 18 writes
    // Array.from's result as a sparse array).
    const ours = ourFrame(value).subarray(4);
    const got = subset.decode(ours);
    assert.notEqual(got, subset.NOT_SUBSET, what);
    assert.ok(same(got, nodeDecode(ours)), what);
    const theirs = nodeFrame(value).subarray(4);
    const read = subset.decode(theirs);
    assert.ok(read === subset.NOT_SUBSET || same(read, nodeDecode(theirs)), what);
  }
  // What Node writes for the common shapes is read, not left to it.
  for (const value of [{ i: 1, pad: 'xyz' }, [1, 'two', { three: 3 }], 'λ', -0]) {
    assert.notEqual(subset.decode(nodeFrame(value).subarray(4)), subset.NOT_SUBSET);
  }
});

test('a frame is read where it lies among others, and never past its end', () => {
  // A read's frames, one after another, each decoded in place.
  const frames = [...inSubset.map(ourFrame), nodeFrame(new Map([[1, 2]]))];
  const read = Buffer.concat(frames);
  let at = 0;
  for (const frame of frames) {
    const start = at + 4;
    const end = at + frame.length;
    const got = serialization.advanced.decode(read, start, end);
    assert.ok(same(got, nodeDecode(frame.subarray(4))), String(JSON.stringify(got)).slice(0, 60));
    at = end;
  }
  // A body cut short is refused even when the bytes after it would finish it.
  const body = ourFrame({ a: 'xyz' }).subarray(4);
  const padded = Buffer.concat([Buffer.from([1, 2]), body, Buffer.from('zz')]);
  assert.ok(same(subset.decode(padded, 2, 2 + body.length), { a: 'xyz' }));
  assert.equal(subset.decode(padded, 2, 2 + body.length - 1), subset.NOT_SUBSET);
});

test('objects met in one message do not count in the next', () => {
  const many = Array.from({ length: 60 }, (_, i) => ({ i }));
  assert.ok(ourFrame(many) !== null);
  // Only the previous message held these: each is new here.
  for (const value of [many[0], { again: many[1] }, many]) assert.ok(ourFrame(value) !== null);
  const twice = { s: 1 };
  assert.equal(subset.encode({ twice, b: [twice] }), -1);
  assert.ok(ourFrame(twice) !== null);
});

class Point { constructor() { this.x = 1; } }
const shared = { s: 1 };
const cyclic = { a: 1 };
cyclic.self = cyclic;
const holey = [1, , 3]; // eslint-disable-line no-sparse-arrays
const withProp = [1, 2];
withProp.extra = true;
const getterAndMap = { get g() { getterAndMap.calls++; return 1; }, m: new Map() };
getterAndMap.calls = 0;
const outside = [
  new Map([[1, 2]]), new Set([1]), new Date(0), /re/g, Buffer.from('ab'), new Uint8Array(2), 10n,
  new Error('e'), new Point(), { shared, again: shared }, cyclic, holey, withProp,
  new Proxy({}, {}), (function args() { return arguments; })(1, 2), Object(1), new String('s'),
  { deep: { fn: () => 1 } }, Symbol('s'), () => 1, { nested: [new Date(0)] },
  // Long strings that are not ASCII: V8 writes them one or two bytes per
  // character as it holds them, and that size shows in send()'s return.
  'é'.repeat(128), `x${'y'.repeat(200)}λ`, { s: 'ü'.repeat(50000) },
];

test('values outside the subset are refused, and Node\'s encoding is used instead', () => {
  for (const value of outside) {
    assert.equal(subset.encode(value), -1, String(value));
    let expected;
    try {
      expected = nodeFrame(value);
    } catch (err) {
      // What Node cannot send (functions, symbols, proxies, arguments), the
      // codec refuses with Node's own error.
      assert.throws(() => serialization.advanced.encodeFrame(value), { name: err.name, message: err.message });
      continue;
    }
    const length = serialization.advanced.encodeFrame(value);
    assert.deepEqual(serialization.advanced.frame.subarray(0, length), expected);
    // Node's payloads of them are Node's to read, or (a class instance
    // goes as a plain object) read as Node reads them.
    const got = subset.decode(expected.subarray(4));
    assert.ok(got === subset.NOT_SUBSET || same(got, nodeDecode(expected.subarray(4))), String(value));
  }
});

test('a getter that throws throws out of send, and the next message is whole', () => {
  const boom = { get x() { throw new Error('getter'); } };
  assert.throws(() => subset.encode({ a: [boom] }), /getter/);
  assert.ok(same(nodeDecode(ourFrame({ a: 1 }).subarray(4)), { a: 1 }));
  assert.ok(subset.encode({ shared, b: [shared] }) === -1);
  assert.ok(ourFrame(shared) !== null, 'an object refused in one message is not remembered in the next');
});

test('payloads Node writes with references, padding or other tags are Node\'s to read', () => {
  const body = nodeFrame({ shared, again: shared }).subarray(4);
  assert.equal(subset.decode(body), subset.NOT_SUBSET);
  // Trailing bytes, a newer version, a truncated value: refused, never read.
  const good = nodeFrame({ a: 'b' }).subarray(4);
  assert.equal(subset.decode(Buffer.concat([good, Buffer.from([0x30])])), subset.NOT_SUBSET);
  const newer = Buffer.from(good);
  newer[1] = 0x7f;
  assert.equal(subset.decode(newer), subset.NOT_SUBSET);
  for (let cut = 0; cut < good.length; cut++) assert.equal(subset.decode(good.subarray(0, cut)), subset.NOT_SUBSET);
});

test('mutated payloads decode to Node\'s value or are left to Node', () => {
  // A fixed-seed walk over one- and two-byte mutations of valid payloads:
  // whenever the subset decoder answers, Node's Deserializer must give the
  // same value.
  let seed = 0x2545f491;
  const rand = (n) => {
    seed ^= seed << 13; seed >>>= 0;
    seed ^= seed >>> 17;
    seed ^= seed << 5; seed >>>= 0;
    return seed % n;
  };
  const bases = [{ a: 1, b: [true, null, 'x'] }, [1, 'λ', { k: -0 }], { i: 9, pad: 'xyz' }].map((v) => nodeFrame(v).subarray(4));
  let answered = 0;
  for (let i = 0; i < 20000; i++) {
    const body = Buffer.from(bases[i % bases.length]);
    for (let m = 0; m <= rand(2); m++) body[1 + rand(body.length - 1)] = rand(256);
    const got = subset.decode(body);
    if (got === subset.NOT_SUBSET) continue;
    answered++;
    let expected;
    assert.doesNotThrow(() => { expected = nodeDecode(body); }, `Node rejects ${body.toString('hex')}`);
    assert.ok(same(got, expected), body.toString('hex'));
  }
  assert.ok(answered > 1000, `only ${answered} mutations decoded`);
});

test('getters run once when the whole message is in the subset', () => {
  let calls = 0;
  const value = { get g() { calls++; return 'v'; } };
  assert.ok(same(nodeDecode(ourFrame(value).subarray(4)), { g: 'v' }));
  assert.equal(calls, 1);
});

// ---- json ------------------------------------------------------------------
const jsonSubset = require('../../lib/json_subset');

function jsonFrame(value) {
  const length = jsonSubset.encode(value);
  return length < 0 ? null : jsonSubset.encode.frame.toString('utf8', 0, length);
}

const long = 'x'.repeat(300);
const jsonValues = [
  long, 'x'.repeat(70000), { i: 1, pad: 'x'.repeat(65536) }, `${long}"`, `${long}\\`, `${long}\n`, `${long}\u0001`,
  `${long}\u001f`, `${long}\u007f`, `${long}é`, `${long}😀`, `${long}\ud800`, `\u0000${long}`, [long, long],
  { [long]: long, [`${long}"`]: 1 }, 'short', '', 0, -0, 1e21, 1.5e-7, NaN, -Infinity, true, false, null,
  [undefined, () => 1, Symbol('s'), null], { u: undefined, f() {}, s: Symbol('s'), keep: 1 },
  { date: new Date(0), buf: Buffer.from('ab'), nested: { toJSON(key) { return `key:${key}`; } } },
  [{ toJSON(key) { return `index:${key}`; } }], { toJSON() { return undefined; } }, { a: { toJSON() { return undefined; } } },
  { 2: 'b', 1: 'a', z: 0 }, Object.assign(Object.create(null), { n: long }), new Map([[1, 2]]), new Point(),
  [, 1], Object.assign([1], { extra: 2 }), new Uint8Array([1, 2]), { shared, again: shared }, // eslint-disable-line no-sparse-arrays
  { get g() { return long; } }, { f: Object.assign(() => 1, { toJSON: () => long }) },
];

test('json frames are JSON.stringify\'s text, byte for byte, or refused', () => {
  for (const value of jsonValues) {
    const expected = JSON.stringify(value);
    const ours = jsonFrame(value);
    if (expected === undefined) {
      assert.equal(ours, null, 'JSON.stringify gives undefined: left to it');
      continue;
    }
    assert.equal(ours, `${expected}\n`, expected.slice(0, 60));
  }
  for (let n = 250; n < 270; n++) {
    for (const bad of ['"', '\\', '\n', '\u0000', '\u001f', 'é']) {
      for (const at of [0, 1, 2, 3, n - 1]) {
        const s = `${'a'.repeat(at)}${bad}${'a'.repeat(n - at)}`;
        assert.equal(jsonFrame(s), `${JSON.stringify(s)}\n`);
      }
    }
  }
});

test('json: what JSON.stringify refuses or treats specially is left to it', () => {
  const cyclic2 = { a: [] };
  cyclic2.a.push(cyclic2);
  for (const value of [10n, { big: 1n }, cyclic2, new Proxy({}, {}), Object(1), new String('s'), [Object(true)]]) {
    assert.equal(jsonSubset.encode(value), -1);
  }
  assert.equal(jsonSubset.encode(undefined), -1);
  assert.throws(() => jsonSubset.encode({ get x() { throw new Error('getter'); } }), /getter/);
  assert.equal(jsonFrame({ a: long }), `${JSON.stringify({ a: long })}\n`);
});

test('json codec: after a long frame the next is written by json_subset, the same bytes', () => {
  const { json } = serialization;
  const messages = [{ pad: long.repeat(20) }, { i: 1 }, { pad: long.repeat(20), d: new Date(0) }, 'x', { big: 1n }, { c: cyclic }];
  for (const m of messages) {
    let expected;
    try {
      expected = Buffer.from(`${JSON.stringify(m)}\n`);
    } catch (err) {
      assert.throws(() => json.encodeFrame(m), { name: err.name });
      continue;
    }
    const length = json.encodeFrame(m);
    assert.deepEqual(json.frame.subarray(0, length), expected);
  }
});

test('json codec: a frame encoded into a batch is the same bytes, in place when it surely fits', () => {
  const { json } = serialization;
  const target = Buffer.alloc(256, 0xff);
  const messages = [{ i: 1 }, 'é€😀', { pad: 'x'.repeat(100) }, { toJSON() {} }, [1, 2], { pad: long.repeat(20) }, { i: 2 }];
  let offset = 3;
  const inPlace = [];
  for (const m of messages) {
    const expected = Buffer.from(`${JSON.stringify(m)}\n`);
    const length = json.encodeFrameInto(m, target, offset);
    inPlace.push(json.frame === target);
    const start = json.frame === target ? offset : 0;
    assert.deepEqual(json.frame.subarray(start, start + length), expected, JSON.stringify(m));
    if (json.frame === target) offset += length;
  }
  // 100 characters might take 300 bytes; after a long frame json_subset
  // writes the next one.
  assert.deepEqual(inPlace, [true, true, false, true, true, false, false]);
  assert.throws(() => json.encodeFrameInto({ c: cyclic }, target, 0), { name: 'TypeError' });
});
