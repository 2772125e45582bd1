//! The account page: its password form, its second factors, and the devices and sessions
//! the person is signed in on.

use askama::Template;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use tessera_core::account::AccountView;
use tessera_core::devices::{DeviceSession, DeviceSummary};
use tessera_core::webauthn::KeySummary;

use super::dates::{utc_date, utc_time};
use super::{render_offering, throttled, SCRIPT, STYLESHEET};

#[derive(Template)]
#[template(path = "account.html")]
struct AccountPage<'a> {
    stylesheet: &'a str,
    action: &'a str,
    csrf: &'a str,
    username: &'a str,
    notice: Option<&'static str>,
    totp_enabled: bool,
    /// A TOTP app or a key: what recovery codes stand in for.
    has_authenticator: bool,
    keys: Vec<KeyRow<'a>>,
    /// Whether a key can be added: WebAuthn is offered, and the page then runs [`SCRIPT`].
    passkeys_offered: bool,
    script: &'a str,
    recovery_codes_left: i64,
    password_min_length: usize,
    reauthentication_window: &'a str,
    current_error: Option<&'a str>,
    new_error: Option<&'a str>,
    confirm_error: Option<&'a str>,
    /// The field that takes the focus: the first one whose input was refused.
    focus: &'static str,
    devices: Vec<DeviceRow<'a>>,
}

/// A key as the account page lists it.
struct KeyRow<'a> {
    id: &'a str,
    name: &'a str,
    created: String,
    last_used: Option<String>,
    /// A synced passkey (backup eligible), rather than one bound to a device.
    synced: bool,
}

impl<'a> KeyRow<'a> {
    fn of(key: &'a KeySummary) -> Self {
        Self {
            id: &key.id,
            name: &key.name,
            created: utc_date(key.created_at),
            last_used: key.last_used_at.map(utc_date),
            synced: key.backup_eligible,
        }
    }
}

/// A device as the account page lists it.
struct DeviceRow<'a> {
    id: &'a str,
    /// What it runs, as a person names it: "Firefox 126 on Linux".
    label: String,
    first_seen: String,
    last_seen: String,
    last_ip: Option<&'a str>,
    location: Option<&'a str>,
    /// The browser showing the page.
    current: bool,
    sessions: Vec<SessionRow<'a>>,
}

impl<'a> DeviceRow<'a> {
    fn of(device: &'a DeviceSummary, view: &'a AccountView) -> Self {
        let this_session = view.this_session.as_deref();
        Self {
            id: &device.device_id,
            label: device_label(device),
            first_seen: utc_time(device.first_seen_at),
            last_seen: utc_time(device.last_seen_at),
            last_ip: device.last_ip.as_deref(),
            location: device.location.as_deref(),
            current: view.this_device.as_deref() == Some(device.device_id.as_str()),
            sessions: device
                .sessions
                .iter()
                .map(|session| SessionRow::of(session, this_session))
                .collect(),
        }
    }
}

/// A live session as the account page lists it under its device.
struct SessionRow<'a> {
    sid: &'a str,
    started: String,
    expires: String,
    /// How the person signed in, in words.
    methods: String,
    /// The session of the browser showing the page.
    current: bool,
}

impl<'a> SessionRow<'a> {
    fn of(session: &'a DeviceSession, this_session: Option<&str>) -> Self {
        Self {
            sid: &session.sid,
            started: utc_time(session.created_at),
            expires: utc_time(session.expires_at),
            methods: methods_in_words(&session.amr),
            current: this_session == Some(session.sid.as_str()),
        }
    }
}

/// "Firefox 126 on Linux", or as much of it as the user agent told.
fn device_label(device: &DeviceSummary) -> String {
    let software = &device.software;
    let browser = software.browser.as_deref().unwrap_or("Unknown browser");
    match &software.os {
        Some(os) => format!("{browser} on {os}"),
        None => browser.to_string(),
    }
}

/// RFC 8176 method references as a person would name what they used. "mfa" alone beside
/// the password is a recovery code (the login gives no method name for one); "user" (the
/// key checked who held it) adds nothing a person would call a method.
fn methods_in_words(amr: &[String]) -> String {
    let has = |value: &str| amr.iter().any(|m| m == value);
    let mut words = Vec::new();
    if has("pwd") {
        words.push("password");
    }
    if has("otp") {
        words.push("authenticator app");
    }
    if has("swk") || has("hwk") {
        words.push("passkey or security key");
    }
    let named_factor = has("otp") || has("swk") || has("hwk");
    if has("mfa") && !named_factor {
        words.push("recovery code");
    }
    if words.is_empty() {
        return "an unknown method".to_string();
    }
    words.join(" and ")
}

/// The account page; 400 when it shows a refused form again (bad input gets a 4xx).
pub(crate) fn account(view: &AccountView, refused: bool) -> Response {
    let errors = &view.errors;
    let focus = if errors.current.is_some() {
        "current_password"
    } else if errors.new.is_some() {
        "new_password"
    } else if errors.confirm.is_some() {
        "confirm_password"
    } else {
        ""
    };
    let page = AccountPage {
        stylesheet: STYLESHEET,
        action: "account",
        csrf: &view.csrf,
        username: &view.username,
        notice: view.notice.map(|n| n.message()),
        totp_enabled: view.totp_enabled,
        has_authenticator: view.totp_enabled || !view.keys.is_empty(),
        keys: view.keys.iter().map(KeyRow::of).collect(),
        passkeys_offered: view.passkeys_offered,
        script: SCRIPT,
        recovery_codes_left: view.recovery_codes_left,
        password_min_length: view.password_min_length,
        reauthentication_window: &view.reauthentication_window,
        current_error: errors.current.as_deref(),
        new_error: errors.new.as_deref(),
        confirm_error: errors.confirm,
        focus,
        devices: view
            .devices
            .iter()
            .map(|d| DeviceRow::of(d, view))
            .collect(),
    };
    // Only the passkey part needs a script; the page's other forms work without one.
    let page = render_offering(&page, view.passkeys_offered);
    if errors.retry_after.is_some() {
        return throttled(page, errors.retry_after);
    }
    if refused {
        (StatusCode::BAD_REQUEST, page).into_response()
    } else {
        page
    }
}

#[cfg(test)]
mod tests {
    use super::methods_in_words;

    fn words(amr: &[&str]) -> String {
        let amr: Vec<String> = amr.iter().map(|m| m.to_string()).collect();
        methods_in_words(&amr)
    }

    /// The `amr` values Tessera's logins give (README, "Second factor" and "Passkeys").
    #[test]
    fn each_login_s_methods_read_as_what_the_person_used() {
        assert_eq!(words(&["pwd"]), "password");
        assert_eq!(
            words(&["pwd", "otp", "mfa"]),
            "password and authenticator app"
        );
        assert_eq!(words(&["pwd", "mfa"]), "password and recovery code");
        assert_eq!(
            words(&["pwd", "swk", "mfa"]),
            "password and passkey or security key"
        );
        assert_eq!(words(&["swk", "user", "mfa"]), "passkey or security key");
        assert_eq!(words(&[]), "an unknown method");
    }
}
