//! The subset of V8's value serialization (`v8.serialize`) that Node's
//! internal IPC messages use in `advanced` mode: primitives, strings, plain
//! objects and arrays. Anything else (Map, Date, Buffer, object references,
//! ...) is reported as unsupported, and the caller passes the message to JS
//! untouched as user data.
//!
//! Input comes from worker processes, so decoding never trusts a length
//! beyond the bytes actually present and bounds nesting depth.

use std::fmt;

/// The format version we write. 13 is understood by every Node release
/// this package supports; newer readers accept older versions.
const WRITE_VERSION: u8 = 13;
const MIN_READ_VERSION: u32 = 13;
const MAX_DEPTH: usize = 64;

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

/// A JavaScript value of the subset internal messages use.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Undefined,
    Null,
    Bool(bool),
    Number(f64),
    String(String),
    /// Dense arrays; holes read as `Undefined`.
    Array(Vec<Value>),
    /// Plain objects, keys in insertion order.
    Object(Vec<(String, Value)>),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DecodeError {
    Truncated,
    BadHeader,
    UnsupportedTag(u8),
    BadString,
    TooDeep,
    TrailingBytes,
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DecodeError::Truncated => write!(f, "serialized value is truncated"),
            DecodeError::BadHeader => write!(f, "missing or unsupported serialization header"),
            DecodeError::UnsupportedTag(t) => write!(f, "unsupported value tag 0x{t:02x}"),
            DecodeError::BadString => write!(f, "malformed string"),
            DecodeError::TooDeep => write!(f, "value nested too deeply"),
            DecodeError::TrailingBytes => write!(f, "bytes after the value"),
        }
    }
}

impl std::error::Error for DecodeError {}

/// Decode a whole payload: the header, then one value.
pub fn decode(payload: &[u8]) -> Result<Value, DecodeError> {
    let mut reader = Reader {
        data: payload,
        pos: 0,
    };
    if reader.byte()? != tag::VERSION {
        return Err(DecodeError::BadHeader);
    }
    if reader.varint()? < MIN_READ_VERSION {
        return Err(DecodeError::BadHeader);
    }
    let value = reader.value(0)?;
    if reader.pos != payload.len() {
        return Err(DecodeError::TrailingBytes);
    }
    Ok(value)
}

/// Encode a value as a whole payload that `v8.deserialize` reads back.
pub fn encode(value: &Value) -> Vec<u8> {
    let mut out = vec![tag::VERSION, WRITE_VERSION];
    write_value(&mut out, value);
    out
}

struct Reader<'a> {
    data: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
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

    /// A base-128 varint of at most 32 bits.
    fn varint(&mut self) -> Result<u32, DecodeError> {
        let mut result: u64 = 0;
        for shift in (0..35).step_by(7) {
            let b = self.byte()?;
            result |= u64::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                return Ok(result as u32);
            }
        }
        Err(DecodeError::Truncated)
    }

    /// The next tag, skipping padding and object-count checks.
    fn tag(&mut self) -> Result<u8, DecodeError> {
        loop {
            match self.byte()? {
                tag::PADDING => continue,
                tag::VERIFY_OBJECT_COUNT => {
                    self.varint()?;
                }
                t => return Ok(t),
            }
        }
    }

    fn peek_tag(&mut self) -> Result<u8, DecodeError> {
        let saved = self.pos;
        let t = self.tag();
        self.pos = saved;
        t
    }

    fn value(&mut self, depth: usize) -> Result<Value, DecodeError> {
        if depth > MAX_DEPTH {
            return Err(DecodeError::TooDeep);
        }
        let t = self.tag()?;
        match t {
            tag::UNDEFINED | tag::THE_HOLE => Ok(Value::Undefined),
            tag::NULL => Ok(Value::Null),
            tag::TRUE => Ok(Value::Bool(true)),
            tag::FALSE => Ok(Value::Bool(false)),
            tag::INT32 => {
                let z = self.varint()?;
                Ok(Value::Number(f64::from(
                    ((z >> 1) as i32) ^ -((z & 1) as i32),
                )))
            }
            tag::UINT32 => Ok(Value::Number(f64::from(self.varint()?))),
            tag::DOUBLE => self.double().map(Value::Number),
            tag::ONE_BYTE_STRING | tag::TWO_BYTE_STRING | tag::UTF8_STRING => {
                self.string_body(t).map(Value::String)
            }
            tag::BEGIN_OBJECT => {
                let props = self.properties(tag::END_OBJECT, depth)?;
                self.varint()?; // property count
                Ok(Value::Object(props))
            }
            tag::BEGIN_DENSE_ARRAY => {
                let len = self.varint()? as usize;
                // Each element takes at least one byte: cap by what is left.
                let mut items = Vec::with_capacity(len.min(self.data.len() - self.pos));
                for _ in 0..len {
                    items.push(self.value(depth + 1)?);
                }
                self.properties(tag::END_DENSE_ARRAY, depth)?;
                self.varint()?;
                self.varint()?;
                Ok(Value::Array(items))
            }
            tag::BEGIN_SPARSE_ARRAY => {
                let len = self.varint()? as usize;
                let props = self.properties(tag::END_SPARSE_ARRAY, depth)?;
                self.varint()?;
                self.varint()?;
                if len > self.data.len() * 8 {
                    return Err(DecodeError::Truncated);
                }
                let mut items = vec![Value::Undefined; len];
                for (key, value) in props {
                    if let Ok(index) = key.parse::<usize>() {
                        if let Some(slot) = items.get_mut(index) {
                            *slot = value;
                        }
                    }
                }
                Ok(Value::Array(items))
            }
            other => Err(DecodeError::UnsupportedTag(other)),
        }
    }

    fn double(&mut self) -> Result<f64, DecodeError> {
        let raw = self.bytes(8)?;
        let mut le = [0u8; 8];
        le.copy_from_slice(raw);
        Ok(f64::from_le_bytes(le))
    }

    fn string_body(&mut self, t: u8) -> Result<String, DecodeError> {
        let len = self.varint()? as usize;
        let raw = self.bytes(len)?;
        match t {
            tag::ONE_BYTE_STRING => Ok(raw.iter().map(|&b| char::from(b)).collect()),
            tag::TWO_BYTE_STRING => {
                if !len.is_multiple_of(2) {
                    return Err(DecodeError::BadString);
                }
                let units = raw
                    .chunks_exact(2)
                    .map(|c| u16::from_le_bytes([c[0], c[1]]));
                // Lone surrogates cannot be Rust strings; they only occur in
                // user data, which JS decodes itself.
                char::decode_utf16(units)
                    .collect::<Result<String, _>>()
                    .map_err(|_| DecodeError::BadString)
            }
            _ => String::from_utf8(raw.to_vec()).map_err(|_| DecodeError::BadString),
        }
    }

    /// Key/value pairs up to (and consuming) `end`.
    fn properties(&mut self, end: u8, depth: usize) -> Result<Vec<(String, Value)>, DecodeError> {
        let mut props = Vec::new();
        loop {
            if self.peek_tag()? == end {
                self.tag()?;
                return Ok(props);
            }
            let key = match self.value(depth + 1)? {
                Value::String(s) => s,
                Value::Number(n) => number_to_string(n),
                _ => return Err(DecodeError::UnsupportedTag(end)),
            };
            let value = self.value(depth + 1)?;
            props.push((key, value));
        }
    }
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

fn write_string(out: &mut Vec<u8>, s: &str) {
    if s.chars().all(|c| (c as u32) <= 0xff) {
        out.push(tag::ONE_BYTE_STRING);
        write_varint(out, s.chars().count() as u32);
        out.extend(s.chars().map(|c| c as u8));
    } else {
        let units: Vec<u16> = s.encode_utf16().collect();
        out.push(tag::TWO_BYTE_STRING);
        write_varint(out, (units.len() * 2) as u32);
        for unit in units {
            out.extend_from_slice(&unit.to_le_bytes());
        }
    }
}

fn write_value(out: &mut Vec<u8>, value: &Value) {
    match value {
        Value::Undefined => out.push(tag::UNDEFINED),
        Value::Null => out.push(tag::NULL),
        Value::Bool(true) => out.push(tag::TRUE),
        Value::Bool(false) => out.push(tag::FALSE),
        Value::Number(n) => {
            let is_int32 =
                n.fract() == 0.0 && *n >= f64::from(i32::MIN) && *n <= f64::from(i32::MAX);
            if is_int32 && !(*n == 0.0 && n.is_sign_negative()) {
                let i = *n as i32;
                out.push(tag::INT32);
                write_varint(out, ((i << 1) ^ (i >> 31)) as u32);
            } else {
                out.push(tag::DOUBLE);
                out.extend_from_slice(&n.to_le_bytes());
            }
        }
        Value::String(s) => write_string(out, s),
        Value::Array(items) => {
            out.push(tag::BEGIN_DENSE_ARRAY);
            write_varint(out, items.len() as u32);
            for item in items {
                write_value(out, item);
            }
            out.push(tag::END_DENSE_ARRAY);
            write_varint(out, 0);
            write_varint(out, items.len() as u32);
        }
        Value::Object(props) => {
            out.push(tag::BEGIN_OBJECT);
            for (key, value) in props {
                write_string(out, key);
                write_value(out, value);
            }
            out.push(tag::END_OBJECT);
            write_varint(out, props.len() as u32);
        }
    }
}

/// `String(n)` in JavaScript, for the numbers protocol messages carry.
fn number_to_string(n: f64) -> String {
    if n.is_nan() {
        "NaN".into()
    } else if n.is_infinite() {
        if n > 0.0 { "Infinity" } else { "-Infinity" }.into()
    } else if n == 0.0 {
        "0".into()
    } else if n.fract() == 0.0 && n.abs() < 1e21 {
        format!("{n:.0}")
    } else {
        format!("{n}")
    }
}

impl Value {
    pub fn get(&self, key: &str) -> Option<&Value> {
        match self {
            Value::Object(props) => props.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Value::Number(n) => Some(*n),
            _ => None,
        }
    }

    /// What a template literal `${value}` gives.
    pub fn to_js_string(&self) -> String {
        match self {
            Value::Undefined => "undefined".into(),
            Value::Null => "null".into(),
            Value::Bool(b) => b.to_string(),
            Value::Number(n) => number_to_string(*n),
            Value::String(s) => s.clone(),
            Value::Array(items) => items
                .iter()
                .map(|v| match v {
                    Value::Undefined | Value::Null => String::new(),
                    v => v.to_js_string(),
                })
                .collect::<Vec<_>>()
                .join(","),
            Value::Object(_) => "[object Object]".into(),
        }
    }

    /// As `JSON.stringify` sees it: undefined properties are left out,
    /// undefined array items and non-finite numbers become null.
    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::Value as J;
        match self {
            Value::Undefined | Value::Null => J::Null,
            Value::Bool(b) => J::Bool(*b),
            Value::Number(n) => {
                if n.fract() == 0.0 && n.abs() <= 9_007_199_254_740_992.0 {
                    J::from(*n as i64)
                } else {
                    serde_json::Number::from_f64(*n)
                        .map(J::Number)
                        .unwrap_or(J::Null)
                }
            }
            Value::String(s) => J::String(s.clone()),
            Value::Array(items) => J::Array(items.iter().map(Value::to_json).collect()),
            Value::Object(props) => J::Object(
                props
                    .iter()
                    .filter(|(_, v)| *v != Value::Undefined)
                    .map(|(k, v)| (k.clone(), v.to_json()))
                    .collect(),
            ),
        }
    }

    pub fn from_json(json: &serde_json::Value) -> Value {
        use serde_json::Value as J;
        match json {
            J::Null => Value::Null,
            J::Bool(b) => Value::Bool(*b),
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

    fn hex(s: &str) -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("hex"))
            .collect()
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

    /// Produced by `v8.serialize(value).toString('hex')` on Node 20.
    #[test]
    fn decodes_what_node_writes() {
        let cases: Vec<(&str, Value)> = vec![
            ("ff0f5f", Value::Undefined),
            ("ff0f30", Value::Null),
            ("ff0f54", Value::Bool(true)),
            ("ff0f46", Value::Bool(false)),
            ("ff0f4900", Value::Number(0.0)),
            ("ff0f4901", Value::Number(-1.0)),
            ("ff0f49feffffff0f", Value::Number(2147483647.0)),
            ("ff0f4e000000000000f83f", Value::Number(1.5)),
            ("ff0f4e0000000000007042", Value::Number(2f64.powi(40))),
            ("ff0f2203616263", s("abc")),
            ("ff0f2200", s("")),
            ("ff0f2204636166e9", s("caf\u{e9}")),
            ("ff0f630e6800e9006c006c006f0020000326", s("h\u{e9}llo \u{2603}")),
            ("ff0f63043dd800de", s("\u{1F600}")),
            (
                "ff0f6f2203636d64220c4e4f44455f434c5553544552220361637422066f6e6c696e65220373657149007b03",
                obj(&[("cmd", s("NODE_CLUSTER")), ("act", s("online")), ("seq", Value::Number(0.0))]),
            ),
            (
                "ff0f6f2201616f22016241034902220178302400037b012201635f7b02",
                obj(&[
                    ("a", obj(&[("b", Value::Array(vec![Value::Number(1.0), s("x"), Value::Null]))])),
                    ("c", Value::Undefined),
                ]),
            ),
            ("ff0f4103490249044906240003", Value::Array(vec![Value::Number(1.0), Value::Number(2.0), Value::Number(3.0)])),
            (
                "ff0f6106490a4902400106",
                Value::Array(vec![
                    Value::Undefined,
                    Value::Undefined,
                    Value::Undefined,
                    Value::Undefined,
                    Value::Undefined,
                    Value::Number(1.0),
                ]),
            ),
            ("ff0f6f490222016122016249047b02", obj(&[("1", s("a")), ("b", Value::Number(2.0))])),
            ("ff0f6f220161630203267b01", obj(&[("a", s("\u{2603}"))])),
        ];
        for (wire, expected) in cases {
            assert_eq!(decode(&hex(wire)), Ok(expected), "{wire}");
        }
        let neg_zero = decode(&hex("ff0f4e0000000000000080")).expect("-0");
        assert!(matches!(neg_zero, Value::Number(n) if n == 0.0 && n.is_sign_negative()));
    }

    #[test]
    fn unsupported_values_are_reported() {
        // new Map(), a Buffer via ChildProcessSerializer's host object tag
        assert_eq!(
            decode(&hex("ff0f3b3a00")),
            Err(DecodeError::UnsupportedTag(b';'))
        );
        assert_eq!(
            decode(&hex("ff0f5c00")),
            Err(DecodeError::UnsupportedTag(b'\\'))
        );
        assert_eq!(decode(&hex("ff")), Err(DecodeError::Truncated));
        assert_eq!(decode(&hex("fe0f5f")), Err(DecodeError::BadHeader));
    }

    #[test]
    fn encode_round_trips() {
        let value = obj(&[
            ("cmd", s("NODE_HANDLE")),
            ("type", s("net.Native")),
            (
                "msg",
                obj(&[
                    ("errno", Value::Null),
                    ("n", Value::Number(-123456.0)),
                    ("f", Value::Number(0.25)),
                    ("z", Value::Number(-0.0)),
                    ("big", Value::Number(1e300)),
                    ("s", s("k\u{e9}y \u{2603} \u{1F600}")),
                    ("a", Value::Array(vec![Value::Bool(true), Value::Undefined])),
                ]),
            ),
        ]);
        assert_eq!(decode(&encode(&value)), Ok(value));
    }

    fn xorshift(seed: &mut u64) -> u64 {
        *seed ^= *seed << 13;
        *seed ^= *seed >> 7;
        *seed ^= *seed << 17;
        *seed
    }

    fn random_value(seed: &mut u64, depth: usize) -> Value {
        match xorshift(seed) % if depth > 3 { 6 } else { 8 } {
            0 => Value::Undefined,
            1 => Value::Null,
            2 => Value::Bool(xorshift(seed).is_multiple_of(2)),
            3 => Value::Number((xorshift(seed) as i64 >> 20) as f64),
            4 => Value::Number(f64::from_bits(xorshift(seed)) % 1e6),
            5 => Value::String(
                (0..xorshift(seed) % 6)
                    .filter_map(|_| char::from_u32((xorshift(seed) % 0x3000) as u32))
                    .collect(),
            ),
            6 => Value::Array(
                (0..xorshift(seed) % 4)
                    .map(|_| random_value(seed, depth + 1))
                    .collect(),
            ),
            _ => Value::Object(
                (0..xorshift(seed) % 4)
                    .map(|i| (format!("k{i}"), random_value(seed, depth + 1)))
                    .collect(),
            ),
        }
    }

    #[test]
    fn random_values_round_trip() {
        let mut seed = 0x1234_5678_9abc_def0;
        for _ in 0..2000 {
            let value = random_value(&mut seed, 0);
            let back = decode(&encode(&value)).expect("decodes");
            // NaN != NaN: compare encodings instead.
            assert_eq!(encode(&back), encode(&value));
        }
    }

    #[test]
    fn random_and_mutated_input_never_panics() {
        let mut seed = 0xdead_beef_cafe_f00d;
        let valid = encode(&random_value(&mut seed, 0));
        for _ in 0..100_000 {
            let mut input = if xorshift(&mut seed).is_multiple_of(2) {
                valid.clone()
            } else {
                (0..xorshift(&mut seed) % 64)
                    .map(|_| xorshift(&mut seed) as u8)
                    .collect()
            };
            for _ in 0..xorshift(&mut seed) % 4 {
                if input.is_empty() {
                    break;
                }
                let at = (xorshift(&mut seed) as usize) % input.len();
                input[at] = xorshift(&mut seed) as u8;
            }
            let _ = decode(&input);
        }
    }

    #[test]
    fn deep_nesting_is_refused() {
        let mut payload = vec![0xff, 0x0f];
        payload.extend(std::iter::repeat_n(b'A', 1000).flat_map(|a| [a, 1]));
        assert_eq!(decode(&payload), Err(DecodeError::TooDeep));
    }

    #[test]
    fn js_string_conversion() {
        assert_eq!(Value::Number(8000.0).to_js_string(), "8000");
        assert_eq!(Value::Number(-1.0).to_js_string(), "-1");
        assert_eq!(Value::Number(0.5).to_js_string(), "0.5");
        assert_eq!(Value::Undefined.to_js_string(), "undefined");
        assert_eq!(Value::Null.to_js_string(), "null");
    }
}
