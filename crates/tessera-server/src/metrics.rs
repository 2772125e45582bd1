//! Prometheus metrics: what every request and every audited attempt adds, and the scrape
//! endpoint, served on its own address so that it never shares a listener with the public
//! endpoints.
//!
//! Labels are bounded: a route is the pattern it matched (`/admin/v1/users/{id}`), never the
//! raw path, which a client could fill with anything; an attempt is labelled by its audit
//! event type and outcome, both fixed strings in the code.

use std::future::Future;
use std::sync::OnceLock;
use std::time::Instant;

use axum::extract::{MatchedPath, Request};
use axum::http::{header, HeaderValue, Method};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use tokio::net::TcpListener;

/// Request latency buckets, seconds: most answers take milliseconds, password hashing tens
/// to hundreds of them.
const LATENCY_BUCKETS: [f64; 12] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
];

/// The installed recorder's handle; `None` when installing it failed.
static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();

/// Installs the process-wide recorder once, and returns what renders its metrics. Until it is
/// installed, recording is a no-op, so a server without `metrics_listen` pays nothing. Calls
/// from several threads at once install it once: the first builds it, the others wait for
/// it and share its handle (checking first and installing after let two of them race to
/// install, and the loser failed).
pub fn install() -> Result<PrometheusHandle, metrics::SetRecorderError<()>> {
    HANDLE
        .get_or_init(|| {
            let recorder = PrometheusBuilder::new()
                .set_buckets(&LATENCY_BUCKETS)
                .ok()?
                .build_recorder();
            let handle = recorder.handle();
            metrics::set_global_recorder(recorder).ok()?;
            Some(handle)
        })
        .clone()
        .ok_or(metrics::SetRecorderError(()))
}

/// The method as a label: the standard ones by name, anything else (a client may send any
/// token as a method, RFC 9110 §9.1) as `other`, so that no client can mint new series.
fn method_label(method: &Method) -> &'static str {
    const KNOWN: [Method; 9] = [
        Method::GET,
        Method::HEAD,
        Method::POST,
        Method::PUT,
        Method::PATCH,
        Method::DELETE,
        Method::OPTIONS,
        Method::TRACE,
        Method::CONNECT,
    ];
    KNOWN
        .iter()
        .find(|known| *known == method)
        .map_or("other", Method::as_str)
}

/// Counts each request and times it, by method, matched route and status.
pub(crate) async fn track(request: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = method_label(request.method()).to_string();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_string(), |path| path.as_str().to_string());
    let response = next.run(request).await;
    let status = response.status().as_u16().to_string();
    metrics::counter!(
        "tessera_http_requests_total",
        "method" => method.clone(),
        "route" => route.clone(),
        "status" => status,
    )
    .increment(1);
    metrics::histogram!(
        "tessera_http_request_duration_seconds",
        "method" => method,
        "route" => route,
    )
    .record(started.elapsed().as_secs_f64());
    response
}

/// Serves `GET /metrics` in the Prometheus text format until `shutdown` completes.
pub async fn serve(
    listener: TcpListener,
    handle: PrometheusHandle,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let app = Router::new().route(
        "/metrics",
        get(move || {
            let handle = handle.clone();
            async move {
                handle.run_upkeep();
                let mut response = handle.render().into_response();
                response.headers_mut().insert(
                    header::CONTENT_TYPE,
                    HeaderValue::from_static("text/plain; version=0.0.4"),
                );
                response
            }
        }),
    );
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await
}

#[cfg(test)]
mod tests {
    use axum::http::Method;

    use super::method_label;

    #[test]
    fn only_standard_methods_become_labels() {
        assert_eq!(method_label(&Method::GET), "GET");
        assert_eq!(method_label(&Method::DELETE), "DELETE");
        let invented = Method::from_bytes(b"A1B2C3D4E5F6").unwrap();
        assert_eq!(method_label(&invented), "other");
    }
}
