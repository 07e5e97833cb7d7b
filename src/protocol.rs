//! Node's internal IPC messages, as far as the primary's Rust side reads and
//! writes them (`lib/internal/cluster/utils.js`, `isInternal` in
//! `lib/internal/child_process.js`). Internal messages are objects whose `cmd`
//! starts with `NODE_`; cluster's own carry `cmd: 'NODE_CLUSTER'`. The JS layer
//! handles the cluster protocol (lib/primary.js); Rust handles only what
//! happens per connection or per passed descriptor, and the agent's
//! connection counts, without entering V8.

use crate::channel::framing::{frame, Mode};
use crate::channel::v8::{self, Value};
use crate::contract::AGENT_CMD;

/// What a frame from a worker is, as far as the primary's Rust side cares.
#[derive(Debug)]
pub(crate) enum Incoming {
    /// `NODE_HANDLE_ACK`: the worker took the descriptor we sent.
    HandleAck,
    /// `NODE_HANDLE_NACK`: the descriptor did not arrive; send it again.
    HandleNack,
    /// `NODE_HANDLE`: a message that travelled with a descriptor.
    Handle,
    /// A worker's answer to `newconn`:
    /// `{ cmd: 'NODE_CLUSTER', ack, accepted, seq }`.
    NewconnReply { ack: u64, accepted: bool },
    /// `NODE_RUST_CLUSTER`: a message from rust-cluster's worker agent
    /// (`lib/agent/`), decoded.
    Agent(Value),
    /// Anything else: user data, or an internal message for JS.
    Js,
}

fn is_internal_cmd(cmd: &str) -> bool {
    cmd.len() > 5 && cmd.starts_with("NODE_")
}

/// Decode one frame (a json line or a V8 payload) into a value, if it is in
/// the subset Rust understands.
pub(crate) fn decode(mode: Mode, body: &[u8]) -> Option<Value> {
    match mode {
        Mode::Json => serde_json::from_slice::<serde_json::Value>(body)
            .ok()
            .map(|json| Value::from_json(&json)),
        Mode::Advanced => v8::decode(body).ok(),
    }
}

/// Classify a frame. Frames that cannot be internal (no `cmd` key in them)
/// are not decoded at all: user messages cost Rust one scan.
pub(crate) fn classify(mode: Mode, body: &[u8]) -> Incoming {
    if mode == Mode::Json {
        // The two replies a worker sends for every connection, in the exact
        // form `JSON.stringify` gives them: no need for a parser.
        if body == br#"{"cmd":"NODE_HANDLE_ACK"}"# {
            return Incoming::HandleAck;
        }
        if let Some(reply) = json_newconn_reply(body) {
            return reply;
        }
    }
    // How a `cmd` key looks on the wire: a JSON string, or a V8 one-byte
    // string of length 3.
    let key: &[u8] = match mode {
        Mode::Json => b"\"cmd\"",
        Mode::Advanced => b"\"\x03cmd",
    };
    if !contains(body, key) {
        return Incoming::Js;
    }
    let Some(value) = decode(mode, body) else {
        return Incoming::Js;
    };
    let cmd = match value.get("cmd").and_then(Value::as_str) {
        Some(cmd) if is_internal_cmd(cmd) => cmd,
        _ => return Incoming::Js,
    };
    match cmd {
        "NODE_HANDLE_ACK" => Incoming::HandleAck,
        "NODE_HANDLE_NACK" => Incoming::HandleNack,
        "NODE_HANDLE" => Incoming::Handle,
        "NODE_CLUSTER" => newconn_reply(&value).unwrap_or(Incoming::Js),
        AGENT_CMD => Incoming::Agent(value),
        _ => Incoming::Js,
    }
}

/// A decoded cluster message that answers a `newconn`: `ack` and
/// `accepted`, no `act` (child.js: `send({ ack: message.seq, accepted })`).
fn newconn_reply(msg: &Value) -> Option<Incoming> {
    if msg.get("act").is_some() {
        return None;
    }
    let ack = msg.get("ack")?.as_f64()?;
    let accepted = msg.get("accepted").map(truthy)?;
    (ack >= 0.0 && ack.fract() == 0.0 && ack < 9.0e15).then_some(Incoming::NewconnReply {
        ack: ack as u64,
        accepted,
    })
}

/// `{"cmd":"NODE_CLUSTER","ack":N,"accepted":B,"seq":M}`, or None.
fn json_newconn_reply(body: &[u8]) -> Option<Incoming> {
    let rest = body.strip_prefix(br#"{"cmd":"NODE_CLUSTER","ack":"#)?;
    let (ack, rest) = split_integer(rest)?;
    let (accepted, rest) = if let Some(rest) = rest.strip_prefix(br#","accepted":true,"seq":"#) {
        (true, rest)
    } else {
        (false, rest.strip_prefix(br#","accepted":false,"seq":"#)?)
    };
    let (_seq, rest) = split_integer(rest)?;
    (rest == b"}").then_some(Incoming::NewconnReply { ack, accepted })
}

fn split_integer(s: &[u8]) -> Option<(u64, &[u8])> {
    let digits = s.iter().take_while(|b| b.is_ascii_digit()).count();
    if digits == 0 || digits > 15 {
        return None;
    }
    let n = std::str::from_utf8(&s[..digits]).ok()?.parse().ok()?;
    Some((n, &s[digits..]))
}

/// The `newconn` message for one connection, framed for the wire:
/// `{ cmd: 'NODE_HANDLE', type: 'net.Native', msg: { cmd: 'NODE_CLUSTER',
/// act: 'newconn', key, seq } }`. Json is written directly, since this runs
/// once per connection.
pub(crate) fn newconn_frame(mode: Mode, key: &str, seq: u64) -> Vec<u8> {
    match mode {
        Mode::Json => {
            let key = serde_json::to_string(key).unwrap_or_else(|_| "\"\"".into());
            let mut out = format!(
                r#"{{"cmd":"NODE_HANDLE","type":"net.Native","msg":{{"cmd":"NODE_CLUSTER","act":"newconn","key":{key},"seq":{seq}}}}}"#
            )
            .into_bytes();
            out.push(b'\n');
            out
        }
        Mode::Advanced => {
            let inner = cluster_message(
                vec![
                    ("act".into(), string("newconn")),
                    ("key".into(), string(key)),
                ],
                seq,
            );
            encode(mode, &handle_message("net.Native", inner))
        }
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    memchr::memmem::find(haystack, needle).is_some()
}

/// Encode a message and frame it for the wire.
pub(crate) fn encode(mode: Mode, message: &Value) -> Vec<u8> {
    match mode {
        Mode::Json => {
            let text = serde_json::to_vec(&message.to_json()).unwrap_or_default();
            frame(mode, &text)
        }
        Mode::Advanced => frame(mode, &v8::encode(message)),
    }
}

pub(crate) fn string(s: impl Into<String>) -> Value {
    Value::String(s.into())
}

pub(crate) fn number(n: impl Into<f64>) -> Value {
    Value::Number(n.into())
}

/// `{ cmd: 'NODE_CLUSTER', ...fields, seq }`, the shape `sendHelper` gives
/// (`lib/internal/cluster/utils.js`).
pub(crate) fn cluster_message(fields: Vec<(String, Value)>, seq: u64) -> Value {
    let mut props = Vec::with_capacity(fields.len() + 2);
    props.push(("cmd".to_string(), string("NODE_CLUSTER")));
    props.extend(fields);
    props.push(("seq".to_string(), number(seq as f64)));
    Value::Object(props)
}

/// `{ cmd: 'NODE_HANDLE', type, msg }`: the wrapper a message gets when a
/// descriptor travels with it.
pub(crate) fn handle_message(kind: &str, inner: Value) -> Value {
    Value::Object(vec![
        ("cmd".to_string(), string("NODE_HANDLE")),
        ("type".to_string(), string(kind)),
        ("msg".to_string(), inner),
    ])
}

/// `{ cmd: 'NODE_RUST_CLUSTER', act, ...fields }`: a message to the worker's agent.
pub(crate) fn agent_message(act: &str, fields: Vec<(String, Value)>) -> Value {
    let mut props = vec![
        ("cmd".to_string(), string(AGENT_CMD)),
        ("act".to_string(), string(act)),
    ];
    props.extend(fields);
    Value::Object(props)
}

pub(crate) fn handle_ack(ok: bool) -> Value {
    let cmd = if ok {
        "NODE_HANDLE_ACK"
    } else {
        "NODE_HANDLE_NACK"
    };
    Value::Object(vec![("cmd".to_string(), string(cmd))])
}

/// JavaScript truthiness.
pub(crate) fn truthy(v: &Value) -> bool {
    match v {
        Value::Undefined | Value::Null => false,
        Value::Bool(b) => *b,
        Value::Number(n) => *n != 0.0 && !n.is_nan(),
        Value::String(s) => !s.is_empty(),
        _ => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_json_frames() {
        assert!(matches!(classify(Mode::Json, br#"{"a":1}"#), Incoming::Js));
        assert!(matches!(classify(Mode::Json, br#""cmd""#), Incoming::Js));
        assert!(matches!(
            classify(Mode::Json, br#"{"cmd":"NODE_HANDLE_ACK"}"#),
            Incoming::HandleAck
        ));
        assert!(matches!(
            classify(
                Mode::Json,
                br#"{"x":1,"cmd":"NODE_CLUSTER","act":"online","seq":0}"#
            ),
            Incoming::Js
        ));
        assert!(matches!(
            classify(Mode::Json, br#"{"cmd":"NODE_"}"#),
            Incoming::Js
        ));
        assert!(matches!(
            classify(Mode::Json, br#"{"cmd":"NODE_X"}"#),
            Incoming::Js
        ));
        assert!(matches!(
            classify(Mode::Json, b"{\"cmd\" garbage"),
            Incoming::Js
        ));
        assert!(matches!(
            classify(
                Mode::Json,
                br#"{"cmd":"NODE_RUST_CLUSTER","act":"conns","closed":3}"#
            ),
            Incoming::Agent(_)
        ));
    }

    #[test]
    fn newconn_replies_are_recognised_without_parsing() {
        let reply = classify(
            Mode::Json,
            br#"{"cmd":"NODE_CLUSTER","ack":12,"accepted":true,"seq":3}"#,
        );
        assert!(matches!(
            reply,
            Incoming::NewconnReply {
                ack: 12,
                accepted: true
            }
        ));
        let refused = classify(
            Mode::Json,
            br#"{"cmd":"NODE_CLUSTER","ack":0,"accepted":false,"seq":9}"#,
        );
        assert!(matches!(
            refused,
            Incoming::NewconnReply {
                ack: 0,
                accepted: false
            }
        ));
        // Other spellings take the general path and come out the same.
        let other = classify(
            Mode::Json,
            br#"{"cmd":"NODE_CLUSTER","ack":1,"accepted":1,"seq":3}"#,
        );
        assert!(matches!(
            other,
            Incoming::NewconnReply {
                ack: 1,
                accepted: true
            }
        ));
        // A cluster message with an act is never a reply.
        let act = classify(
            Mode::Json,
            br#"{"cmd":"NODE_CLUSTER","act":"listening","ack":1,"accepted":true}"#,
        );
        assert!(matches!(act, Incoming::Js));
    }

    #[test]
    fn newconn_frame_matches_the_general_encoder() {
        for mode in [Mode::Json, Mode::Advanced] {
            let key = "::1:0:6:undefined:0 \"q\"";
            let inner = cluster_message(
                vec![
                    ("act".into(), string("newconn")),
                    ("key".into(), string(key)),
                ],
                42,
            );
            assert_eq!(
                newconn_frame(mode, key, 42),
                encode(mode, &handle_message("net.Native", inner))
            );
        }
    }

    /// 100,000 random frames, in both modes, through the same framing and
    /// classification a worker's channel goes through: nothing panics, and
    /// every frame (well framed, and far below the limit) comes out of the
    /// decoder whole and is classified as something. A bounded number of
    /// pushes, so a decoder that rejected or withheld frames fails here
    /// instead of looping forever.
    #[test]
    fn fuzz_random_frames_through_decoder_and_classifier() {
        use crate::channel::framing::Decoder;
        const PUSHES: usize = 50_000;
        let mut seed = 0x0123_4567_89ab_cdef_u64;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        let pieces: [&[u8]; 8] = [
            br#"{"cmd":"NODE_CLUSTER","#,
            br#""act":"queryServer","#,
            br#""cmd":"NODE_HANDLE_ACK"}"#,
            b"\"\x03cmd",
            b"\xff\x0f",
            b"o\"\x03act",
            b"\n",
            b"}",
        ];
        for mode in [Mode::Json, Mode::Advanced] {
            let mut decoder = Decoder::new(mode, 1 << 16);
            let (mut accepted, mut rejected, mut same_body) = (0, 0, 0);
            for _ in 0..PUSHES {
                let mut body = Vec::new();
                for _ in 0..next() % 6 {
                    if next() % 2 == 0 {
                        body.extend_from_slice(pieces[(next() % 8) as usize]);
                    } else {
                        body.extend((0..next() % 12).map(|_| next() as u8));
                    }
                }
                if mode == Mode::Json {
                    body.retain(|&b| b != b'\n');
                }
                decoder.push(&frame(mode, &body));
                loop {
                    match decoder.next_frame() {
                        Ok(Some(f)) => {
                            let _ = classify(mode, &f);
                            accepted += 1;
                            if f == body {
                                same_body += 1;
                            }
                        }
                        Ok(None) => break,
                        Err(_) => {
                            rejected += 1;
                            decoder = Decoder::new(mode, 1 << 16);
                            break;
                        }
                    }
                }
            }
            assert_eq!(
                (accepted, same_body, rejected),
                (PUSHES, PUSHES, 0),
                "{mode:?}: (frames out, equal to what went in, rejected)"
            );
        }
    }

    #[test]
    fn cluster_messages_round_trip_in_both_modes() {
        let msg = cluster_message(
            vec![
                ("act".into(), string("newconn")),
                ("key".into(), string("k")),
            ],
            7,
        );
        for mode in [Mode::Json, Mode::Advanced] {
            let wire = encode(mode, &msg);
            let body = match mode {
                Mode::Json => &wire[..wire.len() - 1],
                Mode::Advanced => &wire[4..],
            };
            assert_eq!(decode(mode, body), Some(msg.clone()));
        }
        assert_eq!(
            encode(Mode::Json, &msg),
            b"{\"cmd\":\"NODE_CLUSTER\",\"act\":\"newconn\",\"key\":\"k\",\"seq\":7}\n".to_vec()
        );
    }
}
