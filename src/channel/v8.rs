//! The subset of V8's value serialization (`v8.serialize`, Node's `advanced`
//! IPC mode) that Node's internal IPC messages use: primitives, strings,
//! plain objects and arrays. Anything else (Map, Date, Buffer, BigInt,
//! object references, ...) is reported as an error, and the caller passes the
//! message to JS untouched as user data.
//!
//! The rule the decoder follows is "exactly what JS would see, or an error":
//! a payload decodes only if the resulting [`Value`] is what `v8.deserialize`
//! would give, so Rust and JS never disagree about a message. Payloads V8
//! itself rejects (mismatched counts, repeated keys) are rejected here too;
//! a few that V8 accepts but `Value` cannot hold exactly (lone surrogates,
//! arrays with named properties) are errors as well.
//!
//! Input comes from worker processes, so decoding never trusts a length
//! beyond the bytes actually present, bounds nesting depth and never panics.
//!
//! The format is defined by V8's `src/objects/value-serializer.cc`.

use std::collections::HashSet;
use std::fmt;

/// The format version we write: what Node 20's V8 writes.
const WRITE_VERSION: u8 = 15;
/// The oldest version we read: what every Node release from 12 on writes.
/// Older versions encode holes and some values differently.
const MIN_READ_VERSION: u32 = 13;
/// How deeply arrays and objects may nest. Internal messages nest two or
/// three levels; the bound keeps recursion (and stack use) small.
const MAX_DEPTH: usize = 64;
/// Sparse arrays cost nothing on the wire per hole, so the holes one payload
/// may ask for are capped: the payload's own length plus this allowance.
const SPARSE_HOLE_ALLOWANCE: usize = 4096;

/// Wire tags, as in V8's `SerializationTag`.
mod tag {
    pub const VERSION: u8 = 0xFF;
    pub const PADDING: u8 = 0x00;
    pub const VERIFY_OBJECT_COUNT: u8 = b'?';
    pub const THE_HOLE: u8 = b'-';
    pub const UNDEFINED: u8 = b'_';
    pub const NULL: u8 = b'0';
    pub const TRUE: u8 = b'T';
    pub const FALSE: u8 = b'F';
    pub const INT32: u8 = b'I';
    pub const UINT32: u8 = b'U';
    pub const DOUBLE: u8 = b'N';
    pub const UTF8_STRING: u8 = b'S';
    pub const ONE_BYTE_STRING: u8 = b'"';
    pub const TWO_BYTE_STRING: u8 = b'c';
    pub const BEGIN_OBJECT: u8 = b'o';
    pub const END_OBJECT: u8 = b'{';
    pub const BEGIN_SPARSE_ARRAY: u8 = b'a';
    pub const END_SPARSE_ARRAY: u8 = b'@';
    pub const BEGIN_DENSE_ARRAY: u8 = b'A';
    pub const END_DENSE_ARRAY: u8 = b'$';
}

/// A JavaScript value of the subset that Node's internal IPC messages use.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Value {
    Undefined,
    Null,
    Bool(bool),
    /// Every number; integers on the wire decode to this too.
    Number(f64),
    String(String),
    /// Arrays; holes read as `Undefined`.
    Array(Vec<Value>),
    /// Plain objects, keys in insertion order. Integer keys appear as their
    /// decimal string, as JavaScript property keys do.
    Object(Vec<(String, Value)>),
}

/// Why a payload is not a value of the subset.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum DecodeError {
    /// The payload ends in the middle of a value.
    Truncated,
    /// No `0xFF` version header, or a version older than 13.
    BadHeader,
    /// A value outside the subset: Map, Set, Date, RegExp, BigInt, boxed
    /// primitives, errors, ArrayBuffers and views, host objects (Buffers as
    /// Node's IPC serializer writes them), object back-references, ...
    UnsupportedTag(u8),
    /// A string that is not valid UTF-8, or UTF-16 with a lone surrogate
    /// (which a Rust `String` cannot hold).
    BadString,
    /// An object key that is neither a string nor a number.
    BadKey,
    /// Inconsistent framing that V8 refuses too: a property count or array
    /// length after the contents that disagrees with them, or a key defined
    /// twice. Also an over-long varint.
    Malformed,
    /// An array with named properties, or with an index past its length:
    /// valid JavaScript that [`Value::Array`] cannot express.
    Unrepresentable,
    /// Arrays and objects nested more than 64 levels deep.
    TooDeep,
    /// Sparse arrays whose lengths add up to more holes than allowed.
    TooLarge,
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DecodeError::Truncated => write!(f, "serialized value is truncated"),
            DecodeError::BadHeader => write!(f, "missing or unsupported serialization header"),
            DecodeError::UnsupportedTag(t) => write!(f, "unsupported value tag 0x{t:02x}"),
            DecodeError::BadString => write!(f, "malformed string"),
            DecodeError::BadKey => write!(f, "object key is not a string or number"),
            DecodeError::Malformed => write!(f, "inconsistent counts or lengths"),
            DecodeError::Unrepresentable => {
                write!(f, "array with properties other than its elements")
            }
            DecodeError::TooDeep => write!(f, "value nested more than {MAX_DEPTH} levels"),
            DecodeError::TooLarge => write!(f, "sparse array too long for the payload"),
        }
    }
}

impl std::error::Error for DecodeError {}

/// Decode a whole payload (without the IPC length prefix): the header, then
/// one value. Bytes after the value are ignored, as Node's deserializer
/// ignores them.
pub(crate) fn decode(payload: &[u8]) -> Result<Value, DecodeError> {
    let mut reader = Reader {
        data: payload,
        pos: 0,
        holes_left: payload.len().saturating_add(SPARSE_HOLE_ALLOWANCE),
    };
    if reader.byte()? != tag::VERSION || reader.varint()? < MIN_READ_VERSION {
        return Err(DecodeError::BadHeader);
    }
    reader.value(0)
}

/// Encode a value as a whole payload (header, then the value) that Node's
/// `v8.deserialize` and IPC deserializer read back as the equivalent value.
/// The bytes are what `v8.serialize` writes for the same value, except that
/// integer-like object keys are written as strings (read back identically).
pub(crate) fn encode(value: &Value) -> Vec<u8> {
    let mut out = vec![tag::VERSION, WRITE_VERSION];
    write_value(&mut out, value);
    out
}

struct Reader<'a> {
    data: &'a [u8],
    pos: usize,
    /// How many more sparse-array holes this payload may make us allocate.
    holes_left: usize,
}

impl<'a> Reader<'a> {
    fn remaining(&self) -> usize {
        self.data.len().saturating_sub(self.pos)
    }

    fn byte(&mut self) -> Result<u8, DecodeError> {
        let b = *self.data.get(self.pos).ok_or(DecodeError::Truncated)?;
        self.pos += 1;
        Ok(b)
    }

    fn bytes(&mut self, len: usize) -> Result<&'a [u8], DecodeError> {
        let end = self.pos.checked_add(len).ok_or(DecodeError::Truncated)?;
        let slice = self.data.get(self.pos..end).ok_or(DecodeError::Truncated)?;
        self.pos = end;
        Ok(slice)
    }

    /// A little-endian base-128 varint of at most 32 bits. Like V8, bits
    /// beyond 32 in the fifth byte are dropped. V8 would also skip a sixth
    /// byte; no writer produces one, so it is refused.
    fn varint(&mut self) -> Result<u32, DecodeError> {
        let mut result: u32 = 0;
        for shift in (0..35).step_by(7) {
            let b = self.byte()?;
            result |= u32::from(b & 0x7f).wrapping_shl(shift);
            if b & 0x80 == 0 {
                return Ok(result);
            }
        }
        Err(DecodeError::Malformed)
    }

    /// A varint used as a length or count.
    fn length(&mut self) -> Result<usize, DecodeError> {
        self.varint().map(|n| n as usize)
    }

    /// V8 lets padding precede any tag (it aligns two-byte strings with it).
    fn skip_padding(&mut self) {
        while self.data.get(self.pos) == Some(&tag::PADDING) {
            self.pos += 1;
        }
    }

    /// The next tag of a value: padding skipped, and the object-count checks
    /// old writers emit read and ignored, as V8 does.
    fn tag(&mut self) -> Result<u8, DecodeError> {
        loop {
            self.skip_padding();
            match self.byte()? {
                tag::VERIFY_OBJECT_COUNT => {
                    self.varint()?;
                }
                t => return Ok(t),
            }
        }
    }

    /// Consume `end` if it is the next tag. Like V8's `PeekTag`, this skips
    /// padding only.
    fn at_end(&mut self, end: u8) -> bool {
        self.skip_padding();
        if self.data.get(self.pos) == Some(&end) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn value(&mut self, depth: usize) -> Result<Value, DecodeError> {
        if depth > MAX_DEPTH {
            return Err(DecodeError::TooDeep);
        }
        match self.tag()? {
            tag::UNDEFINED => Ok(Value::Undefined),
            tag::NULL => Ok(Value::Null),
            tag::TRUE => Ok(Value::Bool(true)),
            tag::FALSE => Ok(Value::Bool(false)),
            tag::INT32 => self.int32().map(|n| Value::Number(f64::from(n))),
            tag::UINT32 => self.varint().map(|n| Value::Number(f64::from(n))),
            tag::DOUBLE => self.double().map(Value::Number),
            t @ (tag::ONE_BYTE_STRING | tag::TWO_BYTE_STRING | tag::UTF8_STRING) => {
                self.string_body(t).map(Value::String)
            }
            tag::BEGIN_OBJECT => self.object(depth),
            tag::BEGIN_DENSE_ARRAY => self.dense_array(depth),
            tag::BEGIN_SPARSE_ARRAY => self.sparse_array(depth),
            // Includes THE_HOLE outside a dense array, where V8 would hand
            // JS an internal value.
            other => Err(DecodeError::UnsupportedTag(other)),
        }
    }

    /// A zigzag-encoded int32.
    fn int32(&mut self) -> Result<i32, DecodeError> {
        let z = self.varint()?;
        Ok(((z >> 1) as i32) ^ -((z & 1) as i32))
    }

    fn double(&mut self) -> Result<f64, DecodeError> {
        let mut le = [0u8; 8];
        le.copy_from_slice(self.bytes(8)?);
        Ok(f64::from_le_bytes(le))
    }

    /// The length-prefixed body of a string whose tag `t` was just read.
    fn string_body(&mut self, t: u8) -> Result<String, DecodeError> {
        let len = self.length()?;
        let raw = self.bytes(len)?;
        match t {
            // Latin-1: each byte is the code point.
            tag::ONE_BYTE_STRING => Ok(raw.iter().map(|&b| char::from(b)).collect()),
            tag::TWO_BYTE_STRING => {
                if !len.is_multiple_of(2) {
                    return Err(DecodeError::BadString);
                }
                let units = raw
                    .chunks_exact(2)
                    .map(|c| u16::from_le_bytes([c[0], c[1]]));
                char::decode_utf16(units)
                    .collect::<Result<String, _>>()
                    .map_err(|_| DecodeError::BadString)
            }
            _ => std::str::from_utf8(raw)
                .map(str::to_owned)
                .map_err(|_| DecodeError::BadString),
        }
    }

    /// A property key. V8 accepts strings and numbers; a number key names
    /// the property its JavaScript string form does (`1` is `"1"`).
    fn key(&mut self) -> Result<String, DecodeError> {
        match self.tag()? {
            t @ (tag::ONE_BYTE_STRING | tag::TWO_BYTE_STRING | tag::UTF8_STRING) => {
                self.string_body(t)
            }
            tag::INT32 => self.int32().map(|n| n.to_string()),
            tag::UINT32 => self.varint().map(|n| n.to_string()),
            tag::DOUBLE => self.double().map(number_to_string),
            _ => Err(DecodeError::BadKey),
        }
    }

    /// `o` key value ... `{` count
    fn object(&mut self, depth: usize) -> Result<Value, DecodeError> {
        let mut props: Vec<(String, Value)> = Vec::new();
        let mut seen: HashSet<String> = HashSet::new();
        while !self.at_end(tag::END_OBJECT) {
            let key = self.key()?;
            let value = self.value(depth + 1)?;
            // V8 refuses a key it has already defined (`1` and `"1"` are the
            // same key).
            if !seen.insert(key.clone()) {
                return Err(DecodeError::Malformed);
            }
            props.push((key, value));
        }
        if self.length()? != props.len() {
            return Err(DecodeError::Malformed);
        }
        Ok(Value::Object(props))
    }

    /// `A` length element... properties... `$` property-count length
    fn dense_array(&mut self, depth: usize) -> Result<Value, DecodeError> {
        let len = self.length()?;
        // Every element takes at least one byte (V8 checks the same).
        if len > self.remaining() {
            return Err(DecodeError::Truncated);
        }
        // No reservation from `len`: nested arrays could each claim the
        // rest of the payload.
        let mut items = Vec::new();
        for _ in 0..len {
            // A hole: V8 writes one if the array changes while it is written.
            if self.at_end(tag::THE_HOLE) {
                items.push(None);
            } else {
                items.push(Some(self.value(depth + 1)?));
            }
        }
        self.array_end(items, tag::END_DENSE_ARRAY, depth)
    }

    /// `a` length key value... `@` property-count length
    fn sparse_array(&mut self, depth: usize) -> Result<Value, DecodeError> {
        let len = self.length()?;
        self.holes_left = self
            .holes_left
            .checked_sub(len)
            .ok_or(DecodeError::TooLarge)?;
        self.array_end(vec![None; len], tag::END_SPARSE_ARRAY, depth)
    }

    /// The rest of an array whose elements so far are `items` (`None` for
    /// holes): elements sent as properties (all of a sparse array's), the
    /// end tag, and the two counts V8 checks.
    fn array_end(
        &mut self,
        mut items: Vec<Option<Value>>,
        end: u8,
        depth: usize,
    ) -> Result<Value, DecodeError> {
        let mut count: usize = 0;
        while !self.at_end(end) {
            let key = self.key()?;
            let value = self.value(depth + 1)?;
            // A named property, or an index that would make the array longer
            // than its declared length: JS keeps it, `Value` cannot.
            let slot = array_index(&key)
                .and_then(|i| items.get_mut(i))
                .ok_or(DecodeError::Unrepresentable)?;
            // An element defined twice: V8 refuses it, as for objects.
            if slot.replace(value).is_some() {
                return Err(DecodeError::Malformed);
            }
            count += 1;
        }
        if self.length()? != count || self.length()? != items.len() {
            return Err(DecodeError::Malformed);
        }
        Ok(Value::Array(
            items
                .into_iter()
                .map(|v| v.unwrap_or(Value::Undefined))
                .collect(),
        ))
    }
}

/// The array index a property key names: the canonical decimal form of an
/// integer below 2^32 - 1 (so `"01"` and `"-1"` are plain property names).
fn array_index(key: &str) -> Option<usize> {
    if key.is_empty() || (key.len() > 1 && key.starts_with('0')) {
        return None;
    }
    if !key.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let n: u32 = key.parse().ok()?;
    (n != u32::MAX).then_some(n as usize)
}

fn write_varint(out: &mut Vec<u8>, mut n: u32) {
    loop {
        let b = (n & 0x7f) as u8;
        n >>= 7;
        if n == 0 {
            out.push(b);
            return;
        }
        out.push(b | 0x80);
    }
}

fn varint_len(n: u32) -> usize {
    let mut len = 1;
    let mut n = n >> 7;
    while n != 0 {
        len += 1;
        n >>= 7;
    }
    len
}

/// Lengths and counts are 32-bit on the wire. Nothing this process sends
/// comes near 4 GiB (frames are capped far below), so this never truncates.
fn wire_len(len: usize) -> u32 {
    len as u32
}

/// Strings go out as V8 writes its own: Latin-1 when every code point fits
/// in a byte, UTF-16 otherwise.
fn write_string(out: &mut Vec<u8>, s: &str) {
    if s.chars().all(|c| u32::from(c) <= 0xff) {
        out.push(tag::ONE_BYTE_STRING);
        write_varint(out, wire_len(s.chars().count()));
        out.extend(s.chars().map(|c| u32::from(c) as u8));
    } else {
        let byte_len = wire_len(s.encode_utf16().count() * 2);
        // V8 pads so that the UTF-16 data starts at an even offset from the
        // start of the payload; older readers require it.
        if !(out.len() + 1 + varint_len(byte_len)).is_multiple_of(2) {
            out.push(tag::PADDING);
        }
        out.push(tag::TWO_BYTE_STRING);
        write_varint(out, byte_len);
        for unit in s.encode_utf16() {
            out.extend_from_slice(&unit.to_le_bytes());
        }
    }
}

fn write_number(out: &mut Vec<u8>, n: f64) {
    // V8 writes small integers as zigzag int32 and everything else,
    // including -0, as a double.
    let is_int32 = n.fract() == 0.0 && n >= f64::from(i32::MIN) && n <= f64::from(i32::MAX);
    if is_int32 && !(n == 0.0 && n.is_sign_negative()) {
        let i = n as i32;
        out.push(tag::INT32);
        write_varint(out, ((i << 1) ^ (i >> 31)) as u32);
    } else {
        out.push(tag::DOUBLE);
        out.extend_from_slice(&n.to_le_bytes());
    }
}

fn write_value(out: &mut Vec<u8>, value: &Value) {
    match value {
        Value::Undefined => out.push(tag::UNDEFINED),
        Value::Null => out.push(tag::NULL),
        Value::Bool(true) => out.push(tag::TRUE),
        Value::Bool(false) => out.push(tag::FALSE),
        Value::Number(n) => write_number(out, *n),
        Value::String(s) => write_string(out, s),
        Value::Array(items) => {
            let len = wire_len(items.len());
            out.push(tag::BEGIN_DENSE_ARRAY);
            write_varint(out, len);
            for item in items {
                write_value(out, item);
            }
            out.push(tag::END_DENSE_ARRAY);
            write_varint(out, 0);
            write_varint(out, len);
        }
        Value::Object(props) => {
            out.push(tag::BEGIN_OBJECT);
            for (key, value) in props {
                write_string(out, key);
                write_value(out, value);
            }
            out.push(tag::END_OBJECT);
            write_varint(out, wire_len(props.len()));
        }
    }
}

/// JavaScript's `Number.prototype.toString()` (ECMA-262 `Number::toString`
/// with radix 10).
fn number_to_string(x: f64) -> String {
    if x.is_nan() {
        return "NaN".into();
    }
    if x == 0.0 {
        return "0".into(); // -0 too
    }
    if x.is_infinite() {
        return if x > 0.0 { "Infinity" } else { "-Infinity" }.into();
    }
    // ECMAScript wants the fewest digits that read back as `x` and, of two
    // such candidates, the one closer to `x` (the even one on a tie). Rust's
    // `{:e}` gives the fewest digits but breaks ties upwards; rounding `x`
    // to that many digits exactly gives the closer candidate whenever that
    // one still reads back as `x`.
    let shortest = format!("{:e}", x.abs());
    let k = shortest
        .split('e')
        .next()
        .map_or(1, |m| m.bytes().filter(u8::is_ascii_digit).count());
    let closest = format!("{:.*e}", k.saturating_sub(1), x.abs());
    let sci = if closest.parse::<f64>() == Ok(x.abs()) {
        closest
    } else {
        shortest
    };
    // The layout is ECMAScript's: `digits` is its s (k digits, never empty
    // here) and the value is 0.s * 10^n.
    let (mantissa, exponent) = sci.split_once('e').unwrap_or((&sci, "0"));
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    let k = digits.len() as i32;
    let n = exponent.parse::<i32>().unwrap_or(0) + 1;
    let sign = if x < 0.0 { "-" } else { "" };
    let body = if k <= n && n <= 21 {
        format!("{digits}{}", "0".repeat((n - k) as usize))
    } else if 0 < n && n <= 21 {
        // Here n < k, so the split is inside `digits`.
        let (int, frac) = digits.split_at(n as usize);
        format!("{int}.{frac}")
    } else if -6 < n && n <= 0 {
        format!("0.{}{digits}", "0".repeat(n.unsigned_abs() as usize))
    } else {
        let (first, rest) = digits.split_at(1);
        let e = n - 1;
        let e_sign = if e < 0 { '-' } else { '+' };
        let dot = if rest.is_empty() { "" } else { "." };
        format!("{first}{dot}{rest}e{e_sign}{}", e.unsigned_abs())
    };
    format!("{sign}{body}")
}

/// 2^63: integral numbers of smaller magnitude fit in an i64 and become JSON
/// integers (the fraction-less form `JSON.stringify` writes).
const I64_LIMIT: f64 = 9_223_372_036_854_775_808.0;

impl Value {
    /// An object's property. For a (hand-built) object with a repeated key,
    /// the last one wins, as it would in JavaScript.
    pub(crate) fn get(&self, key: &str) -> Option<&Value> {
        match self {
            Value::Object(props) => props.iter().rev().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    pub(crate) fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    pub(crate) fn as_f64(&self) -> Option<f64> {
        match self {
            Value::Number(n) => Some(*n),
            _ => None,
        }
    }

    /// The value as `JSON.stringify` sees it, for the `json` IPC mode:
    /// undefined properties are left out, undefined array items and
    /// non-finite numbers become null, and integral numbers are written
    /// without a fraction.
    pub(crate) fn to_json(&self) -> serde_json::Value {
        use serde_json::Value as J;
        match self {
            Value::Undefined | Value::Null => J::Null,
            Value::Bool(b) => J::Bool(*b),
            Value::Number(n) => {
                if n.fract() == 0.0 && (-I64_LIMIT..I64_LIMIT).contains(n) {
                    J::from(*n as i64)
                } else {
                    serde_json::Number::from_f64(*n).map_or(J::Null, J::Number)
                }
            }
            Value::String(s) => J::String(s.clone()),
            Value::Array(items) => J::Array(items.iter().map(Value::to_json).collect()),
            Value::Object(props) => {
                // Inserting a repeated key keeps its first position and takes
                // the last value, as in JavaScript; a key whose last value is
                // undefined is then left out.
                let mut map = serde_json::Map::new();
                let mut undefined: HashSet<&str> = HashSet::new();
                for (k, v) in props {
                    if *v == Value::Undefined {
                        undefined.insert(k);
                    } else {
                        undefined.remove(k.as_str());
                    }
                    map.insert(k.clone(), v.to_json());
                }
                if !undefined.is_empty() {
                    map.retain(|k, _| !undefined.contains(k.as_str()));
                }
                J::Object(map)
            }
        }
    }

    /// The value `JSON.parse` gives for a json IPC message.
    pub(crate) fn from_json(json: &serde_json::Value) -> Value {
        use serde_json::Value as J;
        match json {
            J::Null => Value::Null,
            J::Bool(b) => Value::Bool(*b),
            // Without serde_json's arbitrary_precision every number has an
            // f64 form; big integers round as they do in JavaScript.
            J::Number(n) => Value::Number(n.as_f64().unwrap_or(f64::NAN)),
            J::String(s) => Value::String(s.clone()),
            J::Array(items) => Value::Array(items.iter().map(Value::from_json).collect()),
            J::Object(map) => Value::Object(
                map.iter()
                    .map(|(k, v)| (k.clone(), Value::from_json(v)))
                    .collect(),
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Bytes from hex; spaces may separate parts for readability.
    fn hex(s: &str) -> Vec<u8> {
        let s = s.replace(' ', "");
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("hex"))
            .collect()
    }

    fn to_hex(bytes: &[u8]) -> String {
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }

    fn obj(props: &[(&str, Value)]) -> Value {
        Value::Object(
            props
                .iter()
                .map(|(k, v)| (k.to_string(), v.clone()))
                .collect(),
        )
    }

    fn s(v: &str) -> Value {
        Value::String(v.into())
    }

    fn num(n: f64) -> Value {
        Value::Number(n)
    }

    fn arr(items: &[Value]) -> Value {
        Value::Array(items.to_vec())
    }

    /// Values whose encoding is byte for byte what Node 20 writes:
    /// `v8.serialize(js).toString('hex')`.
    fn node_vectors() -> Vec<(&'static str, &'static str, Value)> {
        use Value::{Bool, Null, Undefined};
        vec![
            ("undefined", "ff0f5f", Undefined),
            ("null", "ff0f30", Null),
            ("true", "ff0f54", Bool(true)),
            ("false", "ff0f46", Bool(false)),
            ("0", "ff0f4900", num(0.0)),
            ("-1", "ff0f4901", num(-1.0)),
            ("1", "ff0f4902", num(1.0)),
            ("2147483647", "ff0f49feffffff0f", num(2147483647.0)),
            ("-2147483648", "ff0f49ffffffff0f", num(-2147483648.0)),
            ("2147483648", "ff0f4e000000000000e041", num(2147483648.0)),
            ("1.5", "ff0f4e000000000000f83f", num(1.5)),
            ("Infinity", "ff0f4e000000000000f07f", num(f64::INFINITY)),
            ("-Infinity", "ff0f4e000000000000f0ff", num(f64::NEG_INFINITY)),
            ("2**40", "ff0f4e0000000000007042", num(2f64.powi(40))),
            ("'abc'", "ff0f2203616263", s("abc")),
            ("''", "ff0f2200", s("")),
            ("'caf\\u00e9'", "ff0f2204636166e9", s("caf\u{e9}")),
            (
                "'h\\u00e9llo \\u2603'",
                "ff0f630e6800e9006c006c006f0020000326",
                s("h\u{e9}llo \u{2603}"),
            ),
            ("'\\u{1F600}'", "ff0f63043dd800de", s("\u{1F600}")),
            (
                "{cmd:'NODE_CLUSTER',act:'online',seq:0}",
                "ff0f6f2203636d64220c4e4f44455f434c5553544552220361637422066f6e6c696e65220373657149007b03",
                obj(&[
                    ("cmd", s("NODE_CLUSTER")),
                    ("act", s("online")),
                    ("seq", num(0.0)),
                ]),
            ),
            (
                "{a:{b:[1,'x',null]},c:undefined}",
                "ff0f6f2201616f22016241034902220178302400037b012201635f7b02",
                obj(&[
                    ("a", obj(&[("b", arr(&[num(1.0), s("x"), Null]))])),
                    ("c", Undefined),
                ]),
            ),
            (
                "[1,2,3]",
                "ff0f4103490249044906240003",
                arr(&[num(1.0), num(2.0), num(3.0)]),
            ),
            ("[]", "ff0f4100240000", arr(&[])),
            ("{}", "ff0f6f7b00", obj(&[])),
            (
                "[[[]]]",
                "ff0f410141014100240000240001240001",
                arr(&[arr(&[arr(&[])])]),
            ),
            ("[undefined,null]", "ff0f41025f30240002", arr(&[Undefined, Null])),
            // Two-byte strings: no padding needed, padding before a value,
            // padding before a key.
            ("{a:'\\u2603'}", "ff0f6f220161630203267b01", obj(&[("a", s("\u{2603}"))])),
            (
                "{ab:'\\u2603'}",
                "ff0f6f2202616200630203267b01",
                obj(&[("ab", s("\u{2603}"))]),
            ),
            (
                "{abc:'\\u2603'}",
                "ff0f6f2203616263630203267b01",
                obj(&[("abc", s("\u{2603}"))]),
            ),
            ("{'\\u2603':1}", "ff0f6f006302032649027b01", obj(&[("\u{2603}", num(1.0))])),
            (
                "{cmd:'NODE_CLUSTER',act:'queryServer',index:0,data:null,\
                 key:'::1:8000:6:undefined:0',address:'::',port:8000,addressType:6,\
                 fd:undefined,flags:0,backlog:511,seq:1}",
                "ff0f6f2203636d64220c4e4f44455f434c55535445522203616374220b71756572795365727665\
                 722205696e64657849002204646174613022036b657922163a3a313a383030303a363a756e6465\
                 66696e65643a3022076164647265737322023a3a2204706f727449807d220b6164647265737354\
                 797065490c220266645f2205666c616773490022076261636b6c6f6749fe07220373657149027b0c",
                obj(&[
                    ("cmd", s("NODE_CLUSTER")),
                    ("act", s("queryServer")),
                    ("index", num(0.0)),
                    ("data", Null),
                    ("key", s("::1:8000:6:undefined:0")),
                    ("address", s("::")),
                    ("port", num(8000.0)),
                    ("addressType", num(6.0)),
                    ("fd", Undefined),
                    ("flags", num(0.0)),
                    ("backlog", num(511.0)),
                    ("seq", num(1.0)),
                ]),
            ),
            // Captured from Node's IPC serializer (`writeChannelMessage` in
            // `internal/child_process/serialization`, after the 4-byte length):
            // padding is counted from the payload start, not the frame start.
            (
                "{cmd:'NODE_HANDLE',type:'net.Native',msg:{cmd:'NODE_CLUSTER',\
                 act:'newconn',key:'::1:8000',seq:3},key:'x\\u2603'}",
                "ff0f6f2203636d64220b4e4f44455f48414e444c45220474797065220a6e65742e4e61746976\
                 6522036d73676f2203636d64220c4e4f44455f434c5553544552220361637422076e6577636f\
                 6e6e22036b657922083a3a313a38303030220373657149067b0422036b6579006304780003267b04",
                obj(&[
                    ("cmd", s("NODE_HANDLE")),
                    ("type", s("net.Native")),
                    (
                        "msg",
                        obj(&[
                            ("cmd", s("NODE_CLUSTER")),
                            ("act", s("newconn")),
                            ("key", s("::1:8000")),
                            ("seq", num(3.0)),
                        ]),
                    ),
                    ("key", s("x\u{2603}")),
                ]),
            ),
        ]
    }

    #[test]
    fn decodes_what_node_writes() {
        for (js, wire, expected) in node_vectors() {
            assert_eq!(decode(&hex(wire)), Ok(expected), "{js}");
        }
    }

    #[test]
    fn encodes_what_node_writes() {
        for (js, wire, value) in node_vectors() {
            assert_eq!(to_hex(&encode(&value)), wire, "{js}");
        }
        // -0 and NaN go out as doubles, as V8 writes them.
        assert_eq!(to_hex(&encode(&num(-0.0))), "ff0f4e0000000000000080");
        assert_eq!(to_hex(&encode(&num(f64::NAN))), "ff0f4e000000000000f87f");
    }

    /// More of Node's output, in shapes our encoder does not produce.
    #[test]
    fn decodes_other_node_shapes() {
        use Value::Undefined;
        let neg_zero = decode(&hex("ff0f4e0000000000000080")).expect("-0");
        assert!(matches!(neg_zero, Value::Number(n) if n == 0.0 && n.is_sign_negative()));
        let nan = decode(&hex("ff0f4e000000000000f87f")).expect("NaN");
        assert!(matches!(nan, Value::Number(n) if n.is_nan()));
        let cases: Vec<(&str, &str, Value)> =
            vec![
            // A Latin-1 string V8 holds as two-byte: '\u2603\u00e9'.slice(1)
            // is written one-byte after flattening; written two-byte it is
            // the same string.
            ("'\\u2603\\u00e9'.slice(1)", "ff0f2201e9", s("\u{e9}")),
            ("two-byte 'ab'", "ff0f630461006200", s("ab")),
            // Holey arrays are written sparse.
            (
                "[1,,3]",
                "ff0f61034900490249044906400203",
                arr(&[num(1.0), Undefined, num(3.0)]),
            ),
            (
                "a=[]; a[5]=1",
                "ff0f6106490a4902400106",
                arr(&[Undefined, Undefined, Undefined, Undefined, Undefined, num(1.0)]),
            ),
            (
                "a=[]; a[2]=1; a.length=4",
                "ff0f610449044902400104",
                arr(&[Undefined, Undefined, num(1.0), Undefined]),
            ),
            (
                "['x',,'y']",
                "ff0f610349002201784904220179400203",
                arr(&[s("x"), Undefined, s("y")]),
            ),
            // Integer keys come first and as numbers.
            (
                "{b:2, 1:'a'}",
                "ff0f6f490222016122016249047b02",
                obj(&[("1", s("a")), ("b", num(2.0))]),
            ),
            (
                "{4294967294:1, 4294967295:2, '-1':3, '01':4, 1.5:5}",
                "ff0f6f4e0000c0ffffffef414902220a34323934393637323935490422022d3149062202303149\
                 082203312e35490a7b05",
                obj(&[
                    ("4294967294", num(1.0)),
                    ("4294967295", num(2.0)),
                    ("-1", num(3.0)),
                    ("01", num(4.0)),
                    ("1.5", num(5.0)),
                ]),
            ),
        ];
        for (js, wire, expected) in cases {
            assert_eq!(decode(&hex(wire)), Ok(expected), "{js}");
        }
    }

    #[test]
    fn values_outside_the_subset_are_unsupported() {
        let cases = [
            ("new Map()", "ff0f3b3a00", b';'),
            ("new Set()", "ff0f272c00", b'\''),
            ("new Date(0)", "ff0f440000000000000000", b'D'),
            ("/x/g", "ff0f5222017801", b'R'),
            ("10n", "ff0f5a100a00000000000000", b'Z'),
            ("new Uint8Array([1,2])", "ff0f5c01020102", b'\\'),
            ("Buffer.from('hi')", "ff0f5c0a026869", b'\\'),
            ("new ArrayBuffer(2)", "ff0f42020000", b'B'),
            ("o={}; [o,o]", "ff0f41026f7b005e01240002", b'^'),
            ("new Number(1)", "ff0f6e000000000000f03f", b'n'),
            ("new String('s')", "ff0f73220173", b's'),
            ("Object(true)", "ff0f79", b'y'),
            ("new Error('e')", "ff0f726d2201657222", b'r'),
            ("a hole outside an array", "ff0f2d", b'-'),
        ];
        for (js, wire, t) in cases {
            assert_eq!(
                decode(&hex(wire)),
                Err(DecodeError::UnsupportedTag(t)),
                "{js}"
            );
        }
        // a=[1,2]; a.foo=3: valid, but `Value::Array` has no room for `foo`.
        assert_eq!(
            decode(&hex("ff0f4102490249042203666f6f4906240102")),
            Err(DecodeError::Unrepresentable)
        );
    }

    #[test]
    fn header_is_checked() {
        assert_eq!(decode(&[]), Err(DecodeError::Truncated));
        assert_eq!(decode(&hex("ff")), Err(DecodeError::Truncated));
        assert_eq!(decode(&hex("fe0f5f")), Err(DecodeError::BadHeader));
        assert_eq!(decode(&hex("ff0c5f")), Err(DecodeError::BadHeader));
        assert_eq!(decode(&hex("5f")), Err(DecodeError::BadHeader));
        // Versions 13 and 14 (older Node) and later ones read the same.
        for version in ["0d", "0e", "0f", "10"] {
            assert_eq!(decode(&hex(&format!("ff{version}30"))), Ok(Value::Null));
        }
    }

    #[test]
    fn tolerates_what_v8_tolerates() {
        // Padding before any tag, including end tags.
        assert_eq!(decode(&hex("ff0f00005f")), Ok(Value::Undefined));
        assert_eq!(
            decode(&hex("ff0f6f002201610049020000007b01")),
            Ok(obj(&[("a", num(1.0))]))
        );
        // Object-count checks from old writers.
        assert_eq!(decode(&hex("ff0f3f0030")), Ok(Value::Null));
        // UTF-8 strings (older writers), uint32 numbers.
        assert_eq!(decode(&hex("ff0f5303e29883")), Ok(s("\u{2603}")));
        assert_eq!(decode(&hex("ff0f55ffffffff0f")), Ok(num(4294967295.0)));
        // A hole inside a dense array.
        assert_eq!(
            decode(&hex("ff0f41024902 2d 240002")),
            Ok(arr(&[num(1.0), Value::Undefined]))
        );
        // Bytes after the value are ignored, as by Node's deserializer.
        assert_eq!(decode(&hex("ff0f30ffff")), Ok(Value::Null));
    }

    /// V8 refuses a key or element defined twice; so do we.
    #[test]
    fn repeated_keys_are_refused_as_by_v8() {
        let cases = [
            // {a:1, b:2, a:3}
            "ff0f6f2201614902220162490422016149067b03",
            // {"1":1, 1:5}
            "ff0f6f22013149024902490a7b02",
            // Sparse [0: 1, 0: 2]
            "ff0f61024900490249004904400202",
            // Dense [3, hole] with element 0 sent again
            "ff0f410249062d49004904240102",
        ];
        for wire in cases {
            assert_eq!(decode(&hex(wire)), Err(DecodeError::Malformed), "{wire}");
        }
        // Filling a dense array's hole with a property is fine: [3, 2].
        assert_eq!(
            decode(&hex("ff0f410249062d49024904240102")),
            Ok(arr(&[num(3.0), num(2.0)]))
        );
    }

    #[test]
    fn malformed_payloads_are_refused() {
        let cases = [
            // Property count disagrees.
            ("ff0f6f2201614902 7b02", DecodeError::Malformed),
            // Dense array: trailing counts disagree.
            ("ff0f410149022400 02", DecodeError::Malformed),
            ("ff0f410149022401 01", DecodeError::Malformed),
            // Sparse array: length disagrees.
            ("ff0f6102 400003", DecodeError::Malformed),
            // A sixth varint byte.
            ("ff0f49ffffffffff01", DecodeError::Malformed),
            // Dense length beyond the payload.
            ("ff0f41ffffffff0f", DecodeError::Truncated),
            // Sparse arrays claiming billions of holes.
            ("ff0f61ffffffff0f 4000ffffffff0f", DecodeError::TooLarge),
            // Odd-length two-byte string, lone surrogate, bad UTF-8.
            ("ff0f6303610000", DecodeError::BadString),
            ("ff0f630200d8", DecodeError::BadString),
            ("ff0f5302c328", DecodeError::BadString),
            // Keys that are neither strings nor numbers.
            ("ff0f6f3049007b01", DecodeError::BadKey),
            ("ff0f6f6f7b0049007b01", DecodeError::BadKey),
            // An array index past the declared length.
            ("ff0f61014904 4902400101", DecodeError::Unrepresentable),
            // A count check right before an end tag is not allowed by V8.
            ("ff0f6f3f007b00", DecodeError::BadKey),
        ];
        for (wire, err) in cases {
            assert_eq!(decode(&hex(wire)), Err(err), "{wire}");
        }
    }

    #[test]
    fn sparse_holes_are_budgeted_across_the_payload() {
        // Each of these arrays is small, but together they would ask for
        // more holes than the allowance.
        let one = hex("618020 40 00 8020"); // length 4096
        let mut payload = vec![0xff, 0x0f, b'A', 2];
        payload.extend_from_slice(&one);
        payload.extend_from_slice(&one);
        payload.extend_from_slice(&hex("240002"));
        assert_eq!(decode(&payload), Err(DecodeError::TooLarge));
        let mut payload = vec![0xff, 0x0f];
        payload.extend_from_slice(&one);
        assert!(matches!(decode(&payload), Ok(Value::Array(a)) if a.len() == 4096));
    }

    #[test]
    fn every_truncation_is_an_error() {
        for (js, wire, _) in node_vectors() {
            let payload = hex(wire);
            for end in 0..payload.len() {
                assert!(decode(&payload[..end]).is_err(), "{js} cut at {end}");
            }
        }
    }

    #[test]
    fn nesting_is_bounded() {
        let nested = |depth: usize| {
            let mut payload = vec![0xff, 0x0f];
            payload.extend(std::iter::repeat_n([b'A', 1], depth).flatten());
            payload.push(b'_');
            payload.extend(std::iter::repeat_n([b'$', 0, 1], depth).flatten());
            payload
        };
        assert!(decode(&nested(MAX_DEPTH)).is_ok());
        assert_eq!(decode(&nested(MAX_DEPTH + 1)), Err(DecodeError::TooDeep));
        assert_eq!(decode(&nested(100_000)), Err(DecodeError::TooDeep));
        let mut objects = vec![0xff, 0x0f];
        objects.extend(std::iter::repeat_n([b'o', b'"', 1, b'k'], 100_000).flatten());
        assert_eq!(decode(&objects), Err(DecodeError::TooDeep));
    }

    /// `String(x)` in Node 20, for the doubles with these bits (hex, LE).
    #[test]
    fn numbers_print_like_javascript() {
        let cases = [
            ("000000000000f03f", "1"),
            ("000000000000f0bf", "-1"),
            ("000000000000e03f", "0.5"),
            ("000000000000e0bf", "-0.5"),
            ("9a9999999999b93f", "0.1"),
            ("555555555555d53f", "0.3333333333333333"),
            ("555555555555e53f", "0.6666666666666666"),
            ("0000000000005940", "100"),
            ("000000000040bf40", "8000"),
            ("00000054346f9d41", "123456789"),
            ("408cb5781daf1544", "100000000000000000000"),
            ("50efe2d6e41a4b44", "1e+21"),
            ("7c332aa12b545444", "1.5e+21"),
            ("c674fe5146d68444", "1.23e+22"),
            ("8dedb5a0f7c6b03e", "0.000001"),
            ("48afbc9af2d77a3e", "1e-7"),
            ("76830df4f521843e", "1.5e-7"),
            ("96cd4259fdb3b43e", "0.000001234"),
            ("123e02e1fd8f803e", "1.234e-7"),
            ("0000000000004043", "9007199254740992"),
            ("0100000000004043", "9007199254740994"),
            ("000000000000e043", "9223372036854776000"),
            ("000000000000f043", "18446744073709552000"),
            ("ffffffffffffef7f", "1.7976931348623157e+308"),
            ("0100000000000000", "5e-324"),
            ("0000000000001000", "2.2250738585072014e-308"),
            ("0000e0ffffffef41", "4294967295"),
            ("000000000000e0c1", "-2147483648"),
            ("77be9f1a2fdd5e40", "123.456"),
            ("9c7500883ce4377e", "1e+300"),
            ("59f3f8c21f6ea581", "-1e-300"),
            ("3d0ad7a370fd2340", "9.995"),
            ("e1639d31956ae543", "12345678901234567000"),
            ("f26274dbe7171844", "111111111111111110000"),
            // Two equally short candidates: the one nearer the exact value,
            // the even one on a tie (where Rust's `{:e}` would round up).
            ("2afc57e99eeb0d43", "1052730259603333.2"),
            ("2efc57e99eeb0d43", "1052730259603333.8"),
            ("2afc57e99eeb0dc3", "-1052730259603333.2"),
            ("a02cc2744289a442", "11289879011606.312"),
            ("000000000000c03f", "0.125"),
            ("000000000000d83f", "0.375"),
            ("0000000000000080", "0"),
            ("000000000000f87f", "NaN"),
            ("000000000000f07f", "Infinity"),
            ("000000000000f0ff", "-Infinity"),
        ];
        for (bits, js) in cases {
            let mut le = [0u8; 8];
            le.copy_from_slice(&hex(bits));
            assert_eq!(number_to_string(f64::from_le_bytes(le)), js, "{bits}");
        }
    }

    #[test]
    fn json_conversion_follows_json_stringify() {
        use serde_json::json;
        use Value::{Null, Undefined};
        let value = obj(&[
            ("a", Undefined),
            (
                "b",
                arr(&[Undefined, num(f64::NAN), num(f64::INFINITY), Null]),
            ),
            ("c", num(-0.0)),
            ("d", num(1.5)),
            ("e", num(1e18)),
            ("f", num(-9007199254740993.0)),
            ("g", obj(&[("x", s("y"))])),
        ]);
        let text = serde_json::to_string(&value.to_json()).expect("json");
        // JSON.stringify gives the same.
        assert_eq!(
            text,
            r#"{"b":[null,null,null,null],"c":0,"d":1.5,"e":1000000000000000000,"f":-9007199254740992,"g":{"x":"y"}}"#
        );
        assert_eq!(Undefined.to_json(), json!(null));
        // A repeated key: first position, last value; left out if undefined.
        let repeated = Value::Object(vec![
            ("a".into(), num(1.0)),
            ("b".into(), num(2.0)),
            ("a".into(), num(3.0)),
            ("b".into(), Undefined),
        ]);
        assert_eq!(
            serde_json::to_string(&repeated.to_json()).expect("json"),
            r#"{"a":3}"#
        );
        assert_eq!(repeated.get("a"), Some(&num(3.0)));

        let parsed: serde_json::Value =
            serde_json::from_str(r#"{"cmd":"NODE_CLUSTER","n":[1,2.5,null,true],"o":{}}"#)
                .expect("json");
        let value = Value::from_json(&parsed);
        assert_eq!(
            value,
            obj(&[
                ("cmd", s("NODE_CLUSTER")),
                ("n", arr(&[num(1.0), num(2.5), Null, Value::Bool(true)])),
                ("o", obj(&[])),
            ])
        );
        assert_eq!(value.to_json(), parsed);
    }

    #[test]
    fn accessors() {
        let value = obj(&[("cmd", s("NODE_CLUSTER")), ("seq", num(4.0))]);
        assert_eq!(
            value.get("cmd").and_then(Value::as_str),
            Some("NODE_CLUSTER")
        );
        assert_eq!(value.get("seq").and_then(Value::as_f64), Some(4.0));
        assert_eq!(value.get("seq").and_then(Value::as_str), None);
        assert_eq!(value.get("nope"), None);
        assert_eq!(s("x").get("length"), None);
    }

    fn xorshift(seed: &mut u64) -> u64 {
        *seed ^= *seed << 13;
        *seed ^= *seed >> 7;
        *seed ^= *seed << 17;
        *seed
    }

    fn random_string(seed: &mut u64) -> String {
        (0..xorshift(seed) % 6)
            .filter_map(|_| {
                let range = match xorshift(seed) % 3 {
                    0 => 0x80,
                    1 => 0x100,
                    _ => 0x11_0000,
                };
                char::from_u32((xorshift(seed) % range) as u32)
            })
            .collect()
    }

    fn random_value(seed: &mut u64, depth: usize) -> Value {
        match xorshift(seed) % if depth > 3 { 7 } else { 9 } {
            0 => Value::Undefined,
            1 => Value::Null,
            2 => Value::Bool(xorshift(seed).is_multiple_of(2)),
            3 => num((xorshift(seed) as i64 >> (xorshift(seed) % 64)) as f64),
            4 => num(f64::from_bits(xorshift(seed))),
            5 => num(f64::from(xorshift(seed) as u8) / 8.0 - 16.0),
            6 => Value::String(random_string(seed)),
            7 => Value::Array(
                (0..xorshift(seed) % 4)
                    .map(|_| random_value(seed, depth + 1))
                    .collect(),
            ),
            _ => {
                // Distinct keys: decoding merges repeated ones.
                let mut props: Vec<(String, Value)> = Vec::new();
                for i in 0..xorshift(seed) % 4 {
                    let key = format!("{}{i}", random_string(seed));
                    if props.iter().all(|(k, _)| *k != key) {
                        props.push((key, random_value(seed, depth + 1)));
                    }
                }
                Value::Object(props)
            }
        }
    }

    #[test]
    fn random_values_round_trip() {
        let mut seed = 0x1234_5678_9abc_def0;
        for _ in 0..5000 {
            let value = random_value(&mut seed, 0);
            let wire = encode(&value);
            let back = decode(&wire).expect("decodes");
            // NaN != NaN: compare encodings, which keep every bit.
            assert_eq!(encode(&back), wire, "{value:?}");
        }
    }

    #[test]
    fn random_and_mutated_input_never_panics() {
        let mut seed = 0xdead_beef_cafe_f00d;
        let valid: Vec<Vec<u8>> = (0..64)
            .map(|_| encode(&random_value(&mut seed, 0)))
            .chain(node_vectors().into_iter().map(|(_, wire, _)| hex(wire)))
            .collect();
        for round in 0..200_000 {
            let mut input = match round % 3 {
                0 => (0..xorshift(&mut seed) % 64)
                    .map(|_| xorshift(&mut seed) as u8)
                    .collect(),
                // Random bytes after a valid header reach past the header check.
                1 => [0xff, 0x0f]
                    .into_iter()
                    .chain((0..xorshift(&mut seed) % 64).map(|_| xorshift(&mut seed) as u8))
                    .collect(),
                _ => valid[(xorshift(&mut seed) % valid.len() as u64) as usize].clone(),
            };
            for _ in 0..xorshift(&mut seed) % 4 {
                if input.is_empty() {
                    break;
                }
                let at = (xorshift(&mut seed) % input.len() as u64) as usize;
                match xorshift(&mut seed) % 3 {
                    0 => input[at] = xorshift(&mut seed) as u8,
                    1 => {
                        input.remove(at);
                    }
                    _ => input.insert(at, xorshift(&mut seed) as u8),
                }
            }
            if let Ok(value) = decode(&input) {
                // Whatever decodes re-encodes to something that decodes.
                let again = decode(&encode(&value)).expect("re-encoded value decodes");
                assert_eq!(encode(&again), encode(&value));
                let _ = value.to_json();
            }
        }
    }
}
