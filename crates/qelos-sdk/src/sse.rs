//! An incremental Server-Sent Events parser (the WHATWG `text/event-stream` format): bytes go
//! in in chunks of any size, complete events come out.
//!
//! Lines end with `\n`, `\r\n` or `\r` (a `\r\n` split across two chunks counts once); a line
//! starting with `:` is a comment; `data:` lines of one event are joined with `\n`; a blank
//! line dispatches the event; an event not ended by a blank line when the input ends is
//! dropped. UTF-8 split across chunks is reassembled (lines are decoded whole).

/// One Server-Sent Event.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SseEvent {
    /// The `event:` field, if any.
    pub event: Option<String>,
    /// The `data:` lines, joined with `\n`.
    pub data: String,
    /// The `id:` field, if any.
    pub id: Option<String>,
}

/// The parser's state between chunks.
#[derive(Debug, Default)]
pub(crate) struct SseParser {
    /// Bytes of the line not yet ended.
    line: Vec<u8>,
    /// The previous chunk ended with `\r`: a leading `\n` in the next one ends nothing.
    after_cr: bool,
    /// The event being assembled.
    event: Option<String>,
    id: Option<String>,
    data: String,
    has_data: bool,
}

impl SseParser {
    /// Feeds a chunk; pushes every event it completes to `out`.
    pub(crate) fn push(&mut self, chunk: &[u8], out: &mut std::collections::VecDeque<SseEvent>) {
        let mut rest = chunk;
        if self.after_cr {
            self.after_cr = false;
            if let Some(stripped) = rest.strip_prefix(b"\n") {
                rest = stripped;
            }
        }
        while let Some(end) = rest.iter().position(|b| *b == b'\n' || *b == b'\r') {
            self.line.extend_from_slice(&rest[..end]);
            let line = std::mem::take(&mut self.line);
            self.line_done(&line, out);
            if rest[end] == b'\r' {
                match rest.get(end + 1) {
                    Some(b'\n') => rest = &rest[end + 2..],
                    Some(_) => rest = &rest[end + 1..],
                    None => {
                        self.after_cr = true;
                        rest = &[];
                    }
                }
            } else {
                rest = &rest[end + 1..];
            }
        }
        self.line.extend_from_slice(rest);
    }

    fn line_done(&mut self, line: &[u8], out: &mut std::collections::VecDeque<SseEvent>) {
        if line.is_empty() {
            if self.has_data {
                out.push_back(SseEvent {
                    event: self.event.take(),
                    data: std::mem::take(&mut self.data),
                    id: self.id.take(),
                });
            } else {
                self.event = None;
            }
            self.has_data = false;
            return;
        }
        if line.first() == Some(&b':') {
            return;
        }
        let line = String::from_utf8_lossy(line);
        let (field, value) = match line.split_once(':') {
            Some((field, value)) => (field, value.strip_prefix(' ').unwrap_or(value)),
            None => (line.as_ref(), ""),
        };
        match field {
            "data" => {
                if self.has_data {
                    self.data.push('\n');
                }
                self.data.push_str(value);
                self.has_data = true;
            }
            "event" => self.event = Some(value.to_owned()),
            "id" if !value.contains('\0') => self.id = Some(value.to_owned()),
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::VecDeque;

    use super::*;

    fn parse_in_pieces(input: &[u8], piece: usize) -> Vec<SseEvent> {
        let mut parser = SseParser::default();
        let mut out = VecDeque::new();
        for chunk in input.chunks(piece) {
            parser.push(chunk, &mut out);
        }
        out.into()
    }

    #[test]
    fn every_chunking_gives_the_same_events() {
        let input = ": keep-alive\n\ndata: {\"type\":\"chunk\",\"content\":\"h\u{e9}llo\"}\r\n\r\n\
                     event: note\ndata: line one\ndata:line two\nid: 7\n\n\
                     data: [DONE]\r\rdata: unterminated";
        let whole = parse_in_pieces(input.as_bytes(), input.len());
        assert_eq!(
            whole,
            [
                SseEvent {
                    event: None,
                    data: "{\"type\":\"chunk\",\"content\":\"h\u{e9}llo\"}".into(),
                    id: None
                },
                SseEvent {
                    event: Some("note".into()),
                    data: "line one\nline two".into(),
                    id: Some("7".into())
                },
                SseEvent {
                    event: None,
                    data: "[DONE]".into(),
                    id: None
                },
            ]
        );
        for piece in 1..input.len() {
            assert_eq!(
                parse_in_pieces(input.as_bytes(), piece),
                whole,
                "pieces of {piece}"
            );
        }
    }

    #[test]
    fn comments_and_blank_lines_alone_make_no_event() {
        assert!(parse_in_pieces(b":a\n\n:b\r\n\r\n\n\n", 3).is_empty());
    }

    #[test]
    fn a_split_crlf_ends_one_line_not_two() {
        let mut parser = SseParser::default();
        let mut out = VecDeque::new();
        parser.push(b"data: a\r", &mut out);
        parser.push(b"\ndata: b\r", &mut out);
        parser.push(b"\n\r", &mut out);
        parser.push(b"\n", &mut out);
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].data, "a\nb");
    }
}
