'use strict';
// The two message encodings of Node's IPC channel, as
// lib/internal/child_process/serialization.js defines them. Rust frames and
// unframes; JS encodes and decodes message bodies so values come out exactly
// as Node's own channel would give them.
const v8 = require('node:v8');
const subset = require('./v8_subset');
const jsonSubset = require('./json_subset');
const { isArrayBufferView } = require('node:util').types;

const kArrayBufferViewTag = 0;
const kNotArrayBufferViewTag = 1;

class ChildProcessSerializer extends v8.DefaultSerializer {
  _writeHostObject(object) {
    if (isArrayBufferView(object)) {
      this.writeUint32(kArrayBufferViewTag);
      return super._writeHostObject(object);
    }
    this.writeUint32(kNotArrayBufferViewTag);
    this.writeValue({ ...object });
  }
}

class ChildProcessDeserializer extends v8.DefaultDeserializer {
  _readHostObject() {
    const tag = this.readUint32();
    if (tag === kArrayBufferViewTag) return super._readHostObject();
    if (tag !== kNotArrayBufferViewTag) throw new Error(`Unknown host object tag ${tag}`);
    return this.readValue();
  }
}

// json frames up to SCRATCH_BYTES are encoded into one reused buffer: the
// caller hands the frame to Rust at once, which writes it or copies what has
// to wait. As in Node's channel, room is reserved by the UTF-8 upper bound (3
// bytes per UTF-16 unit) instead of measuring the string first.
const SCRATCH_BYTES = 1024 * 1024;
let scratch = null;
// After a frame this long, the next message is written by json_subset,
// which copies long strings instead of escaping them one character at a
// time as JSON.stringify does; for small messages JSON.stringify is the
// faster of the two. Both write the same bytes.
const LONG_FRAME = 4096;
let lastLong = false;

const json = {
  /**
   * Encode a whole frame, newline included, into `json.frame` (valid until
   * the next encode()); returns its length in bytes.
   */
  encodeFrame(message) {
    if (lastLong) {
      const length = jsonSubset.encode(message);
      if (length >= 0) {
        json.frame = jsonSubset.encode.frame;
        lastLong = length >= LONG_FRAME;
        return length;
      }
    }
    // Node writes what JSON.stringify returns, even undefined (a toJSON()
    // that returns nothing), as text.
    return encodeText(`${JSON.stringify(message)}`);
  },
  /**
   * As encodeFrame, but into `target` at `offset` when it surely fits
   * (`json.frame` is then `target`), saving a copy per message.
   */
  encodeFrameInto(message, target, offset) {
    if (lastLong) return json.encodeFrame(message);
    const text = `${JSON.stringify(message)}`;
    if (text.length * 3 + 1 > target.length - offset) return encodeText(text);
    lastLong = text.length >= LONG_FRAME;
    const length = target.write(text, offset, 'utf8');
    target[offset + length] = 0x0a;
    json.frame = target;
    return length + 1;
  },
  frame: null,
  /** A frame's body (no newline): a string, or bytes that were not UTF-8. */
  decode(body) {
    return JSON.parse(typeof body === 'string' ? body : body.toString('utf8'));
  },
};

// `text` and a newline into json.frame (from its start).
function encodeText(text) {
  lastLong = text.length >= LONG_FRAME;
  const room = text.length * 3 + 1;
  if (room > SCRATCH_BYTES) {
    json.frame = Buffer.from(`${text}\n`, 'utf8');
    return json.frame.length;
  }
  if (scratch === null || room > scratch.length) {
    scratch = Buffer.allocUnsafeSlow(Math.min(SCRATCH_BYTES, Math.max(room, 64 * 1024)));
  }
  const length = scratch.write(text, 0, 'utf8');
  scratch[length] = 0x0a;
  json.frame = scratch;
  return length + 1;
}

// Most messages are plain values, which v8_subset encodes and decodes
// without creating a v8.Serializer/Deserializer; the rest go through Node's
// classes, as Node's channel does.
const advanced = {
  /** Like json.encodeFrame: the frame is at the start of `advanced.frame`. */
  encodeFrame(message) {
    const length = subset.encode(message);
    if (length >= 0) {
      advanced.frame = subset.encode.frame;
      return length;
    }
    advanced.frame = encodeWithNode(message);
    return advanced.frame.length;
  },
  /** Like json.encodeFrameInto, but always into `advanced.frame`. */
  encodeFrameInto(message) {
    return advanced.encodeFrame(message);
  },
  frame: null,
  /**
   * The value of the frame body at `start` to `end` of `data`. With `reused`
   * (data will hold other bytes later) Node's class reads a copy, since the
   * typed arrays it makes are views of what it reads.
   */
  decode(data, start = 0, end = data.length, reused = false) {
    const value = subset.decode(data, start, end);
    if (value !== subset.NOT_SUBSET) return value;
    let body = data.subarray(start, end);
    if (reused) {
      body = Buffer.allocUnsafeSlow(end - start);
      data.copy(body, 0, start, end);
    }
    const des = new ChildProcessDeserializer(body);
    des.readHeader();
    return des.readValue();
  },
};

// lib/internal/child_process/serialization.js's writeChannelMessage.
function encodeWithNode(message) {
  const ser = new ChildProcessSerializer();
  ser.writeRawBytes(Buffer.allocUnsafe(4));
  ser.writeHeader();
  ser.writeValue(message);
  const out = ser.releaseBuffer();
  out.writeUInt32BE(out.length - 4, 0);
  return out;
}

module.exports = { json, advanced };
