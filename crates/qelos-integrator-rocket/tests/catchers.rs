//! The fairing's catchers next to the application's own: which catcher answers what.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: failing loudly is the point

use qelos_integrator_rocket::{QelosConfig, QelosFairing, RequireUser};
use rocket::http::{Accept, Header, Status};
use rocket::local::asynchronous::Client;
use rocket::{Build, Rocket, catch, catchers, get, routes};

#[get("/secret")]
fn secret(user: RequireUser) -> String {
    user.user().id.clone()
}

#[get("/plain")]
fn plain() -> &'static str {
    "plain"
}

#[get("/broken")]
fn broken() -> Status {
    Status::InternalServerError
}

#[catch(401)]
fn app_unauthorized() -> &'static str {
    "the app's own 401"
}

#[catch(default)]
fn app_default(status: Status, _req: &rocket::Request<'_>) -> String {
    format!("the app's own {}", status.code)
}

/// A Rocket app whose Qelos is a closed port (any upstream call would fail at once).
fn app(configure: impl FnOnce(Rocket<Build>) -> Rocket<Build>) -> Rocket<Build> {
    app_on("http://127.0.0.1:9", configure)
}

fn app_on(qelos: &str, configure: impl FnOnce(Rocket<Build>) -> Rocket<Build>) -> Rocket<Build> {
    let config = QelosConfig::builder(qelos)
        .timeout(std::time::Duration::from_millis(300))
        .require_auth_under("/private")
        .build()
        .expect("config");
    let rocket = rocket::build().mount("/", routes![secret, plain, broken]);
    configure(rocket.mount("/private", routes![plain])).attach(QelosFairing::new(config))
}

async fn client(rocket: Rocket<Build>) -> Client {
    Client::untracked(rocket).await.expect("the app ignites")
}

#[rocket::async_test]
async fn without_catchers_of_its_own_the_app_answers_refusals_with_the_contract_json() {
    let client = client(app(|r| r)).await;
    for path in ["/secret", "/private/plain"] {
        let res = client.get(path).dispatch().await;
        assert_eq!(res.status(), Status::Unauthorized, "{path}");
        assert_eq!(
            res.into_string().await.as_deref(),
            Some(r#"{"code":"UNAUTHORIZED"}"#)
        );
    }
}

#[rocket::async_test]
async fn the_apps_401_catcher_is_kept_and_answers_every_401_qelos_refusals_included() {
    let client = client(app(|r| r.register("/", catchers![app_unauthorized]))).await;
    for path in ["/secret", "/private/plain"] {
        let res = client.get(path).dispatch().await;
        assert_eq!(res.status(), Status::Unauthorized, "{path}");
        assert_eq!(
            res.into_string().await.as_deref(),
            Some("the app's own 401")
        );
    }
}

#[rocket::async_test]
async fn the_apps_default_catcher_keeps_answering_every_status() {
    let client = client(app(|r| r.register("/", catchers![app_default]))).await;
    let res = client.get("/secret").dispatch().await;
    assert_eq!(res.status(), Status::Unauthorized);
    assert_eq!(
        res.into_string().await.as_deref(),
        Some("the app's own 401")
    );
    let res = client.get("/broken").dispatch().await;
    assert_eq!(
        res.into_string().await.as_deref(),
        Some("the app's own 500")
    );
}

#[rocket::async_test]
async fn an_error_status_without_a_refusal_gets_rockets_default_answer() {
    let client = client(app(|r| r)).await;
    let res = client.get("/broken").header(Accept::JSON).dispatch().await;
    assert_eq!(res.status(), Status::InternalServerError);
    let body: serde_json::Value =
        serde_json::from_str(&res.into_string().await.expect("body")).expect("json");
    assert_eq!(body["error"]["code"], 500, "Rocket's default JSON error");
}

#[rocket::async_test]
async fn the_internal_refusal_route_answers_nothing_from_outside() {
    let client = client(app(|r| r)).await;
    let res = client.get("/__qelos/refused").dispatch().await;
    assert_eq!(res.status(), Status::NotFound);
}

#[rocket::async_test]
async fn a_route_without_a_qelos_guard_makes_no_upstream_call_and_a_guarded_one_does() {
    // A "Qelos" that accepts connections and never answers: the backlog shows every attempt.
    let qelos = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    qelos.set_nonblocking(true).expect("nonblocking");
    let url = format!("http://{}", qelos.local_addr().expect("addr"));
    let client = client(app_on(&url, |r| r)).await;
    let cookie = Header::new("cookie", "q_access_token=a.b.c");
    let res = client.get("/plain").header(cookie.clone()).dispatch().await;
    assert_eq!(res.status(), Status::Ok);
    assert_eq!(res.into_string().await.as_deref(), Some("plain"));
    assert!(
        qelos.accept().is_err(),
        "no connection for a guard-less route"
    );
    let res = client.get("/secret").header(cookie).dispatch().await;
    assert_eq!(
        res.status(),
        Status::ServiceUnavailable,
        "Qelos never answered"
    );
    assert!(qelos.accept().is_ok(), "the guard asked Qelos");
}

#[rocket::async_test]
async fn the_fairing_looks_at_requests_before_routing_only_when_some_paths_require_a_user() {
    use rocket::fairing::{Fairing, Kind};
    let open = QelosConfig::builder("http://127.0.0.1:9")
        .build()
        .expect("config");
    let open = QelosFairing::new(open).info().kind;
    assert!(open.is(Kind::Response) && open.is(Kind::Ignite));
    assert!(!open.is(Kind::Request), "nothing to refuse before routing");
    let guarded = QelosConfig::builder("http://127.0.0.1:9").require_auth_under("/private");
    let guarded = QelosFairing::new(guarded.build().expect("config"))
        .info()
        .kind;
    assert!(
        guarded.is(Kind::Request),
        "/private must refuse before routing"
    );
    let everywhere = QelosConfig::builder("http://127.0.0.1:9").require_auth(true);
    let everywhere = QelosFairing::new(everywhere.build().expect("config"));
    assert!(everywhere.info().kind.is(Kind::Request));
}

#[rocket::async_test]
async fn without_paths_that_require_a_user_guards_still_resolve_and_guard_less_routes_stay_open() {
    let config = QelosConfig::builder("http://127.0.0.1:9")
        .timeout(std::time::Duration::from_millis(300))
        .build()
        .expect("config");
    let rocket = rocket::build().mount("/", routes![secret, plain]);
    let client = client(rocket.attach(QelosFairing::new(config))).await;
    let res = client.get("/plain").dispatch().await;
    assert_eq!(res.status(), Status::Ok);
    let res = client.get("/secret").dispatch().await;
    assert_eq!(res.status(), Status::Unauthorized, "the guard refuses");
    assert_eq!(
        res.into_string().await.as_deref(),
        Some(r#"{"code":"UNAUTHORIZED"}"#)
    );
}

#[rocket::async_test]
async fn a_second_qelos_fairing_fails_ignition_instead_of_panicking() {
    let config = || {
        QelosConfig::builder("http://127.0.0.1:9")
            .build()
            .expect("config")
    };
    let rocket = rocket::build()
        .mount("/", routes![plain])
        .attach(QelosFairing::new(config()))
        .attach(QelosFairing::new(config()));
    let Err(error) = rocket.ignite().await else {
        panic!("one Qelos fairing per Rocket: the second must fail ignition");
    };
    let rocket::error::ErrorKind::FailedFairings(failed) = error.kind() else {
        panic!("expected a failed fairing, got {:?}", error.kind());
    };
    assert_eq!(failed.iter().map(|f| f.name).collect::<Vec<_>>(), ["Qelos"]);
}
