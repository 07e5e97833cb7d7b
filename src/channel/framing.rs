//! Splitting a channel's byte stream into messages, in both of Node's
//! serialization modes:
//! - `json`: one `JSON.stringify(message)` per line, `\n`-terminated;
//! - `advanced`: a 4-byte big-endian length, then a V8 serializer payload.
//!
//! The decoder enforces a size limit so that a worker writing an endless
//! line, or a header claiming 4 GB, costs the primary bounded memory.

use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    Json,
    Advanced,
}

impl Mode {
    pub(crate) fn from_advanced(advanced: bool) -> Self {
        if advanced {
            Mode::Advanced
        } else {
            Mode::Json
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum FrameError {
    /// A message (or a json line still without its newline) exceeds the limit.
    TooLarge { size: usize, limit: usize },
}

impl fmt::Display for FrameError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FrameError::TooLarge { size, limit } => write!(
                f,
                "IPC message of {size} bytes exceeds the limit of {limit} bytes"
            ),
        }
    }
}

impl std::error::Error for FrameError {}

/// `data` from its first byte that is not an empty frame (a blank json
/// line, an advanced frame of length 0), which Node never writes: a
/// worker's agent writes them only to wake the primary (channel/ring.rs).
pub(crate) fn skip_empty_frames(mode: Mode, data: &[u8]) -> &[u8] {
    match mode {
        Mode::Json => {
            let n = data.iter().take_while(|&&b| b == b'\n').count();
            &data[n..]
        }
        Mode::Advanced => {
            let n = data.chunks_exact(4).take_while(|c| *c == [0u8; 4]).count();
            &data[n * 4..]
        }
    }
}

/// Incremental decoder: push bytes as they arrive, pull whole frames.
pub(crate) struct Decoder {
    mode: Mode,
    limit: usize,
    buf: Vec<u8>,
    /// Start of the first byte not yet returned as part of a frame.
    start: usize,
    /// json: how far `buf[start..]` has already been searched for `\n`.
    scanned: usize,
}

impl Decoder {
    pub(crate) fn new(mode: Mode, limit: usize) -> Self {
        Decoder {
            mode,
            limit,
            buf: Vec::new(),
            start: 0,
            scanned: 0,
        }
    }

    pub(crate) fn push(&mut self, data: &[u8]) {
        if self.start > 0 && self.start == self.buf.len() {
            self.buf.clear();
            self.start = 0;
            self.scanned = 0;
        }
        self.buf.extend_from_slice(data);
    }

    /// The next complete frame: a json line without its `\n`, or an advanced
    /// payload without its length prefix.
    #[cfg(test)]
    pub(crate) fn next_frame(&mut self) -> Result<Option<Vec<u8>>, FrameError> {
        let Some(range) = self.next_range()? else {
            return Ok(None);
        };
        let frame = self.buf[range].to_vec();
        self.compact();
        Ok(Some(frame))
    }

    /// Hand every complete frame to `each`, without copying it, until `each`
    /// returns false.
    pub(crate) fn for_each_frame(
        &mut self,
        mut each: impl FnMut(&[u8]) -> bool,
    ) -> Result<(), FrameError> {
        while let Some(range) = self.next_range()? {
            if !each(&self.buf[range]) {
                break;
            }
        }
        self.compact();
        Ok(())
    }

    fn next_range(&mut self) -> Result<Option<std::ops::Range<usize>>, FrameError> {
        match self.mode {
            Mode::Json => self.next_line(),
            Mode::Advanced => self.next_sized(),
        }
    }

    fn next_line(&mut self) -> Result<Option<std::ops::Range<usize>>, FrameError> {
        let pending = &self.buf[self.start..];
        match memchr::memchr(b'\n', &pending[self.scanned..]) {
            Some(pos) => {
                let end = self.scanned + pos;
                if end > self.limit {
                    return Err(FrameError::TooLarge {
                        size: end,
                        limit: self.limit,
                    });
                }
                let line = self.start..self.start + end;
                self.start += end + 1;
                self.scanned = 0;
                Ok(Some(line))
            }
            None => {
                self.scanned = pending.len();
                if pending.len() > self.limit {
                    return Err(FrameError::TooLarge {
                        size: pending.len(),
                        limit: self.limit,
                    });
                }
                Ok(None)
            }
        }
    }

    fn next_sized(&mut self) -> Result<Option<std::ops::Range<usize>>, FrameError> {
        let pending = &self.buf[self.start..];
        let Some(header) = pending.get(..4) else {
            return Ok(None);
        };
        let size = u32::from_be_bytes([header[0], header[1], header[2], header[3]]) as usize;
        if size > self.limit {
            return Err(FrameError::TooLarge {
                size,
                limit: self.limit,
            });
        }
        if pending.len() < 4 + size {
            return Ok(None);
        }
        let payload = self.start + 4..self.start + 4 + size;
        self.start += 4 + size;
        Ok(Some(payload))
    }

    /// Drop consumed bytes once they dominate the buffer, so a long-lived
    /// channel does not grow without bound.
    fn compact(&mut self) {
        if self.start > 64 * 1024 && self.start * 2 > self.buf.len() {
            self.buf.drain(..self.start);
            self.start = 0;
        }
    }
}

/// Wrap an encoded message for the wire: a json text gets its newline, a V8
/// payload its length prefix.
pub(crate) fn frame(mode: Mode, body: &[u8]) -> Vec<u8> {
    match mode {
        Mode::Json => {
            let mut out = Vec::with_capacity(body.len() + 1);
            out.extend_from_slice(body);
            out.push(b'\n');
            out
        }
        Mode::Advanced => {
            let mut out = Vec::with_capacity(body.len() + 4);
            out.extend_from_slice(&(body.len() as u32).to_be_bytes());
            out.extend_from_slice(body);
            out
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn drain(d: &mut Decoder) -> Vec<Vec<u8>> {
        let mut out = Vec::new();
        while let Some(f) = d.next_frame().expect("frame") {
            out.push(f);
        }
        out
    }

    #[test]
    fn json_lines_split_across_reads() {
        let mut d = Decoder::new(Mode::Json, 1024);
        d.push(b"{\"a\":1}\n{\"b\"");
        assert_eq!(drain(&mut d), vec![b"{\"a\":1}".to_vec()]);
        d.push(b":2}\n\n{}\n");
        assert_eq!(
            drain(&mut d),
            vec![b"{\"b\":2}".to_vec(), Vec::new(), b"{}".to_vec()]
        );
        assert_eq!(d.buf.len() - d.start, 0);
    }

    #[test]
    fn json_line_over_limit_without_newline_is_rejected() {
        let mut d = Decoder::new(Mode::Json, 8);
        d.push(b"0123456");
        assert_eq!(d.next_frame(), Ok(None));
        d.push(b"789");
        assert!(matches!(d.next_frame(), Err(FrameError::TooLarge { .. })));
    }

    #[test]
    fn advanced_frames_split_in_header_and_body() {
        let mut d = Decoder::new(Mode::Advanced, 1024);
        let f1 = frame(Mode::Advanced, b"hello");
        let f2 = frame(Mode::Advanced, b"");
        let mut all = f1.clone();
        all.extend_from_slice(&f2);
        for chunk in all.chunks(3) {
            d.push(chunk);
        }
        assert_eq!(drain(&mut d), vec![b"hello".to_vec(), Vec::new()]);
    }

    #[test]
    fn advanced_header_claiming_4gb_is_rejected_before_buffering() {
        let mut d = Decoder::new(Mode::Advanced, (1 << 29) - 24);
        d.push(&[0xff, 0xff, 0xff, 0xff, 1, 2, 3]);
        assert!(matches!(d.next_frame(), Err(FrameError::TooLarge { .. })));
    }

    #[test]
    fn many_frames_keep_buffer_bounded() {
        let mut d = Decoder::new(Mode::Json, 1024);
        let line = vec![b'x'; 1000];
        for _ in 0..1000 {
            d.push(&line);
            d.push(b"\n");
            assert_eq!(drain(&mut d).len(), 1);
        }
        assert!(d.buf.capacity() < 256 * 1024);
    }

    #[test]
    fn framing_round_trips_random_sizes() {
        let mut seed = 0x9e37_79b9_u32;
        let mut next = || {
            seed ^= seed << 13;
            seed ^= seed >> 17;
            seed ^= seed << 5;
            seed
        };
        for mode in [Mode::Json, Mode::Advanced] {
            let mut d = Decoder::new(mode, 1 << 20);
            let mut sent = Vec::new();
            let mut wire = Vec::new();
            for _ in 0..500 {
                let len = (next() % 300) as usize;
                let body: Vec<u8> = (0..len).map(|_| b'a' + (next() % 26) as u8).collect();
                wire.extend(frame(mode, &body));
                sent.push(body);
            }
            let mut got = Vec::new();
            let mut pos = 0;
            while pos < wire.len() {
                let n = ((next() % 700) as usize + 1).min(wire.len() - pos);
                d.push(&wire[pos..pos + n]);
                pos += n;
                got.extend(drain(&mut d));
            }
            assert_eq!(got, sent);
        }
    }
}
