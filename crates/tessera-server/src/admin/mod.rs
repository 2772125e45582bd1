//! The admin REST API under `/admin/v1` (JSON; errors as RFC 9457 problem details).
//!
//! Every handler follows one shape: the [`extract::AdminCall`] extractor verifies the caller
//! (401/403 before anything else runs), the handler demands its scope with
//! [`extract::AdminCall::require`], makes one call into `tessera_core::admin`, which writes
//! the change and its audit event in one transaction, and maps the result. The OpenAPI
//! description is collected from the handlers' annotations, served at `/admin/v1/openapi.json`
//! and checked into `docs/admin-openapi.json`.

mod audit;
mod clients;
mod extract;
mod keys;
mod me;
mod problem;
mod replay;
mod risk;
mod user_access;
mod users;

use axum::extract::{OriginalUri, State};
use axum::http::{header, HeaderValue, Method};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use tessera_core::refusal::reason;
use tessera_protocol::admin::{AdminScope, Caller, FieldError, Problem, ProblemType, PREFIX};
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::openapi::{OpenApi as Document, Server};
use utoipa::{Modify, OpenApi};
use utoipa_axum::router::OpenApiRouter;

use crate::routes::Meta;
use crate::AppState;
pub(crate) use problem::ApiError;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Tessera admin API",
        version = "1",
        description = "Manage Tessera's users, clients, signing keys and audit trail. Every \
                       call needs a bearer access token issued by Tessera with the admin \
                       scope the operation names; a person's token must come from a login \
                       with a second factor. Errors are RFC 9457 problem details."
    ),
    modifiers(&BearerScheme),
    components(schemas(Problem, FieldError, Caller))
)]
struct ApiDoc;

/// The name the operations' `security` requirements use.
pub(crate) const SECURITY: &str = "bearer";

struct BearerScheme;

impl Modify for BearerScheme {
    fn modify(&self, openapi: &mut Document) {
        let components = openapi.components.get_or_insert_with(Default::default);
        let mut scheme = Http::new(HttpAuthScheme::Bearer);
        scheme.bearer_format = Some("JWT".to_string());
        scheme.description = Some(format!(
            "An RFC 9068 access token from Tessera's token endpoint, with admin scopes: {}",
            AdminScope::ALL.map(AdminScope::as_str).join(", ")
        ));
        components.add_security_scheme(SECURITY, SecurityScheme::Http(scheme));
    }
}

/// Every admin route, with its OpenAPI description.
fn api() -> OpenApiRouter<AppState> {
    let inner = OpenApiRouter::new()
        .merge(me::router())
        .merge(users::router())
        .merge(user_access::router())
        .merge(clients::router())
        .merge(keys::router())
        .merge(audit::router())
        .merge(risk::router());
    OpenApiRouter::with_openapi(ApiDoc::openapi()).nest(PREFIX, inner)
}

/// The OpenAPI description as checked into the repository: no `servers`, since where the
/// API lives depends on the deployment's issuer.
pub fn openapi() -> Document {
    let (_, document) = api().split_for_parts();
    document
}

/// The admin API's router; `issuer` is announced as the description's server.
pub(crate) fn routes(issuer: &str) -> Router<AppState> {
    let (router, mut document) = api().split_for_parts();
    document.servers = Some(vec![Server::new(issuer)]);
    let description = document.to_json().unwrap_or_default();
    let inner = Router::new()
        .route(
            "/openapi.json",
            get(move || async move {
                let mut response = description.clone().into_response();
                response.headers_mut().insert(
                    header::CONTENT_TYPE,
                    HeaderValue::from_static("application/json"),
                );
                response
            }),
        )
        .fallback(unknown_route)
        .method_not_allowed_fallback(method_not_allowed);
    // The outer fallback also answers every unknown path outside the API (merged into the
    // app, it is the app's); only paths below the prefix reach `unknown_route`.
    router
        .nest(PREFIX, inner)
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
}

fn no_such_endpoint() -> Response {
    ApiError::new(ProblemType::NotFound, "no such admin endpoint").into_response()
}

async fn not_found() -> Response {
    no_such_endpoint()
}

/// A path below the API's prefix that names no endpoint: still a call (issue 6), recorded
/// as `admin.refused` before any token is looked at, as the answer does not depend on one.
async fn unknown_route(
    State(state): State<AppState>,
    meta: Meta,
    method: Method,
    OriginalUri(uri): OriginalUri,
) -> Response {
    let call = (&method, uri.path());
    extract::record_refusal(&state, &meta, call, reason::UNKNOWN_ROUTE).await;
    no_such_endpoint()
}

/// A method an endpoint of the API does not take: recorded as [`unknown_route`] is.
async fn method_not_allowed(
    State(state): State<AppState>,
    meta: Meta,
    method: Method,
    OriginalUri(uri): OriginalUri,
) -> Response {
    let call = (&method, uri.path());
    extract::record_refusal(&state, &meta, call, reason::METHOD_NOT_ALLOWED).await;
    ApiError::new(
        ProblemType::MethodNotAllowed,
        "this endpoint does not take that method",
    )
    .into_response()
}
