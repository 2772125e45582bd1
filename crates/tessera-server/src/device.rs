//! The device cookie on Tessera's pages: read and checked on every page request, and set
//! when the browser has none that Tessera issued. Apps' and admins' endpoints never see it.

use axum::extract::{Request, State};
use axum::http::header;
use axum::middleware::Next;
use axum::response::Response;
use tessera_core::device::{DeviceId, DEVICE_COOKIE_MAX_AGE};

use crate::cookies::CookieName;
use crate::AppState;

/// The device of the current page request, for [`crate::routes::Meta`].
#[derive(Clone, Debug)]
pub(crate) struct PageDevice(pub DeviceId);

/// Names the browser's device for the handler, issuing a new cookie when the browser sent
/// none, or one Tessera did not sign (a forged or a stale-key cookie is replaced, never
/// believed).
pub(crate) async fn device_cookie(
    State(state): State<AppState>,
    mut request: Request,
    next: Next,
) -> Response {
    let known = state
        .cookies
        .get(request.headers(), CookieName::Device)
        .and_then(|cookie| state.provider.device_of(cookie));
    let (device, issued) = match known {
        Some(device) => (device, None),
        None => {
            let (device, cookie) = state.provider.new_device();
            (device, Some(cookie))
        }
    };
    request.extensions_mut().insert(PageDevice(device));

    let mut response = next.run(request).await;
    if let Some(cookie) = issued {
        let value = state
            .cookies
            .set(CookieName::Device, cookie.expose(), DEVICE_COOKIE_MAX_AGE);
        response.headers_mut().append(header::SET_COOKIE, value);
    }
    response
}
