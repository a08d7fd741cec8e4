//! Reading the `exp` claim of a JWT without verifying it.
//!
//! The integrator never trusts a token it reads here: it only uses `exp` to avoid spending a
//! round trip on an access token that is already known to be expired (contract step 5).

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// Longest token the integrator will look at. Anything longer is treated as garbage (no upstream call).
pub(crate) const MAX_TOKEN_LEN: usize = 8 * 1024;

/// Returns the `exp` claim (seconds since the Unix epoch) of a JWT, or `None` when the token
/// is not a JWT, has no numeric `exp`, or cannot be decoded.
///
/// The signature is **not** checked.
pub(crate) fn peek_exp(token: &str) -> Option<u64> {
    if token.len() > MAX_TOKEN_LEN {
        return None;
    }
    let mut parts = token.split('.');
    let _header = parts.next()?;
    let payload = parts.next()?;
    let _signature = parts.next()?;
    if parts.next().is_some() {
        return None;
    }
    let bytes = URL_SAFE_NO_PAD.decode(payload.trim_end_matches('=')).ok()?;
    top_level_exp(&bytes)
}

/// The numeric `exp` member of a JSON object, read without building anything.
///
/// This runs on every signed-in request, so it only walks the top level of the object: members
/// other than `exp` are skipped by matching their brackets and string quotes, not parsed. A
/// payload that is not a JSON object, an `exp` that is not a number, and a duplicated `exp` all
/// give `None`, as a full parse would.
fn top_level_exp(json: &[u8]) -> Option<u64> {
    let mut scan = Scanner { json, at: 0 };
    scan.consume(b'{')?;
    let mut exp = None;
    if scan.peek()? == b'}' {
        return None;
    }
    loop {
        scan.skip_ws();
        let key = scan.string()?;
        scan.consume(b':')?;
        scan.skip_ws();
        if key == b"exp" {
            if exp.is_some() {
                return None;
            }
            exp = Some(scan.number()?);
        } else {
            scan.skip_value()?;
        }
        match scan.peek()? {
            b',' => scan.at += 1,
            b'}' => return exp,
            _ => return None,
        }
    }
}

/// A cursor over JSON bytes.
struct Scanner<'a> {
    json: &'a [u8],
    at: usize,
}

impl<'a> Scanner<'a> {
    fn skip_ws(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.json.get(self.at) {
            self.at += 1;
        }
    }

    /// The next byte that is not whitespace, without consuming it.
    fn peek(&mut self) -> Option<u8> {
        self.skip_ws();
        self.json.get(self.at).copied()
    }

    /// Consumes `byte` (after whitespace), or `None` when something else comes next.
    fn consume(&mut self, byte: u8) -> Option<()> {
        (self.peek()? == byte).then(|| self.at += 1)
    }

    /// A string's raw bytes between its quotes (escapes left as they are).
    fn string(&mut self) -> Option<&'a [u8]> {
        if self.json.get(self.at) != Some(&b'"') {
            return None;
        }
        let start = self.at + 1;
        let mut i = start;
        loop {
            // Up to the next quote or backslash, a vector at a time: payloads are mostly strings.
            i += memchr::memchr2(b'"', b'\\', self.json.get(i..)?)?;
            match self.json.get(i)? {
                b'"' => break,
                _ => i += 2,
            }
        }
        self.at = i + 1;
        let json: &'a [u8] = self.json;
        json.get(start..i)
    }

    fn number(&mut self) -> Option<u64> {
        let start = self.at;
        while let Some(b'0'..=b'9' | b'-' | b'+' | b'.' | b'e' | b'E') = self.json.get(self.at) {
            self.at += 1;
        }
        let text = std::str::from_utf8(self.json.get(start..self.at)?).ok()?;
        if !text.starts_with(|c: char| c == '-' || c.is_ascii_digit()) {
            return None;
        }
        match text.parse::<u64>() {
            Ok(n) => Some(n),
            Err(_) => text.parse::<f64>().ok().map(|f| f as u64),
        }
    }

    /// Skips one value: a string, an object or array (brackets matched, strings inside
    /// skipped), or a scalar.
    fn skip_value(&mut self) -> Option<()> {
        if matches!(self.peek()?, b',' | b'}' | b']') {
            return None;
        }
        let mut depth = 0usize;
        loop {
            match *self.json.get(self.at)? {
                b'"' => {
                    self.string()?;
                }
                b'{' | b'[' => {
                    depth += 1;
                    self.at += 1;
                }
                b'}' | b']' if depth > 0 => {
                    depth -= 1;
                    self.at += 1;
                }
                // The end of this value: the caller reads the separator.
                b',' | b'}' | b']' if depth == 0 => return Some(()),
                _ => self.at += 1,
            }
        }
    }
}

/// `true` when the token is a JWT whose `exp` is at or before `now` (seconds since the epoch).
///
/// Tokens that are not JWTs are never "known expired": Qelos decides about them.
pub(crate) fn is_expired_at(token: &str, now: u64) -> bool {
    remembered_exp(token).is_some_and(|exp| exp <= now)
}

/// [`is_expired_at`] with the system clock.
pub(crate) fn is_expired(token: &str) -> bool {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    is_expired_at(token, now)
}

/// How many tokens each thread remembers the `exp` of before it starts over.
const REMEMBERED: usize = 1024;

/// The `exp`s this thread has read, by a keyed hash of the token (never the token itself).
struct Remembered {
    keys: std::hash::RandomState,
    exp: std::collections::HashMap<u64, Option<u64>>,
}

thread_local! {
    static REMEMBERED_EXP: std::cell::RefCell<Remembered> = std::cell::RefCell::new(Remembered {
        keys: std::hash::RandomState::new(),
        exp: std::collections::HashMap::new(),
    });
}

/// [`peek_exp`], remembered per thread: a token's `exp` never changes, and every request of a
/// session carries the same access token until it is refreshed. Reading the claim decodes and
/// scans the whole payload (measured: about 9,000 instructions for a Qelos token, 4 % of a
/// signed-in request); hashing the token with SipHash under this thread's random keys costs a
/// tenth of that. A thread that cannot reach its memory (while it shuts down) reads the claim.
pub(crate) fn remembered_exp(token: &str) -> Option<u64> {
    if token.len() > MAX_TOKEN_LEN {
        return None;
    }
    let found = REMEMBERED_EXP.try_with(|memory| {
        use std::hash::BuildHasher as _;
        let mut memory = memory.try_borrow_mut().ok()?;
        let key = memory.keys.hash_one(token);
        if let Some(exp) = memory.exp.get(&key) {
            return Some(*exp);
        }
        let exp = peek_exp(token);
        if memory.exp.len() >= REMEMBERED {
            memory.exp.clear();
        }
        memory.exp.insert(key, exp);
        Some(exp)
    });
    match found {
        Ok(Some(exp)) => exp,
        _ => peek_exp(token),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jwt(payload: &str) -> String {
        format!(
            "{}.{}.sig",
            URL_SAFE_NO_PAD.encode(br#"{"alg":"HS256","typ":"JWT"}"#),
            URL_SAFE_NO_PAD.encode(payload.as_bytes())
        )
    }

    #[test]
    fn peek_exp_reads_integer_exp() {
        assert_eq!(peek_exp(&jwt(r#"{"sub":"a","exp":42}"#)), Some(42));
    }

    #[test]
    fn peek_exp_accepts_float_exp() {
        assert_eq!(peek_exp(&jwt(r#"{"exp":42.9}"#)), Some(42));
    }

    #[test]
    fn peek_exp_is_none_without_exp_or_for_garbage() {
        assert_eq!(peek_exp(&jwt(r#"{"sub":"a"}"#)), None);
        assert_eq!(peek_exp(&jwt(r#"{"exp":"soon"}"#)), None);
        assert_eq!(peek_exp("a.b"), None);
        assert_eq!(peek_exp("a.b.c.d"), None);
        assert_eq!(peek_exp("a.%%%.c"), None);
        assert_eq!(peek_exp(""), None);
        assert_eq!(peek_exp(&"x".repeat(MAX_TOKEN_LEN + 1)), None);
    }

    #[test]
    fn peek_exp_reads_only_the_top_level_exp() {
        let nested = r#"{"workspace":{"_id":"w","exp":1,"list":[{"exp":2}]},"exp":1795448109}"#;
        assert_eq!(peek_exp(&jwt(nested)), Some(1_795_448_109));
        assert_eq!(peek_exp(&jwt(r#"{"workspace":{"exp":1}}"#)), None);
        assert_eq!(
            peek_exp(&jwt(r#"{"note":"a \"exp\":1 }","exp":7}"#)),
            Some(7)
        );
        assert_eq!(peek_exp(&jwt(r#"{"a":[1,{"b":"}"}],"exp":8}"#)), Some(8));
        assert_eq!(peek_exp(&jwt(" {\n \"exp\" :\t9 \n} ")), Some(9));
    }

    #[test]
    fn peek_exp_refuses_what_a_json_parser_refuses() {
        for payload in [
            r#"{"exp":1,"exp":2}"#,
            r#"{"exp":1"#,
            r#"{"exp":}"#,
            r#"{"exp":null}"#,
            r#"{"exp":true}"#,
            r#"{"exp":"1"}"#,
            r#"{"exp":1 "x":2}"#,
            r#"{"a":,"exp":1}"#,
            r#"["exp",1]"#,
            r#"{}"#,
            r#"{"a":"unterminated}"#,
            "",
        ] {
            assert_eq!(peek_exp(&jwt(payload)), None, "{payload}");
        }
    }

    #[test]
    fn peek_exp_agrees_with_a_full_json_parse() {
        // The reference: parse the whole payload and read the top-level `exp`.
        fn reference(payload: &str) -> Option<u64> {
            let v: serde_json::Value = serde_json::from_str(payload).ok()?;
            let exp = v.as_object()?.get("exp")?;
            exp.as_u64().or_else(|| exp.as_f64().map(|f| f as u64))
        }
        let payloads = [
            r#"{"sub":"6b04","exp":1795448109,"iat":1795430109}"#,
            r#"{"exp":0}"#,
            r#"{"exp":-5}"#,
            r#"{"exp":1.5e3}"#,
            r#"{"exp":18446744073709551615}"#,
            r#"{"exp":1e30}"#,
            r#"{"roles":["admin","user"],"workspace":{"_id":"w","name":"Acme \u00e9"},"exp":99}"#,
            r#"{"fullName":"Test%20Admin","exp":12,"tenant":"0"}"#,
            r#"{"deep":[[[{"x":[{}]}]]],"exp":3}"#,
            r#"{"sub":"a"}"#,
        ];
        for payload in payloads {
            assert_eq!(peek_exp(&jwt(payload)), reference(payload), "{payload}");
            // Every cut-off payload is refused, as the parser refuses it.
            for end in 0..payload.len() {
                if let Some(cut) = payload.get(..end) {
                    assert_eq!(peek_exp(&jwt(cut)), None, "{cut}");
                }
            }
        }
    }

    #[test]
    fn remembered_exp_answers_what_peek_exp_answers_for_every_token() {
        let tokens = [
            jwt(r#"{"sub":"a","exp":42}"#),
            jwt(r#"{"sub":"b","exp":43}"#),
            jwt(r#"{"sub":"a"}"#),
            "not-a-jwt".to_owned(),
            "x".repeat(MAX_TOKEN_LEN + 1),
        ];
        for _ in 0..2 {
            for token in &tokens {
                assert_eq!(remembered_exp(token), peek_exp(token), "{token}");
            }
        }
    }

    #[test]
    fn remembered_exp_stays_bounded_and_right_past_its_capacity() {
        let tokens: Vec<String> = (0..REMEMBERED as u64 + 10)
            .map(|exp| jwt(&format!(r#"{{"exp":{exp}}}"#)))
            .collect();
        for (exp, token) in (0_u64..).zip(&tokens) {
            assert_eq!(remembered_exp(token), Some(exp));
        }
        let held = REMEMBERED_EXP.with(|memory| memory.borrow().exp.len());
        assert!(held <= REMEMBERED, "{held} remembered");
        assert_eq!(remembered_exp(&tokens[0]), Some(0));
    }

    #[test]
    fn a_token_read_again_is_answered_from_one_remembered_entry() {
        let token = jwt(r#"{"exp":5}"#);
        let before = REMEMBERED_EXP.with(|memory| memory.borrow().exp.len());
        for _ in 0..3 {
            assert_eq!(remembered_exp(&token), Some(5));
        }
        let after = REMEMBERED_EXP.with(|memory| memory.borrow().exp.len());
        assert_eq!(after, before + 1, "one entry, keyed by the token's hash");
    }

    #[test]
    fn opaque_tokens_are_never_known_expired() {
        assert!(!is_expired_at("ql_abcdef", u64::MAX));
    }

    #[test]
    fn expiry_boundary_is_inclusive() {
        let t = jwt(r#"{"exp":100}"#);
        assert!(is_expired_at(&t, 100));
        assert!(!is_expired_at(&t, 99));
    }
}

#[cfg(test)]
mod examples {
    #[test]
    fn peek_exp_example() {
        use super::peek_exp;
        // header {"alg":"HS256"} . payload {"exp":1700000000} . signature
        let token = "eyJhbGciOiJIUzI1NiJ9.eyJleHAiOjE3MDAwMDAwMDB9.c2ln";
        assert_eq!(peek_exp(token), Some(1_700_000_000));
        assert_eq!(peek_exp("not-a-jwt"), None);
    }

    #[test]
    fn is_expired_at_example() {
        use super::is_expired_at;
        let token = "eyJhbGciOiJIUzI1NiJ9.eyJleHAiOjE3MDAwMDAwMDB9.c2ln";
        assert!(is_expired_at(token, 1_700_000_000));
        assert!(!is_expired_at(token, 1_699_999_999));
    }
}
