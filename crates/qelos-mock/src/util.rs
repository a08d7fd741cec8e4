//! Small helpers: ids, clocks, dates, encodings, JSON responses.

use std::time::{SystemTime, UNIX_EPOCH};

use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::Value;

pub(crate) fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

pub(crate) fn now_s() -> u64 {
    now_ms() / 1000
}

/// A 24-hex Mongo-style id.
pub(crate) fn object_id() -> String {
    format!("{:08x}{:016x}", now_s() as u32, rand::random::<u64>())
}

/// ISO-8601 with milliseconds and `Z`.
pub(crate) fn iso(ms: u64) -> String {
    let secs = ms / 1000;
    let (days, rem) = (secs / 86_400, secs % 86_400);
    let (y, m, d) = civil_from_days(days as i64);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{:03}Z",
        rem / 3600,
        (rem % 3600) / 60,
        rem % 60,
        ms % 1000
    )
}

/// HTTP date for `Expires`.
pub(crate) fn http_date(ms: u64) -> String {
    const DAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let secs = ms / 1000;
    let days = secs / 86_400;
    let rem = secs % 86_400;
    let (y, m, d) = civil_from_days(days as i64);
    format!(
        "{}, {d:02} {} {y:04} {:02}:{:02}:{:02} GMT",
        DAYS[(days % 7) as usize],
        MONTHS[(m as usize).saturating_sub(1) % 12],
        rem / 3600,
        (rem % 3600) / 60,
        rem % 60
    )
}

fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// Parses `YYYY-MM-DDTHH:MM:SS[.mmm]Z` (or a date) to epoch milliseconds.
pub(crate) fn parse_iso(s: &str) -> Option<u64> {
    let s = s.trim();
    let date = s.get(0..10)?;
    let mut it = date.split('-');
    let y: i64 = it.next()?.parse().ok()?;
    let m: i64 = it.next()?.parse().ok()?;
    let d: i64 = it.next()?.parse().ok()?;
    if !(1..=12).contains(&m) || !(1..=31).contains(&d) {
        return None;
    }
    let (mut hh, mut mm, mut ss, mut ms) = (0, 0, 0, 0);
    if s.len() > 10 {
        let t = s.get(11..)?.trim_end_matches('Z');
        let (hms, frac) = t.split_once('.').unwrap_or((t, "0"));
        let mut p = hms.split(':');
        hh = p.next()?.parse().ok()?;
        mm = p.next()?.parse().ok()?;
        ss = p.next().unwrap_or("0").parse().ok()?;
        ms = frac.get(0..frac.len().min(3))?.parse().ok()?;
    }
    let y2 = if m <= 2 { y - 1 } else { y };
    let era = y2.div_euclid(400);
    let yoe = y2 - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    let total = ((days * 86_400 + hh * 3600 + mm * 60 + ss) * 1000 + ms) as i128;
    u64::try_from(total).ok()
}

/// `encodeURIComponent` unless already encoded ("encode-if-needed").
pub(crate) fn encode_if_needed(v: &str) -> String {
    const SET: &percent_set::AsciiSet = &percent_set::SET;
    let decoded = percent_set::decode(v);
    if let Some(d) = decoded
        && percent_set::encode(&d, SET) == v
    {
        return v.to_owned();
    }
    percent_set::encode(v, SET)
}

mod percent_set {
    pub(crate) struct AsciiSet;
    pub(crate) const SET: AsciiSet = AsciiSet;

    fn keep(b: u8) -> bool {
        b.is_ascii_alphanumeric() || b"-_.!~*'()".contains(&b)
    }

    pub(crate) fn encode(v: &str, _set: &AsciiSet) -> String {
        let mut out = String::with_capacity(v.len());
        for b in v.bytes() {
            if keep(b) {
                out.push(b as char);
            } else {
                out.push_str(&format!("%{b:02X}"));
            }
        }
        out
    }

    pub(crate) fn decode(v: &str) -> Option<String> {
        let bytes = v.as_bytes();
        let mut out = Vec::with_capacity(bytes.len());
        let mut i = 0;
        while i < bytes.len() {
            if bytes[i] == b'%' {
                let hex = v.get(i + 1..i + 3)?;
                out.push(u8::from_str_radix(hex, 16).ok()?);
                i += 3;
            } else {
                out.push(bytes[i]);
                i += 1;
            }
        }
        String::from_utf8(out).ok()
    }
}

/// `status` + `{"message": …}`.
pub(crate) fn message(status: StatusCode, msg: &str) -> Response {
    (status, axum::Json(serde_json::json!({ "message": msg }))).into_response()
}

/// `status` with an empty body.
pub(crate) fn empty(status: StatusCode) -> Response {
    status.into_response()
}

/// `status` + a JSON body.
pub(crate) fn json_response(status: StatusCode, v: &Value) -> Response {
    (status, axum::Json(v)).into_response()
}

/// JSON 200.
pub(crate) fn ok(v: Value) -> Response {
    axum::Json(v).into_response()
}

/// Request tenant (`tenant` header, default `"0"`).
pub(crate) fn tenant(headers: &HeaderMap) -> String {
    headers
        .get("tenant")
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .unwrap_or("0")
        .to_owned()
}

/// Cookie domain: first of `tenanthost`, `host`, without port.
pub(crate) fn request_host(headers: &HeaderMap) -> Option<String> {
    let raw = headers
        .get("tenanthost")
        .or_else(|| headers.get(header::HOST))
        .and_then(|v| v.to_str().ok())?;
    let first = raw.split(',').next()?.trim();
    let host = if let Some(rest) = first.strip_prefix('[') {
        rest.split_once(']')?.0
    } else {
        first.split(':').next()?
    };
    (!host.is_empty()).then(|| host.to_owned())
}

/// Reads one cookie from the `Cookie` headers.
pub(crate) fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.split_once('='))
        .find(|(k, _)| k.trim() == name)
        .map(|(_, v)| v.trim().to_owned())
        .filter(|v| !v.is_empty())
}

/// `decodeURIComponent` that leaves undecodable text alone.
pub(crate) fn decode_component(v: &str) -> String {
    percent_set::decode(v).unwrap_or_else(|| v.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iso_round_trips() {
        let ms = 1_717_000_000_123;
        assert_eq!(iso(ms), "2024-05-29T16:26:40.123Z");
        assert_eq!(parse_iso(&iso(ms)), Some(ms));
        assert_eq!(
            parse_iso("2099-01-01T00:00:00.000Z"),
            Some(4_070_908_800_000)
        );
        assert_eq!(parse_iso("nope"), None);
    }

    #[test]
    fn names_are_encoded_once() {
        assert_eq!(encode_if_needed("Acme Inc"), "Acme%20Inc");
        assert_eq!(encode_if_needed("Acme%20Inc"), "Acme%20Inc");
        assert_eq!(encode_if_needed("Plain"), "Plain");
    }

    #[test]
    fn http_dates_look_right() {
        assert_eq!(http_date(0), "Thu, 01 Jan 1970 00:00:00 GMT");
    }
}
