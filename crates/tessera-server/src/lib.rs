//! Tessera's HTTP layer: routes, hosted pages, cookies and middleware.
//!
//! Handlers are short: extract, make one call into `tessera-core` with the time of the
//! request, map the result. Protocol errors become responses in [`error`] only.

mod admin;
mod cookies;
mod device;
mod error;
mod forwarded;
pub mod metrics;
mod middleware;
mod pages;
mod routes;

use std::future::Future;
use std::net::SocketAddr;

use axum::http::HeaderValue;
use axum::Router;
use tessera_core::Provider;
use tokio::net::TcpListener;

pub use admin::openapi as admin_openapi;
pub use cookies::{CookieName, CookiePolicy};

/// HTTP settings; the binary documents each one's default.
#[derive(Clone, Debug)]
pub struct ServerOptions {
    /// Largest request body accepted, in bytes; larger ones get `invalid_request` (400).
    pub max_body_bytes: usize,
    /// `max-age` of discovery and JWKS responses, seconds (RFC 9111 §5.2.2.1). Keys are
    /// published longer ahead of use than this, so a cached JWKS never lacks a signing key.
    pub metadata_max_age: u32,
}

impl Default for ServerOptions {
    fn default() -> Self {
        Self {
            max_body_bytes: 64 * 1024,
            metadata_max_age: 300,
        }
    }
}

/// Shared by every handler.
#[derive(Clone)]
pub(crate) struct AppState {
    pub provider: Provider,
    pub cookies: CookiePolicy,
    /// `Cache-Control` of discovery and JWKS responses.
    pub metadata_cache: HeaderValue,
}

/// The complete application, nested under the issuer's path.
pub fn router(provider: Provider, options: &ServerOptions) -> Router {
    let cookies = CookiePolicy::for_issuer(&provider.settings().issuer);
    let base = provider.settings().issuer.base_path().to_string();
    let metadata_cache =
        HeaderValue::from_str(&format!("public, max-age={}", options.metadata_max_age))
            .unwrap_or(HeaderValue::from_static("no-cache"));
    let state = AppState {
        provider,
        cookies,
        metadata_cache,
    };
    let app = routes::routes(state);
    let app = if base.is_empty() {
        app
    } else {
        Router::new().nest(&base, app)
    };
    middleware::wrap(app, options)
}

/// Serves until `shutdown` completes, then finishes the requests in flight.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await
}
