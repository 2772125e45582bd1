//! Layers around every route: a request id and span, security headers, the body limit.

use std::time::Instant;

use axum::extract::{DefaultBodyLimit, Request};
use axum::http::{header, HeaderName, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;
use axum::Router;
use tower_http::set_header::SetResponseHeaderLayer;
use tracing::Instrument;

use crate::ServerOptions;

/// The request id of the current request, generated here and never taken from the client.
#[derive(Clone, Debug)]
pub(crate) struct RequestId(pub String);

const X_REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// Hosted pages load only our stylesheet, run no script, and cannot be framed.
/// `form-action` is left out on purpose: browsers apply it to the redirect that follows a
/// form post, which would block the final redirect to the client's own origin.
const CSP: &str = "default-src 'none'; style-src 'self'; img-src 'self'; \
                   frame-ancestors 'none'; base-uri 'none'";

/// The policy of the pages that offer passkeys: as [`CSP`], plus our own script file (no
/// inline script, no `eval`) and `fetch` to our own origin for the ceremony's options.
pub(crate) const CSP_WITH_SCRIPT: &str = "default-src 'none'; script-src 'self'; \
                                          connect-src 'self'; style-src 'self'; \
                                          img-src 'self'; frame-ancestors 'none'; \
                                          base-uri 'none'";

pub(crate) fn wrap(app: Router, options: &ServerOptions) -> Router {
    app.layer(DefaultBodyLimit::max(options.max_body_bytes))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(CSP),
        ))
        // Pages hold CSRF tokens and redirects carry codes: nothing is cached unless a route
        // says otherwise (RFC 9111 §5.2.2.5; OIDC Core §3.1.3.3 for token responses).
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CACHE_CONTROL,
            HeaderValue::from_static("no-store"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::X_FRAME_OPTIONS,
            HeaderValue::from_static("DENY"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::REFERRER_POLICY,
            HeaderValue::from_static("no-referrer"),
        ))
        .layer(axum::middleware::from_fn(request_span))
        // Per route (Router::layer wraps each one), so the route it matched is known.
        .layer(axum::middleware::from_fn(crate::metrics::track))
}

/// Gives each request an id and a span; logs its outcome. Only the path is recorded: the
/// query string may hold codes and tokens.
async fn request_span(mut request: Request, next: Next) -> Response {
    let id = uuid::Uuid::new_v4().simple().to_string();
    request.extensions_mut().insert(RequestId(id.clone()));
    let span = tracing::info_span!(
        "request",
        request_id = %id,
        method = %request.method(),
        path = %request.uri().path(),
    );
    async move {
        let started = Instant::now();
        let mut response = next.run(request).await;
        let status = response.status().as_u16();
        let micros = started.elapsed().as_micros() as u64;
        tracing::debug!(status, micros, "finished");
        if let Ok(value) = HeaderValue::from_str(&id) {
            response.headers_mut().insert(X_REQUEST_ID, value);
        }
        response
    }
    .instrument(span)
    .await
}
