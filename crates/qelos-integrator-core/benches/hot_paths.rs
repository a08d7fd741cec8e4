//! Micro-benchmarks of the per-request pure functions: token reading, cookie parsing and
//! writing, `Domain` rewriting and JWT `exp` peeking.

#![allow(missing_docs, clippy::expect_used)]

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use http::HeaderMap;
use qelos_integrator_core::__bench as hot;

const JWT: &str = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiI2NjVmMDAwMDAwMDAwMDAwMDAwMDAwMDEiLCJ0ZW5hbnQiOiIwIiwidXNlcm5hbWUiOiJ0ZXN0QHRlc3QuY29tIiwiZXhwIjo0MTAyNDQ0ODAwfQ.c2lnbmF0dXJl";

fn headers_with_cookies() -> HeaderMap {
    let mut h = HeaderMap::new();
    let cookie = format!("theme=dark; q_access_token={JWT}; q_refresh_token={JWT}; lang=en");
    h.insert("cookie", cookie.parse().expect("valid header"));
    h.insert(
        "host",
        "app.example.com:8080".parse().expect("valid header"),
    );
    h
}

fn bench(c: &mut Criterion) {
    let headers = headers_with_cookies();
    let anonymous = {
        let mut h = HeaderMap::new();
        h.insert("host", "app.example.com".parse().expect("valid header"));
        h.insert("accept", "application/json".parse().expect("valid header"));
        h
    };
    c.bench_function("credentials::read signed-in cookies", |b| {
        b.iter(|| hot::read(black_box(&headers), "q_access_token", "q_refresh_token"))
    });
    c.bench_function("credentials::read anonymous", |b| {
        b.iter(|| hot::read(black_box(&anonymous), "q_access_token", "q_refresh_token"))
    });
    c.bench_function("jwt::peek_exp", |b| {
        b.iter(|| hot::peek_exp(black_box(JWT)))
    });
    c.bench_function("cookies::token_cookie", |b| {
        b.iter(|| hot::token_cookie("q_access_token", black_box(JWT), true))
    });
    let upstream = "qlt_0=abc; Max-Age=2592000; Domain=qelos.internal; Path=/api; Expires=Thu, 01 Jan 2037 00:00:00 GMT; HttpOnly; Secure; SameSite=None";
    c.bench_function("cookies::rewrite_domain", |b| {
        b.iter(|| hot::rewrite_domain(black_box(upstream), Some("app.example.com")))
    });
}

/// The whole per-request pipeline (`Integrator::resolve`) on the two paths that make no upstream
/// call: no credentials, and a signed-in request answered from the identity cache.
fn pipeline(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let mock = runtime
        .block_on(qelos_mock::MockServer::start())
        .expect("mock starts");
    let config = qelos_integrator_core::QelosConfig::builder(mock.url())
        .identity_cache(std::time::Duration::from_secs(3600))
        .build()
        .expect("config");
    let integrator = qelos_integrator_core::Integrator::new(config);
    let tokens = mock.mint_tokens(&qelos_mock::MintRequest::for_user("test@test.com"));
    let anonymous = qelos_integrator_core::RequestHead::new("/me")
        .header("host", "app.example.com")
        .header("accept", "application/json");
    let signed_in = qelos_integrator_core::RequestHead::new("/me")
        .header("host", "app.example.com")
        .header("accept", "application/json")
        .header("authorization", &format!("Bearer {}", tokens.access));
    // Fill the cache once.
    let first = runtime.block_on(integrator.resolve(&signed_in));
    assert!(
        matches!(&first, Ok(ctx) if ctx.is_authenticated()),
        "the minted token signs in"
    );
    c.bench_function("Integrator::resolve anonymous", |b| {
        b.iter(|| runtime.block_on(integrator.resolve(black_box(&anonymous))))
    });
    c.bench_function("Integrator::resolve signed-in, cached identity", |b| {
        b.iter(|| runtime.block_on(integrator.resolve(black_box(&signed_in))))
    });
}

criterion_group!(benches, bench, pipeline);
criterion_main!(benches);
