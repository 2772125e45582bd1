//! The test kit for end-to-end tests: a real Tessera on a random loopback port, backed by a
//! fresh database of its own, and a cookie-keeping HTTP client that plays the browser.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;

use reqwest::cookie::{CookieStore, Jar};
use secrecy::SecretString;
use tessera_core::accounts::{self, NewClientRequest, NewUserRequest};
use tessera_core::keys::KeyEncryptionKey;
use tessera_core::{unix_now, Provider, Settings};
use tessera_protocol::types::Issuer;
use tessera_server::ServerOptions;
use tessera_store::testing::TestDatabase;
use tessera_store::Engine;
use tokio::sync::oneshot;

pub use tessera_store::testing::engines;

pub mod account;
pub mod admin;
pub mod admin_clients;
pub mod admin_users;
pub mod devices;
pub mod expect;
pub mod factors;
pub mod geoip;
pub mod lifecycle;
pub mod trail;
pub mod webauthn;

/// A running Tessera.
pub struct TestServer {
    pub issuer: String,
    pub provider: Provider,
    db: Option<TestDatabase>,
    stop: Option<oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
}

/// The host name in the issuer, and so in every URL a browser or an app is given. The server
/// listens on 127.0.0.1 either way.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum IssuerHost {
    /// `http://127.0.0.1:PORT`.
    #[default]
    Loopback,
    /// `http://localhost:PORT`, for browser tests: WebAuthn needs the page's effective domain
    /// to be a valid domain, which an IP address is not (WebAuthn Level 2 §5.1.3), and
    /// browsers treat `localhost` as a secure context without TLS (W3C Secure Contexts §3.2).
    Localhost,
}

impl IssuerHost {
    fn name(self) -> &'static str {
        match self {
            IssuerHost::Loopback => "127.0.0.1",
            IssuerHost::Localhost => "localhost",
        }
    }
}

/// A registered client as the test sees it.
#[derive(Clone, Debug)]
pub struct TestClient {
    pub id: String,
    pub secret: Option<String>,
    pub redirect_uri: String,
}

pub const REDIRECT_URI: &str = "http://127.0.0.1:9/callback";
pub const PASSWORD: &str = "correct horse battery staple";
/// The `state` of the example requests in OIDC Core §3.1.2.1.
pub const STATE: &str = "af0ifjsldkj";
/// The PKCE example of RFC 7636 Appendix B: the verifier and its S256 challenge.
pub const PKCE_VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
pub const PKCE_CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
/// The authorization request parameters that send [`PKCE_CHALLENGE`] with method S256.
pub const PKCE_S256: [(&str, &str); 2] = [
    ("code_challenge", PKCE_CHALLENGE),
    ("code_challenge_method", "S256"),
];

impl TestServer {
    pub async fn start(engine: Engine) -> Self {
        Self::start_with(engine, ServerOptions::default()).await
    }

    pub async fn start_with(engine: Engine, options: ServerOptions) -> Self {
        Self::start_configured(engine, options, |_| {}).await
    }

    /// Starts with settings adjusted by `configure` (the issuer is already set).
    pub async fn start_configured(
        engine: Engine,
        options: ServerOptions,
        configure: impl FnOnce(&mut Settings),
    ) -> Self {
        Self::start_as(engine, IssuerHost::Loopback, options, configure).await
    }

    /// Starts with the issuer `http://localhost:PORT`, as browser tests need.
    pub async fn start_localhost(engine: Engine) -> Self {
        Self::start_as(
            engine,
            IssuerHost::Localhost,
            ServerOptions::default(),
            |_| {},
        )
        .await
    }

    /// Starts on a random port of 127.0.0.1, with `host` in the issuer and settings adjusted
    /// by `configure` (the issuer is already set).
    pub async fn start_as(
        engine: Engine,
        host: IssuerHost,
        options: ServerOptions,
        configure: impl FnOnce(&mut Settings),
    ) -> Self {
        let db = TestDatabase::create(engine).await;
        let store = db.store().await;

        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr: SocketAddr = listener.local_addr().unwrap();
        let issuer = format!("http://{}:{}", host.name(), addr.port());
        let mut settings = Settings::new(Issuer::parse(&issuer).unwrap());
        settings.password_hash_concurrency = 2;
        configure(&mut settings);

        let kek = KeyEncryptionKey::from_base64(&KeyEncryptionKey::generate_base64()).unwrap();
        let provider = Provider::new(store, settings, &kek, unix_now())
            .await
            .unwrap();
        let app = tessera_server::router(provider.clone(), &options);
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            tessera_server::serve(listener, app, async {
                let _ = stopped.await;
            })
            .await
            .unwrap();
        });
        Self {
            issuer,
            provider,
            db: Some(db),
            stop: Some(stop),
            task: Some(task),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.issuer, path)
    }

    /// `/authorize` with exactly these query parameters, in this order, repeats included.
    pub fn authorize_url_with(&self, pairs: &[(&str, &str)]) -> String {
        let mut url = url::Url::parse(&self.url("/authorize")).unwrap();
        url.query_pairs_mut().extend_pairs(pairs);
        url.to_string()
    }

    /// A code request for `client` with scope `openid` and state [`STATE`]; each of
    /// `overrides` replaces the parameter of its name, or is added.
    pub fn authorize_url(&self, client: &TestClient, overrides: &[(&str, &str)]) -> String {
        let mut pairs = vec![
            ("response_type", "code"),
            ("client_id", client.id.as_str()),
            ("redirect_uri", client.redirect_uri.as_str()),
            ("scope", "openid"),
            ("state", STATE),
        ];
        for &(name, value) in overrides {
            match pairs.iter_mut().find(|(n, _)| *n == name) {
                Some(pair) => pair.1 = value,
                None => pairs.push((name, value)),
            }
        }
        self.authorize_url_with(&pairs)
    }

    /// Posts `form` to the token endpoint, with HTTP Basic credentials when given.
    pub async fn post_token(
        &self,
        basic: Option<(&str, &str)>,
        form: &[(&str, &str)],
    ) -> reqwest::Response {
        let mut request = http_client().post(self.url("/token")).form(form);
        // RFC 6749 §2.3.1 form-encodes id and secret first; ours are base64url, which that
        // encoding leaves unchanged.
        if let Some((id, secret)) = basic {
            request = request.basic_auth(id, Some(secret));
        }
        request.send().await.unwrap()
    }

    /// Redeems `code` as `client` would: Basic for a confidential client, `client_id` in
    /// the body for a public one.
    pub async fn redeem(
        &self,
        client: &TestClient,
        code: &str,
        code_verifier: Option<&str>,
    ) -> reqwest::Response {
        let mut form = vec![
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", client.redirect_uri.as_str()),
        ];
        if let Some(verifier) = code_verifier {
            form.push(("code_verifier", verifier));
        }
        match &client.secret {
            Some(secret) => self.post_token(Some((&client.id, secret)), &form).await,
            None => {
                form.push(("client_id", &client.id));
                self.post_token(None, &form).await
            }
        }
    }

    pub async fn create_user(&self, username: &str) -> String {
        let request = NewUserRequest {
            username,
            email: Some("alice@example.com"),
            display_name: Some("Alice Liddell"),
            password: SecretString::from(PASSWORD),
        };
        accounts::create_user(
            self.provider.store(),
            self.provider.passwords(),
            &self.provider.settings().password_policy(),
            request,
            unix_now(),
        )
        .await
        .unwrap()
    }

    pub async fn create_client(&self, public: bool, first_party: bool) -> TestClient {
        self.create_client_with(public, first_party, "RS256").await
    }

    pub async fn create_client_with(
        &self,
        public: bool,
        first_party: bool,
        alg: &str,
    ) -> TestClient {
        let uris = vec![REDIRECT_URI.to_string()];
        let request = NewClientRequest {
            name: "Test App",
            redirect_uris: &uris,
            public,
            first_party,
            id_token_alg: alg,
            scope: "openid profile email",
            grant_types: &["authorization_code".to_string()],
            post_logout_redirect_uris: &[],
            backchannel_logout_uri: None,
            jwks: None,
            jwks_uri: None,
            ..NewClientRequest::default()
        };
        let created = accounts::create_client(self.provider.store(), request, unix_now())
            .await
            .unwrap();
        TestClient {
            id: created.client_id,
            secret: created.client_secret.map(|s| s.expose().to_string()),
            redirect_uri: REDIRECT_URI.to_string(),
        }
    }

    /// Stops the server and drops its database.
    pub async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
        self.provider.store().close().await;
        if let Some(db) = self.db.take() {
            db.drop_database().await;
        }
    }
}

/// A browser: keeps cookies, follows no redirects, so every hop can be inspected.
pub struct Browser {
    pub http: reqwest::Client,
    jar: Arc<Jar>,
}

impl Default for Browser {
    fn default() -> Self {
        Self::new()
    }
}

/// Where the kit's clients find `localhost`: the address every test server listens on,
/// whatever the machine's resolver says first (it may say ::1).
const LOCALHOST: SocketAddr = SocketAddr::new(std::net::IpAddr::V4(Ipv4Addr::LOCALHOST), 0);

/// An HTTP client for requests outside a browser (a client's back channel).
pub fn http_client() -> reqwest::Client {
    reqwest::Client::builder()
        .resolve("localhost", LOCALHOST)
        .build()
        .unwrap()
}

impl Browser {
    pub fn new() -> Self {
        Self::build(reqwest::Client::builder(), Arc::new(Jar::default()), None)
    }

    /// A browser that sends `user_agent` as its `User-Agent` header on every request.
    pub fn with_user_agent(user_agent: &str) -> Self {
        let builder = reqwest::Client::builder().user_agent(user_agent);
        Self::build(builder, Arc::new(Jar::default()), None)
    }

    /// A browser whose every request says, in `X-Forwarded-For`, that it comes from
    /// `address`: its source address for a server that trusts the loopback as its proxy.
    pub fn from_address(address: &str) -> Self {
        Self::build(
            reqwest::Client::builder(),
            Arc::new(Jar::default()),
            Some(address),
        )
    }

    /// This browser, with its cookies (its device, its sessions), now at `address`.
    pub fn moved_to(&self, address: &str) -> Self {
        Self::build(reqwest::Client::builder(), self.jar.clone(), Some(address))
    }

    fn build(builder: reqwest::ClientBuilder, jar: Arc<Jar>, address: Option<&str>) -> Self {
        let mut headers = reqwest::header::HeaderMap::new();
        if let Some(address) = address {
            headers.insert("x-forwarded-for", address.parse().unwrap());
        }
        let http = builder
            .cookie_provider(jar.clone())
            .default_headers(headers)
            .redirect(reqwest::redirect::Policy::none())
            .resolve("localhost", LOCALHOST)
            .build()
            .unwrap();
        Self { http, jar }
    }

    /// The value of the cookie `name` this browser would send to `server`.
    pub fn cookie(&self, server: &TestServer, name: &str) -> Option<String> {
        let url = url::Url::parse(&server.issuer).unwrap();
        let header = self.jar.cookies(&url)?;
        header
            .to_str()
            .unwrap()
            .split("; ")
            .filter_map(|pair| pair.split_once('='))
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.to_string())
    }

    /// Stores a cookie for `server` as if another page had set it (an attacker, say).
    pub fn plant_cookie(&self, server: &TestServer, name: &str, value: &str) {
        let url = url::Url::parse(&server.issuer).unwrap();
        self.jar
            .add_cookie_str(&format!("{name}={value}; Path=/"), &url);
    }

    pub async fn get(&self, url: &str) -> reqwest::Response {
        self.http.get(url).send().await.unwrap()
    }

    pub async fn post_form(&self, url: &str, form: &[(&str, &str)]) -> reqwest::Response {
        self.http.post(url).form(form).send().await.unwrap()
    }

    /// Follows redirects that stay on `issuer`; returns the first response that does not.
    pub async fn follow(&self, issuer: &str, mut response: reqwest::Response) -> Followed {
        for _ in 0..10 {
            match location(&response) {
                Some(next) if next.starts_with(issuer) => response = self.get(&next).await,
                Some(next) => return Followed::LeftIssuer(next),
                None => {
                    let status = response.status();
                    let body = response.text().await.unwrap();
                    return Followed::Page { status, body };
                }
            }
        }
        panic!("too many redirects");
    }

    /// Requests `url` and follows the redirects that stay on the issuer.
    pub async fn visit(&self, server: &TestServer, url: &str) -> Followed {
        let response = self.get(url).await;
        self.follow(&server.issuer, response).await
    }

    /// Submits the login form on `page` with these credentials.
    pub async fn submit_login(
        &self,
        server: &TestServer,
        page: &str,
        username: &str,
        password: &str,
    ) -> reqwest::Response {
        let csrf = hidden_field(page, "csrf").expect("the login page has a CSRF field");
        self.post_form(
            &server.url("/login"),
            &[
                ("csrf", &csrf),
                ("username", username),
                ("password", password),
            ],
        )
        .await
    }

    /// Approves the consent page.
    pub async fn approve(&self, server: &TestServer, page: &str) -> reqwest::Response {
        let csrf = hidden_field(page, "csrf").expect("the consent page has a CSRF field");
        self.post_form(
            &server.url("/consent"),
            &[("csrf", &csrf), ("decision", "approve")],
        )
        .await
    }

    /// Runs an authorization request through login (and consent, when asked) and returns
    /// the URL the browser was finally sent to, off the issuer.
    pub async fn sign_in(
        &self,
        server: &TestServer,
        authorize_url: &str,
        username: &str,
    ) -> String {
        let response = self.get(authorize_url).await;
        let mut followed = self.follow(&server.issuer, response).await;
        for _ in 0..3 {
            match followed {
                Followed::LeftIssuer(url) => return url,
                Followed::Page { body, .. } if body.contains("name=\"password\"") => {
                    let response = self.submit_login(server, &body, username, PASSWORD).await;
                    followed = self.follow(&server.issuer, response).await;
                }
                Followed::Page { body, .. } if body.contains("name=\"decision\"") => {
                    let response = self.approve(server, &body).await;
                    followed = self.follow(&server.issuer, response).await;
                }
                Followed::Page { status, body } => panic!("unexpected page {status}: {body}"),
            }
        }
        panic!("sign-in did not finish");
    }

    /// Signs in through `authorize_url` and returns the authorization code it ends with.
    pub async fn authorization_code(
        &self,
        server: &TestServer,
        authorize_url: &str,
        username: &str,
    ) -> String {
        let callback = self.sign_in(server, authorize_url, username).await;
        query_param(&callback, "code").unwrap_or_else(|| panic!("no code in {callback}"))
    }
}

/// Where a chain of redirects ended.
#[derive(Debug)]
pub enum Followed {
    /// A redirect to a URL outside the issuer (the client's redirect URI).
    LeftIssuer(String),
    /// A page served by Tessera.
    Page {
        status: reqwest::StatusCode,
        body: String,
    },
}

pub fn location(response: &reqwest::Response) -> Option<String> {
    response
        .headers()
        .get("location")
        .map(|v| v.to_str().unwrap().to_string())
}

/// The value of `<input type="hidden" name="NAME" value="...">` in a page.
pub fn hidden_field(page: &str, name: &str) -> Option<String> {
    let marker = format!("name=\"{name}\" value=\"");
    let start = page.find(&marker)? + marker.len();
    let end = page[start..].find('"')? + start;
    Some(page[start..end].to_string())
}

/// A query parameter of a URL.
pub fn query_param(url: &str, name: &str) -> Option<String> {
    let url = url::Url::parse(url).unwrap();
    url.query_pairs()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}
