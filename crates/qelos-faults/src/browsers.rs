//! Simulated browsers: each keeps its own cookie jar (the integrator's access and refresh
//! cookies), sends them with every request, and takes whatever `Set-Cookie` the app answers,
//! including the `Max-Age=0` that ends a session, exactly as a browser would. They never
//! refresh by themselves: the app does, and rotates their cookies.

use std::collections::{BTreeMap, HashSet};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use serde_json::Value;

pub(crate) const ACCESS: &str = "q_access_token";
pub(crate) const REFRESH: &str = "q_refresh_token";

/// A browser's cookies.
#[derive(Clone, Debug, Default)]
pub(crate) struct Jar {
    pub(crate) access: Option<String>,
    pub(crate) refresh: Option<String>,
}

/// One simulated browser.
pub(crate) struct Browser {
    pub(crate) id: usize,
    jar: Mutex<Jar>,
    /// Access tokens this browser sent after their `exp`, or that the app replaced once
    /// expired (each needs one refresh).
    expired_sent: Mutex<HashSet<String>>,
    /// Every token the browser has held (to look for them in the apps' logs).
    seen: Mutex<HashSet<String>>,
    /// Whether the app ever expired this browser's cookies.
    pub(crate) expired_by_app: std::sync::atomic::AtomicBool,
    /// Where the app first expired them: the instance and the store key of the refresh token
    /// the request carried (to find that refresh in the instances' logs).
    pub(crate) expired_where: Mutex<Option<String>>,
    /// The first `401` this browser got: the instance, the path, the store key of the refresh
    /// token it sent and the body (to find that request in the instances' logs).
    pub(crate) first_401: Mutex<Option<String>>,
}

/// What the app answered one request.
#[derive(Clone, Debug)]
pub(crate) struct Answer {
    /// HTTP status; 0 when the request failed (connection error or the client's own timeout).
    pub(crate) status: u16,
    pub(crate) latency: Duration,
    /// `Some(true)`: signed in; `Some(false)`: anonymous; `None`: not a `/me` JSON answer.
    pub(crate) signed_in: Option<bool>,
    pub(crate) body: Option<Value>,
}

fn exp_of(jwt: &str) -> Option<u64> {
    let payload = jwt.split('.').nth(1)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .ok()?;
    serde_json::from_slice::<Value>(&bytes)
        .ok()?
        .get("exp")?
        .as_u64()
}

fn now_s() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

impl Browser {
    pub(crate) fn new(id: usize, access: String, refresh: String) -> Self {
        let seen = HashSet::from([access.clone(), refresh.clone()]);
        Self {
            id,
            jar: Mutex::new(Jar {
                access: Some(access),
                refresh: Some(refresh),
            }),
            expired_sent: Mutex::default(),
            seen: Mutex::new(seen),
            expired_by_app: std::sync::atomic::AtomicBool::new(false),
            expired_where: Mutex::default(),
            first_401: Mutex::default(),
        }
    }

    /// A browser with no cookies (it sends only what the caller adds).
    pub(crate) fn anonymous(id: usize) -> Self {
        Self {
            id,
            jar: Mutex::default(),
            expired_sent: Mutex::default(),
            seen: Mutex::default(),
            expired_by_app: std::sync::atomic::AtomicBool::new(false),
            expired_where: Mutex::default(),
            first_401: Mutex::default(),
        }
    }

    pub(crate) fn jar(&self) -> Jar {
        self.jar
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    pub(crate) fn expiries(&self) -> usize {
        self.expired_sent
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }

    pub(crate) fn tokens_seen(&self) -> Vec<String> {
        self.seen
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
            .cloned()
            .collect()
    }

    /// The `Cookie` header the browser sends now (noting an expired access token).
    pub(crate) fn cookie_header(&self) -> Option<String> {
        let jar = self.jar();
        if let Some(a) = &jar.access
            && exp_of(a).is_some_and(|exp| exp <= now_s())
        {
            self.expired_sent
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .insert(a.clone());
        }
        let parts: Vec<String> = [(ACCESS, &jar.access), (REFRESH, &jar.refresh)]
            .into_iter()
            .filter_map(|(n, v)| v.as_ref().map(|v| format!("{n}={v}")))
            .collect();
        (!parts.is_empty()).then(|| parts.join("; "))
    }

    /// Takes the app's `Set-Cookie` headers.
    fn take_cookies(&self, response: &reqwest::Response, sent_refresh: Option<&str>) {
        for v in response.headers().get_all(reqwest::header::SET_COOKIE) {
            let Ok(v) = v.to_str() else { continue };
            let Some((name, rest)) = v.split_once('=') else {
                continue;
            };
            let value = rest.split(';').next().unwrap_or_default().to_owned();
            let gone = v.to_ascii_lowercase().contains("max-age=0") || value.is_empty();
            let mut jar = self.jar.lock().unwrap_or_else(PoisonError::into_inner);
            let slot = match name.trim() {
                ACCESS => &mut jar.access,
                REFRESH => &mut jar.refresh,
                _ => continue,
            };
            if gone {
                *slot = None;
                self.expired_by_app
                    .store(true, std::sync::atomic::Ordering::SeqCst);
                let mut at = self
                    .expired_where
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner);
                if at.is_none() {
                    let key = sent_refresh.map(|r| {
                        qelos_integrator_core::TokenKey::new("refresh", r).to_hex()[..8].to_owned()
                    });
                    *at = Some(format!(
                        "{} (refresh key {})",
                        response.url().authority(),
                        key.as_deref().unwrap_or("none")
                    ));
                }
            } else {
                self.seen
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .insert(value.clone());
                // A replaced access token that has expired by now was an expiry too, even if
                // the browser sent it a moment before its `exp` and the app saw it after.
                if let Some(old) = slot.as_ref().filter(|_| name.trim() == ACCESS)
                    && *old != value
                    && exp_of(old).is_some_and(|exp| exp <= now_s())
                {
                    self.expired_sent
                        .lock()
                        .unwrap_or_else(PoisonError::into_inner)
                        .insert(old.clone());
                }
                *slot = Some(value);
            }
        }
    }

    /// `method url` with the browser's cookies (plus `extra` headers), taking its cookies back.
    pub(crate) async fn send(
        &self,
        http: &reqwest::Client,
        method: reqwest::Method,
        url: &str,
        extra: &[(&str, Vec<u8>)],
    ) -> Answer {
        let mut req = http.request(method, url);
        let sent_refresh = self.jar().refresh;
        if let Some(c) = self.cookie_header() {
            req = req.header(reqwest::header::COOKIE, c);
        }
        for (name, value) in extra {
            if let Ok(v) = reqwest::header::HeaderValue::from_bytes(value) {
                req = req.header(*name, v);
            }
        }
        let started = Instant::now();
        match req.send().await {
            Ok(resp) => {
                self.take_cookies(&resp, sent_refresh.as_deref());
                let status = resp.status().as_u16();
                let at = format!("{}{}", resp.url().authority(), resp.url().path());
                let body = resp.json::<Value>().await.ok();
                if status == 401 {
                    let mut first = self
                        .first_401
                        .lock()
                        .unwrap_or_else(PoisonError::into_inner);
                    if first.is_none() {
                        let key = sent_refresh.as_deref().map(|r| {
                            qelos_integrator_core::TokenKey::new("refresh", r).to_hex()[..8]
                                .to_owned()
                        });
                        let since_epoch = SystemTime::now()
                            .duration_since(UNIX_EPOCH)
                            .map(|d| d.as_millis())
                            .unwrap_or(0);
                        *first = Some(format!(
                            "{at} at {since_epoch} ms since the epoch (refresh key {}): {}",
                            key.as_deref().unwrap_or("none"),
                            body.as_ref().map(Value::to_string).unwrap_or_default()
                        ));
                    }
                }
                let latency = started.elapsed();
                let signed_in = body
                    .as_ref()
                    .and_then(|b| b.as_object())
                    .filter(|o| o.contains_key("userId"))
                    .map(|o| o.get("userId").is_some_and(|v| !v.is_null()));
                Answer {
                    status,
                    latency,
                    signed_in,
                    body,
                }
            }
            Err(_) => Answer {
                status: 0,
                latency: started.elapsed(),
                signed_in: None,
                body: None,
            },
        }
    }
}

/// What a scenario's traffic added up to.
#[derive(Clone, Debug, Default)]
pub(crate) struct Tally {
    pub(crate) requests: u64,
    pub(crate) by_status: BTreeMap<u16, u64>,
    /// Answers to `/me` from a signed-in browser that came back anonymous.
    pub(crate) anonymous: u64,
    pub(crate) latencies_us: Vec<u64>,
}

impl Tally {
    pub(crate) fn add(&mut self, a: &Answer) {
        self.requests += 1;
        *self.by_status.entry(a.status).or_insert(0) += 1;
        if a.signed_in == Some(false) {
            self.anonymous += 1;
        }
        self.latencies_us
            .push(u64::try_from(a.latency.as_micros()).unwrap_or(u64::MAX));
    }

    pub(crate) fn merge(&mut self, other: Tally) {
        self.requests += other.requests;
        for (s, n) in other.by_status {
            *self.by_status.entry(s).or_insert(0) += n;
        }
        self.anonymous += other.anonymous;
        self.latencies_us.extend(other.latencies_us);
    }

    pub(crate) fn percentile_ms(&self, p: f64) -> f64 {
        let mut v = self.latencies_us.clone();
        v.sort_unstable();
        if v.is_empty() {
            return 0.0;
        }
        let i = ((v.len() as f64 * p) as usize).min(v.len() - 1);
        v[i] as f64 / 1000.0
    }

    pub(crate) fn max_ms(&self) -> f64 {
        self.latencies_us.iter().copied().max().unwrap_or(0) as f64 / 1000.0
    }

    pub(crate) fn count(&self, status: u16) -> u64 {
        self.by_status.get(&status).copied().unwrap_or(0)
    }
}

/// A shared tally the load tasks add to.
pub(crate) type SharedTally = Arc<Mutex<Tally>>;

pub(crate) fn record(t: &SharedTally, a: &Answer) {
    t.lock().unwrap_or_else(PoisonError::into_inner).add(a);
}

pub(crate) fn take(t: &SharedTally) -> Tally {
    std::mem::take(&mut *t.lock().unwrap_or_else(PoisonError::into_inner))
}
