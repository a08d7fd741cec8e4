//! The quickstart in a real headless Chromium (through chromedriver), against its embedded
//! qelos-mock. Needs `chromium` and `chromium-driver` (`cargo xtask test` installs them).
//! Screenshots of every step land in `<target>/browser-artifacts/`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::time::{Duration, Instant};

use qelos_contract::webdriver::{Browser, Chromedriver, WAIT};
use quickstart::MockServer;

/// The quickstart on a free port with its embedded mock, a chromedriver and a browser session.
struct Harness {
    mock: MockServer,
    app: quickstart::Running,
    browser: Browser,
    // Dropped last: ends the browser session, then the driver.
    _driver: Chromedriver,
}

impl Harness {
    async fn start() -> Self {
        let driver = Chromedriver::start().await.expect("chromedriver starts");
        let (config, mock) = quickstart::with_embedded_mock()
            .await
            .expect("embedded qelos-mock starts");
        let app = quickstart::start(config, "127.0.0.1:0")
            .await
            .expect("quickstart starts on a free port");
        let browser = driver
            .new_session()
            .await
            .expect("a headless Chromium session starts");
        Self {
            mock,
            app,
            browser,
            _driver: driver,
        }
    }

    /// Ends the browser session (the driver, app and mock stop when dropped).
    async fn finish(self) {
        let Harness { browser, .. } = self;
        browser.quit().await.expect("the browser session ends");
    }

    async fn shot(&self, name: &str) {
        let path = self
            .browser
            .save_screenshot(name)
            .await
            .expect("screenshot saved");
        eprintln!("screenshot: {}", path.display());
    }

    /// Opens `/`, fills the sign-in form and submits it.
    async fn sign_in(&self, username: &str, password: &str) {
        let b = &self.browser;
        b.goto(&format!("{}/", self.app.url())).await.unwrap();
        b.wait_for("#login-form").await.unwrap();
        let user = b.wait_for("#username").await.unwrap();
        b.send_keys(&user, username).await.unwrap();
        let pass = b.wait_for("#password").await.unwrap();
        b.send_keys(&pass, password).await.unwrap();
        let submit = b.wait_for("#login").await.unwrap();
        b.click(&submit).await.unwrap();
    }

    async fn sign_in_as_admin(&self) {
        let admin = self.mock.seed().admin.clone();
        self.sign_in(&admin.username, &admin.password).await;
        self.browser
            .wait_for("#user")
            .await
            .expect("the signed-in page after the sign-in form");
    }
}

/// Polls `q_access_token` until it differs from `old` (deadline [`WAIT`]).
async fn wait_for_new_access_token(b: &Browser, old: &str) -> String {
    let deadline = Instant::now() + WAIT;
    loop {
        let now = b.cookie("q_access_token").await.unwrap();
        match now {
            Some(v) if v != old && !v.is_empty() => return v,
            _ if Instant::now() > deadline => {
                panic!("q_access_token was not rotated within {WAIT:?} (now: {now:?})")
            }
            _ => tokio::time::sleep(Duration::from_millis(50)).await,
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_in_form_shows_the_user_an_expired_token_is_rotated_on_reload_and_sign_out_shows_the_form()
 {
    let h = Harness::start().await;
    let b = &h.browser;
    let admin = h.mock.seed().admin.clone();

    // Anonymous: the sign-in form.
    b.goto(&format!("{}/", h.app.url())).await.unwrap();
    b.wait_for("#login-form").await.unwrap();
    assert!(b.find("#user").await.unwrap().is_none());
    h.shot("session-1-anonymous").await;

    // Sign in through the form: the page shows the user and the workspace.
    h.sign_in_as_admin().await;
    assert_eq!(b.text_of("#username-value").await.unwrap(), admin.username);
    assert_eq!(b.text_of("#user").await.unwrap(), "Test Admin");
    assert_eq!(
        b.text_of("#workspace").await.unwrap(),
        h.mock.seed().workspaces[0].name
    );
    assert!(b.find("#login-form").await.unwrap().is_none());
    let access = b
        .cookie("q_access_token")
        .await
        .unwrap()
        .expect("the sign-in wrote the q_access_token cookie");
    assert!(b.cookie("q_refresh_token").await.unwrap().is_some());
    h.shot("session-2-signed-in").await;

    // Qelos now refuses that access token as expired: a reload is still signed in, and the
    // layer refreshed the pair and rotated the cookie.
    h.mock.expire_token(&access);
    b.refresh().await.unwrap();
    b.wait_for("#user")
        .await
        .expect("still signed in after the reload");
    assert_eq!(b.text_of("#username-value").await.unwrap(), admin.username);
    assert!(b.find("#login-form").await.unwrap().is_none());
    let rotated = wait_for_new_access_token(b, &access).await;
    assert_ne!(rotated, access);
    h.shot("session-3-after-expired-token-reload").await;

    // The rotated token keeps working on the next reload.
    b.refresh().await.unwrap();
    b.wait_for("#user").await.unwrap();

    // Sign out: the sign-in form is back and the token cookies are gone.
    let logout = b.wait_for("#logout").await.unwrap();
    b.click(&logout).await.unwrap();
    b.wait_for("#login-form")
        .await
        .expect("the sign-in form after signing out");
    assert!(b.find("#user").await.unwrap().is_none());
    assert_eq!(b.cookie("q_access_token").await.unwrap(), None);
    assert_eq!(b.cookie("q_refresh_token").await.unwrap(), None);
    h.shot("session-4-signed-out").await;
    h.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_password_keeps_the_sign_in_form_and_shows_the_error() {
    let h = Harness::start().await;
    let b = &h.browser;
    let admin = h.mock.seed().admin.clone();

    h.sign_in(&admin.username, "not-the-password").await;
    let error = b.text_of("#error").await.unwrap();
    assert_eq!(error, "Wrong username or password.");
    assert!(
        b.current_url()
            .await
            .unwrap()
            .contains("error=INVALID_CREDENTIALS")
    );
    assert!(b.find("#login-form").await.unwrap().is_some());
    assert!(b.find("#user").await.unwrap().is_none());
    assert_eq!(b.cookie("q_access_token").await.unwrap(), None);
    h.shot("wrong-password").await;
    h.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_form_creates_an_entity_and_the_switcher_shows_the_new_workspace_and_its_entity_scope()
{
    let h = Harness::start().await;
    let b = &h.browser;
    let [first, second, ..] = &h.mock.seed().workspaces[..] else {
        panic!("the mock seeds two workspaces");
    };
    h.sign_in_as_admin().await;
    assert_eq!(b.text_of("#workspace").await.unwrap(), first.name);

    // Create an entity through the form: it is listed (escaped, as text).
    let name = "Widget <b>42</b>";
    let input = b.wait_for("#entity-name").await.unwrap();
    b.send_keys(&input, name).await.unwrap();
    let price = b.wait_for("#entity-price").await.unwrap();
    b.send_keys(&price, "9.5").await.unwrap();
    let create = b.wait_for("#create-entity").await.unwrap();
    b.click(&create).await.unwrap();
    assert_eq!(b.text_of(".entity .entity-name").await.unwrap(), name);
    h.shot("entities-created").await;

    // Switch to the second workspace.
    let option = b
        .wait_for(&format!("#workspace-select option[value='{}']", second.id))
        .await
        .unwrap();
    b.click(&option).await.unwrap();
    let switch = b.wait_for("#switch-workspace").await.unwrap();
    b.click(&switch).await.unwrap();
    let deadline = Instant::now() + WAIT;
    loop {
        // The switch reloads the page: an element found on the old page may be gone by the
        // time its text is read ("stale element"); that is "not switched yet", not a failure.
        let shown = b.text_of("#workspace").await.unwrap_or_default();
        if shown == second.name {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "workspace still {shown:?}, wanted {:?}",
            second.name
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(b.find("#error").await.unwrap().is_none());
    // Token sessions keep Qelos's entity scope: the page says so.
    assert!(
        b.text_of("#entities-scope")
            .await
            .unwrap()
            .contains(&first.name)
    );
    // Still the same session after the switch.
    assert_eq!(
        b.text_of("#username-value").await.unwrap(),
        h.mock.seed().admin.username
    );
    h.shot("workspace-switched").await;
    h.finish().await;
}
