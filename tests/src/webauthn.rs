//! WebAuthn for the end-to-end tests: a software authenticator, and the requests the pages'
//! script makes (options with the CSRF header, the credential in a form).
//!
//! webauthn-authenticator-rs's `SoftPasskey` does what an authenticator does: a P-256 key
//! per credential, "packed" self attestation, the signature counter, the UP and UV flags,
//! and, through `WebauthnAuthenticator`, the clientDataJSON a browser writes for an origin.
//! It cannot keep a discoverable credential, so [`SoftKey`] keeps what one keeps on the
//! authenticator (the credential id and the user handle): it passes registrations on
//! without `requireResidentKey`, and answers a request that names no credential with its
//! own, returning the user handle, as a resident key does.

use reqwest::Response;
use serde_json::Value;
use url::Url;
use webauthn_authenticator_rs::softpasskey::SoftPasskey;
use webauthn_authenticator_rs::WebauthnAuthenticator;
use webauthn_rs::prelude::{
    Base64UrlSafeData, CreationChallengeResponse, PublicKeyCredential, RequestChallengeResponse,
};
use webauthn_rs_proto::{AllowCredentials, UserVerificationPolicy};

use crate::{Browser, TestServer};

/// The header the pages' script sends the CSRF token in.
pub const CSRF_HEADER: &str = "x-csrf-token";

/// A software authenticator with one discoverable credential, once registered.
pub struct SoftKey {
    authenticator: WebauthnAuthenticator<SoftPasskey>,
    origin: Url,
    /// What a resident credential keeps: its id and the user handle it was created for.
    resident: Option<(Vec<u8>, Vec<u8>)>,
}

impl SoftKey {
    /// An authenticator for `server`'s origin that verifies its user (as one with a PIN
    /// does) whenever it is asked to.
    pub fn new(server: &TestServer) -> Self {
        Self {
            authenticator: WebauthnAuthenticator::new(SoftPasskey::new(true)),
            origin: Url::parse(&server.issuer).unwrap(),
            resident: None,
        }
    }

    /// The id of the registered credential.
    pub fn credential_id(&self) -> Vec<u8> {
        self.resident
            .as_ref()
            .expect("a registered credential")
            .0
            .clone()
    }

    /// The user handle the credential was registered with.
    pub fn user_handle(&self) -> Vec<u8> {
        self.resident
            .as_ref()
            .expect("a registered credential")
            .1
            .clone()
    }

    /// Creates a credential for the options a server sent; the credential as JSON, as the
    /// pages' script posts it.
    pub fn register(&mut self, options: &str) -> String {
        let mut options: CreationChallengeResponse = serde_json::from_str(options).unwrap();
        let handle = options.public_key.user.id.to_vec();
        if let Some(selection) = options.public_key.authenticator_selection.as_mut() {
            selection.require_resident_key = false;
        }
        let credential = self
            .authenticator
            .do_registration(self.origin.clone(), options)
            .expect("the authenticator registers");
        self.resident = Some((credential.raw_id.to_vec(), handle));
        serde_json::to_string(&credential).unwrap()
    }

    /// An assertion for options that list the allowed credentials (a second factor).
    pub fn assert(&mut self, options: &str) -> String {
        let options: RequestChallengeResponse = serde_json::from_str(options).unwrap();
        let credential = self
            .authenticator
            .do_authentication(self.origin.clone(), options)
            .expect("the authenticator signs");
        serde_json::to_string(&credential).unwrap()
    }

    /// An assertion for options that list no credential (passwordless): the authenticator
    /// picks its resident credential and returns its user handle.
    pub fn discover(&mut self, options: &str) -> PublicKeyCredential {
        self.discover_with(options, true)
    }

    /// As [`SoftKey::discover`], from an authenticator that only tests the person's presence
    /// (no PIN or biometric): the UV flag stays clear.
    pub fn discover_without_verification(&mut self, options: &str) -> PublicKeyCredential {
        self.discover_with(options, false)
    }

    fn discover_with(&mut self, options: &str, verify: bool) -> PublicKeyCredential {
        let mut options: RequestChallengeResponse = serde_json::from_str(options).unwrap();
        let (id, handle) = self.resident.clone().expect("a registered credential");
        options.public_key.allow_credentials = vec![AllowCredentials {
            type_: "public-key".to_string(),
            id: Base64UrlSafeData::from(id),
            transports: None,
        }];
        if !verify {
            // SoftPasskey sets UV exactly when the request requires it.
            options.public_key.user_verification = UserVerificationPolicy::Preferred;
        }
        let mut credential = self
            .authenticator
            .do_authentication(self.origin.clone(), options)
            .expect("the authenticator signs");
        credential.response.user_handle = Some(Base64UrlSafeData::from(handle));
        credential
    }
}

/// The CSRF token of a page.
pub fn csrf_of(page: &str) -> String {
    crate::hidden_field(page, "csrf").expect("the page has a CSRF field")
}

impl Browser {
    /// Asks for a ceremony's options as the pages' script does; `path` is the options path
    /// below the issuer (e.g. `/passkey-login/options`).
    pub async fn webauthn_options(&self, server: &TestServer, path: &str, csrf: &str) -> Response {
        self.http
            .post(server.url(path))
            .header(CSRF_HEADER, csrf)
            .send()
            .await
            .unwrap()
    }

    /// The options JSON, which must be a 200 of type application/json.
    pub async fn webauthn_options_json(
        &self,
        server: &TestServer,
        path: &str,
        csrf: &str,
    ) -> String {
        let response = self.webauthn_options(server, path, csrf).await;
        assert_eq!(response.status(), 200, "options from {path}");
        assert_eq!(response.headers()["content-type"], "application/json");
        assert_eq!(response.headers()["cache-control"], "no-store");
        response.text().await.unwrap()
    }

    /// Posts a credential as the pages' script does, to the finishing `path`.
    pub async fn post_credential(
        &self,
        server: &TestServer,
        path: &str,
        csrf: &str,
        credential: &str,
    ) -> Response {
        self.post_form(
            &server.url(path),
            &[("csrf", csrf), ("credential", credential)],
        )
        .await
    }
}

/// A JSON document's member, parsed.
pub fn json(text: &str) -> Value {
    serde_json::from_str(text).unwrap()
}
