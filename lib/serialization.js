'use strict';
// The two message encodings of Node's IPC channel, as
// lib/internal/child_process/serialization.js defines them. Rust frames and
// unframes; JS encodes and decodes message bodies so values come out exactly
// as Node's own channel would give them.
const v8 = require('node:v8');
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

const json = {
  /**
   * Encode a whole frame, newline included, into `json.frame` (valid until
   * the next encode()); returns its length in bytes.
   */
  encodeFrame(message) {
    // Node writes what JSON.stringify returns, even undefined (a toJSON()
    // that returns nothing), as text.
    const text = `${JSON.stringify(message)}`;
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
  },
  frame: null,
  /** A whole frame, newline included; valid until the next encode(). */
  encode(message) {
    const length = json.encodeFrame(message);
    return json.frame.subarray(0, length);
  },
  /** A frame's body (no newline): a string, or bytes that were not UTF-8. */
  decode(body) {
    return JSON.parse(typeof body === 'string' ? body : body.toString('utf8'));
  },
};

const advanced = {
  encodeFrame(message) {
    advanced.frame = advanced.encode(message);
    return advanced.frame.length;
  },
  frame: null,
  encode(message) {
    const ser = new ChildProcessSerializer();
    ser.writeRawBytes(Buffer.allocUnsafe(4));
    ser.writeHeader();
    ser.writeValue(message);
    const out = ser.releaseBuffer();
    out.writeUInt32BE(out.length - 4, 0);
    return out;
  },
  decode(body) {
    const des = new ChildProcessDeserializer(body);
    des.readHeader();
    return des.readValue();
  },
};

module.exports = { json, advanced };
