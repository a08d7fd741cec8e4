//! A small WebDriver (W3C, JSON over HTTP) client on `reqwest`, for a chromedriver started here
//! and a headless Chromium. Used by the quickstart's browser test and the [`browser`](crate::browser)
//! scenarios. Needs `chromium` and `chromium-driver` (`cargo xtask test` installs them).

use std::io::{Read as _, Write as _};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use base64::Engine as _;
use serde_json::{Value, json};

/// The W3C key of an element reference.
const ELEMENT_KEY: &str = "element-6066-11e4-a52e-4f735466cecf";

/// How long a `wait_*` polls before failing.
pub const WAIT: Duration = Duration::from_secs(15);

/// What went wrong talking to the driver.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum WdError {
    /// The HTTP call to chromedriver failed.
    #[error("chromedriver HTTP: {0}")]
    Http(#[from] reqwest::Error),
    /// chromedriver answered a WebDriver error.
    #[error("WebDriver {status} {error}: {message}")]
    WebDriver {
        /// HTTP status of the answer.
        status: u16,
        /// The WebDriver error code (`no such element`, …).
        error: String,
        /// The driver's message.
        message: String,
    },
    /// An answer without the expected shape.
    #[error("unexpected WebDriver answer: {0}")]
    Protocol(String),
    /// Starting chromedriver or writing an artifact failed.
    #[error("{0}")]
    Io(#[from] std::io::Error),
    /// A wait ran past its deadline.
    #[error("timed out after {WAIT:?} waiting for {0}")]
    Timeout(String),
}

/// Finds `name` on `PATH`.
fn on_path(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|p| p.is_file())
}

/// The Chromium and chromedriver binaries (`CHROME_BIN` / `CHROMEDRIVER` override), or a clear
/// failure telling how to install them.
#[allow(clippy::panic)]
pub fn binaries() -> (PathBuf, PathBuf) {
    let pick = |var: &str, names: &[&str]| {
        std::env::var_os(var)
            .map(PathBuf::from)
            .filter(|p| p.is_file())
            .or_else(|| names.iter().find_map(|n| on_path(n)))
    };
    let chromium = pick("CHROME_BIN", &["chromium", "chromium-browser"]);
    let driver = pick("CHROMEDRIVER", &["chromedriver"]);
    match (chromium, driver) {
        (Some(c), Some(d)) => (c, d),
        (c, d) => panic!(
            "the browser test needs Chromium and chromedriver (found chromium: {c:?}, chromedriver: {d:?}). \
             Run `cargo xtask test`, which installs them, or `apt-get install -y chromium chromium-driver` \
             (or point CHROME_BIN and CHROMEDRIVER at them)."
        ),
    }
}

/// A chromedriver process on a free local port. Dropping it ends its sessions (closing their
/// browsers) and kills it.
pub struct Chromedriver {
    child: Child,
    addr: SocketAddr,
    chromium: PathBuf,
    http: reqwest::Client,
    sessions: Arc<Mutex<Vec<String>>>,
}

impl Chromedriver {
    /// Starts chromedriver and waits (with a deadline) until it reports ready.
    pub async fn start() -> Result<Self, WdError> {
        let (chromium, driver) = binaries();
        let port = TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
        let child = Command::new(&driver)
            .arg(format!("--port={port}"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()?;
        let this = Self {
            child,
            addr: SocketAddr::from(([127, 0, 0, 1], port)),
            chromium,
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(60))
                .build()?,
            sessions: Arc::default(),
        };
        let deadline = Instant::now() + WAIT;
        loop {
            let ready = this
                .http
                .get(format!("{}/status", this.url()))
                .send()
                .await
                .ok()
                .map(reqwest::Response::json::<Value>);
            if let Some(body) = ready
                && body.await.ok().and_then(|b| b["value"]["ready"].as_bool()) == Some(true)
            {
                return Ok(this);
            }
            if Instant::now() > deadline {
                return Err(WdError::Timeout("chromedriver to be ready".into()));
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// A new headless Chromium session.
    pub async fn new_session(&self) -> Result<Browser, WdError> {
        self.new_session_with(&[]).await
    }

    /// A new headless Chromium session with extra command-line flags (for example
    /// `--host-resolver-rules=MAP app.test 127.0.0.1`).
    pub async fn new_session_with(&self, extra_args: &[&str]) -> Result<Browser, WdError> {
        let mut args = vec![
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--window-size=1024,900",
        ];
        args.extend_from_slice(extra_args);
        let capabilities = json!({
            "capabilities": { "alwaysMatch": {
                "browserName": "chrome",
                "goog:chromeOptions": {
                    "binary": self.chromium,
                    "args": args,
                },
            }}
        });
        let value = call(
            &self.http,
            reqwest::Method::POST,
            &format!("{}/session", self.url()),
            Some(capabilities),
        )
        .await?;
        let id = value["sessionId"]
            .as_str()
            .ok_or_else(|| WdError::Protocol(value.to_string()))?
            .to_owned();
        if let Ok(mut sessions) = self.sessions.lock() {
            sessions.push(id.clone());
        }
        Ok(Browser {
            http: self.http.clone(),
            base: format!("{}/session/{id}", self.url()),
            id,
            sessions: Arc::clone(&self.sessions),
        })
    }
}

impl Drop for Chromedriver {
    fn drop(&mut self) {
        let sessions = self
            .sessions
            .lock()
            .map(|mut s| std::mem::take(&mut *s))
            .unwrap_or_default();
        for id in sessions {
            // Synchronous on purpose (drop cannot await): closes the session's browser.
            let _ = raw_delete(self.addr, &format!("/session/{id}"));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `DELETE path` over a plain TCP connection, reading the answer to the end.
fn raw_delete(addr: SocketAddr, path: &str) -> std::io::Result<()> {
    let mut stream = TcpStream::connect_timeout(&addr, Duration::from_secs(2))?;
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    write!(
        stream,
        "DELETE {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    )?;
    let mut sink = Vec::new();
    let _ = stream.read_to_end(&mut sink);
    Ok(())
}

/// One WebDriver call; the answer's `value`, or its WebDriver error.
async fn call(
    http: &reqwest::Client,
    method: reqwest::Method,
    url: &str,
    body: Option<Value>,
) -> Result<Value, WdError> {
    let mut request = http.request(method, url);
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await?;
    let status = response.status().as_u16();
    let mut body: Value = response.json().await?;
    let value = body["value"].take();
    if status >= 400 {
        return Err(WdError::WebDriver {
            status,
            error: value["error"].as_str().unwrap_or_default().to_owned(),
            message: value["message"].as_str().unwrap_or_default().to_owned(),
        });
    }
    Ok(value)
}

/// An element reference of a session.
#[derive(Clone, Debug)]
pub struct Element(String);

/// A cookie as WebDriver reports it (HttpOnly ones included).
#[derive(Clone, Debug)]
pub struct Cookie {
    /// Name.
    pub name: String,
    /// Value.
    pub value: String,
}

/// One browser session.
pub struct Browser {
    http: reqwest::Client,
    base: String,
    id: String,
    sessions: Arc<Mutex<Vec<String>>>,
}

impl Browser {
    async fn post(&self, path: &str, body: Value) -> Result<Value, WdError> {
        call(
            &self.http,
            reqwest::Method::POST,
            &format!("{}{path}", self.base),
            Some(body),
        )
        .await
    }

    async fn get(&self, path: &str) -> Result<Value, WdError> {
        call(
            &self.http,
            reqwest::Method::GET,
            &format!("{}{path}", self.base),
            None,
        )
        .await
    }

    /// Navigates to `url` (waits for the page load).
    pub async fn goto(&self, url: &str) -> Result<(), WdError> {
        self.post("/url", json!({ "url": url })).await.map(drop)
    }

    /// Runs `script` (a function body; `arguments[i]` are `args`) in the current page and
    /// returns what it returns.
    pub async fn execute(&self, script: &str, args: Value) -> Result<Value, WdError> {
        self.post("/execute/sync", json!({ "script": script, "args": args }))
            .await
    }

    /// Polls the current URL until `done` accepts it (deadline [`WAIT`]) and returns it.
    pub async fn wait_for_url(&self, done: impl Fn(&str) -> bool) -> Result<String, WdError> {
        let deadline = Instant::now() + WAIT;
        loop {
            let url = self.current_url().await?;
            if done(&url) {
                return Ok(url);
            }
            if Instant::now() > deadline {
                return Err(WdError::Timeout(format!("a navigation away from {url}")));
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// The page's text: the first `<pre>`'s (how Chromium shows a JSON or text answer), else
    /// `document.body.innerText`.
    pub async fn body_text(&self) -> Result<String, WdError> {
        let v = self
            .execute(
                "const pre = document.querySelector('pre');
                 return pre ? pre.innerText : (document.body ? document.body.innerText : '');",
                json!([]),
            )
            .await?;
        Ok(v.as_str().unwrap_or_default().to_owned())
    }

    /// Reloads the page.
    pub async fn refresh(&self) -> Result<(), WdError> {
        self.post("/refresh", json!({})).await.map(drop)
    }

    /// The current URL.
    pub async fn current_url(&self) -> Result<String, WdError> {
        let v = self.get("/url").await?;
        v.as_str()
            .map(str::to_owned)
            .ok_or_else(|| WdError::Protocol(v.to_string()))
    }

    /// The element matching `css` now, if any.
    pub async fn find(&self, css: &str) -> Result<Option<Element>, WdError> {
        match self
            .post("/element", json!({ "using": "css selector", "value": css }))
            .await
        {
            Ok(v) => v[ELEMENT_KEY]
                .as_str()
                .map(|id| Some(Element(id.to_owned())))
                .ok_or_else(|| WdError::Protocol(v.to_string())),
            Err(WdError::WebDriver { error, .. }) if error == "no such element" => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Polls until an element matches `css` (deadline [`WAIT`]).
    pub async fn wait_for(&self, css: &str) -> Result<Element, WdError> {
        let deadline = Instant::now() + WAIT;
        loop {
            if let Some(el) = self.find(css).await? {
                return Ok(el);
            }
            if Instant::now() > deadline {
                return Err(WdError::Timeout(format!("an element matching `{css}`")));
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Types `text` into `el`.
    pub async fn send_keys(&self, el: &Element, text: &str) -> Result<(), WdError> {
        self.post(&format!("/element/{}/value", el.0), json!({ "text": text }))
            .await
            .map(drop)
    }

    /// Clicks `el`.
    pub async fn click(&self, el: &Element) -> Result<(), WdError> {
        self.post(&format!("/element/{}/click", el.0), json!({}))
            .await
            .map(drop)
    }

    /// The rendered text of `el`.
    pub async fn text(&self, el: &Element) -> Result<String, WdError> {
        let v = self.get(&format!("/element/{}/text", el.0)).await?;
        v.as_str()
            .map(str::to_owned)
            .ok_or_else(|| WdError::Protocol(v.to_string()))
    }

    /// Waits for `css` and returns its text.
    pub async fn text_of(&self, css: &str) -> Result<String, WdError> {
        let el = self.wait_for(css).await?;
        self.text(&el).await
    }

    /// All cookies of the current page, HttpOnly ones included.
    pub async fn cookies(&self) -> Result<Vec<Cookie>, WdError> {
        let v = self.get("/cookie").await?;
        let list = v
            .as_array()
            .ok_or_else(|| WdError::Protocol(v.to_string()))?;
        Ok(list
            .iter()
            .map(|c| Cookie {
                name: c["name"].as_str().unwrap_or_default().to_owned(),
                value: c["value"].as_str().unwrap_or_default().to_owned(),
            })
            .collect())
    }

    /// The value of cookie `name`, if set.
    pub async fn cookie(&self, name: &str) -> Result<Option<String>, WdError> {
        Ok(self
            .cookies()
            .await?
            .into_iter()
            .find(|c| c.name == name)
            .map(|c| c.value))
    }

    /// A PNG screenshot of the viewport.
    pub async fn screenshot(&self) -> Result<Vec<u8>, WdError> {
        let v = self.get("/screenshot").await?;
        let b64 = v
            .as_str()
            .ok_or_else(|| WdError::Protocol("screenshot without data".into()))?;
        base64::engine::general_purpose::STANDARD
            .decode(b64)
            .map_err(|e| WdError::Protocol(format!("screenshot is not base64: {e}")))
    }

    /// Saves a screenshot as `<artifacts>/<name>.png` and returns its path.
    pub async fn save_screenshot(&self, name: &str) -> Result<PathBuf, WdError> {
        let png = self.screenshot().await?;
        let dir = artifacts_dir();
        std::fs::create_dir_all(&dir)?;
        let path = dir.join(format!("{name}.png"));
        std::fs::write(&path, png)?;
        Ok(path)
    }

    /// Ends the session (its browser closes).
    pub async fn quit(self) -> Result<(), WdError> {
        if let Ok(mut sessions) = self.sessions.lock() {
            sessions.retain(|s| s != &self.id);
        }
        call(&self.http, reqwest::Method::DELETE, &self.base, None)
            .await
            .map(drop)
    }
}

/// `<target>/browser-artifacts`, where `<target>` is `CARGO_TARGET_DIR` (relative to the
/// workspace root when relative) or the workspace's `target`.
pub fn artifacts_dir() -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .map_or_else(|| root.join("target"), |t| root.join(t));
    target.join("browser-artifacts")
}
