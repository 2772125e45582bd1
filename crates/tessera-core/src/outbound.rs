//! Requests Tessera makes to URLs a client registered (its `jwks_uri`, its
//! `backchannel_logout_uri`), and to the audit webhook an operator configured.
//!
//! A client registration must not turn Tessera against its own network (server-side
//! request forgery), so every request: is `https` (plain `http` only to loopback, and
//! only when private addresses are allowed); goes only to public addresses, checked after
//! DNS resolution by the resolver that also hands the addresses to the connection, so a
//! second, different answer (DNS rebinding) is never used; uses no proxy; follows no
//! redirect; gives up after [`TIMEOUT`]; and reads at most [`MAX_RESPONSE_BYTES`].
//! The `danger_allow_private_outbound` setting lifts the address rule, for tests and for
//! deployments whose clients live on a private network.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use url::Url;

/// Time allowed for a whole request, connection included.
pub const TIMEOUT: Duration = Duration::from_secs(5);

/// Largest response body read; a JWKS is a few kilobytes.
pub const MAX_RESPONSE_BYTES: usize = 64 * 1024;

/// Why an outbound request was not made or failed. Safe for the operator's log: it holds
/// no token, no response body, and no URL (a registered URL may carry credentials in its
/// userinfo or query, so reqwest's errors are kept without theirs).
#[derive(Debug, thiserror::Error)]
pub enum OutboundError {
    #[error("the URL is malformed")]
    Url,
    #[error("the URL must use https")]
    Scheme,
    #[error("the host resolves to a private or reserved address")]
    ForbiddenAddress,
    #[error("the request timed out after {}s", TIMEOUT.as_secs())]
    Timeout,
    #[error("the connection failed")]
    Connect(#[source] reqwest::Error),
    #[error("the request failed")]
    Request(#[source] reqwest::Error),
    #[error("the response is larger than {MAX_RESPONSE_BYTES} bytes")]
    TooLarge,
    #[error("the answer has status {0}")]
    Status(u16),
    #[error("the HTTP client could not be built")]
    Build(#[source] reqwest::Error),
}

impl OutboundError {
    /// A short, stable name for the audit trail's `cause`.
    pub fn cause(&self) -> &'static str {
        match self {
            Self::Url => "url_malformed",
            Self::Scheme => "scheme_refused",
            Self::ForbiddenAddress => "forbidden_address",
            Self::Timeout => "timeout",
            Self::Connect(_) => "connect_failed",
            Self::Request(_) => "request_failed",
            Self::TooLarge => "too_large",
            Self::Status(_) => "http_status",
            Self::Build(_) => "client_unavailable",
        }
    }

    /// Classifies a reqwest failure, dropping its URL. The resolver's own refusal comes
    /// back wrapped in a connect error, so the source chain is searched for it first.
    fn from_reqwest(err: reqwest::Error) -> Self {
        let mut source: Option<&(dyn std::error::Error + 'static)> = Some(&err);
        while let Some(current) = source {
            match current.downcast_ref::<OutboundError>() {
                Some(OutboundError::ForbiddenAddress) => return Self::ForbiddenAddress,
                Some(OutboundError::Url) => return Self::Url,
                _ => source = current.source(),
            }
        }

        if err.is_timeout() {
            Self::Timeout
        } else if err.is_connect() {
            Self::Connect(err.without_url())
        } else {
            Self::Request(err.without_url())
        }
    }
}

/// The HTTP client for client-supplied URLs.
#[derive(Clone, Debug)]
pub struct OutboundClient {
    http: reqwest::Client,
    allow_private: bool,
}

impl OutboundClient {
    pub fn new(allow_private: bool) -> Result<Self, OutboundError> {
        let http = reqwest::Client::builder()
            .timeout(TIMEOUT)
            .connect_timeout(TIMEOUT)
            .redirect(reqwest::redirect::Policy::none())
            // A proxy would resolve the name itself, out of reach of the address check.
            .no_proxy()
            .dns_resolver(Arc::new(PublicOnlyResolver { allow_private }))
            .user_agent(concat!("tessera/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(OutboundError::Build)?;
        Ok(Self {
            http,
            allow_private,
        })
    }

    /// GETs `url` and returns its body, which must answer 200.
    pub async fn get(&self, url: &str) -> Result<Vec<u8>, OutboundError> {
        let url = self.check_url(url)?;
        let response = self
            .http
            .get(url)
            .header(reqwest::header::ACCEPT, "application/json")
            .send()
            .await
            .map_err(OutboundError::from_reqwest)?;
        if response.status() != reqwest::StatusCode::OK {
            return Err(OutboundError::Status(response.status().as_u16()));
        }
        read_limited(response).await
    }

    /// POSTs `form` as `application/x-www-form-urlencoded` and returns the status. The
    /// body of the answer is read (within the limit) and dropped.
    pub async fn post_form(&self, url: &str, form: &[(&str, &str)]) -> Result<u16, OutboundError> {
        let url = self.check_url(url)?;
        let response = self
            .http
            .post(url)
            .form(form)
            .send()
            .await
            .map_err(OutboundError::from_reqwest)?;
        let status = response.status().as_u16();
        read_limited(response).await?;
        Ok(status)
    }

    /// POSTs `body` as `content_type` with the extra `headers`, and returns the status. The
    /// body of the answer is read (within the limit) and dropped.
    pub async fn post_bytes(
        &self,
        url: &str,
        content_type: &str,
        headers: &[(&str, &str)],
        body: Vec<u8>,
    ) -> Result<u16, OutboundError> {
        let url = self.check_url(url)?;
        let mut request = self
            .http
            .post(url)
            .header(reqwest::header::CONTENT_TYPE, content_type)
            .body(body);
        for &(name, value) in headers {
            request = request.header(name, value);
        }
        let response = request.send().await.map_err(OutboundError::from_reqwest)?;
        let status = response.status().as_u16();
        read_limited(response).await?;
        Ok(status)
    }

    /// The checks that need no DNS: scheme, and the address when the host is a literal
    /// (reqwest does not consult the resolver for IP literals).
    fn check_url(&self, url: &str) -> Result<Url, OutboundError> {
        let url = Url::parse(url).map_err(|_| OutboundError::Url)?;

        let loopback_http = url.scheme() == "http"
            && self.allow_private
            && tessera_protocol::types::is_loopback(&url);
        if url.scheme() != "https" && !loopback_http {
            return Err(OutboundError::Scheme);
        }

        let literal = match url.host() {
            Some(url::Host::Ipv4(ip)) => Some(IpAddr::V4(ip)),
            Some(url::Host::Ipv6(ip)) => Some(IpAddr::V6(ip)),
            Some(url::Host::Domain(_)) => None,
            None => return Err(OutboundError::Url),
        };
        if let Some(ip) = literal {
            if !self.allow_private && !is_public(ip) {
                return Err(OutboundError::ForbiddenAddress);
            }
        }

        Ok(url)
    }
}

/// Reads a body chunk by chunk, stopping as soon as it passes the limit: a declared
/// `Content-Length` is not trusted, and a body without one is not read to the end first.
async fn read_limited(mut response: reqwest::Response) -> Result<Vec<u8>, OutboundError> {
    if response
        .content_length()
        .is_some_and(|len| len > MAX_RESPONSE_BYTES as u64)
    {
        return Err(OutboundError::TooLarge);
    }
    let mut body = Vec::new();
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(OutboundError::from_reqwest)?
    {
        if body.len() + chunk.len() > MAX_RESPONSE_BYTES {
            return Err(OutboundError::TooLarge);
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// Resolves names with the system resolver and refuses the answer if any address in it
/// is not public. The connection uses exactly the addresses returned here, so the check
/// and the use cannot see different answers.
struct PublicOnlyResolver {
    allow_private: bool,
}

impl Resolve for PublicOnlyResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let allow_private = self.allow_private;
        Box::pin(async move {
            let host = name.as_str().to_string();
            let addrs: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            if addrs.is_empty() {
                return Err(
                    Box::new(OutboundError::Url) as Box<dyn std::error::Error + Send + Sync>
                );
            }
            if !allow_private && addrs.iter().any(|addr| !is_public(addr.ip())) {
                return Err(Box::new(OutboundError::ForbiddenAddress) as _);
            }
            Ok(Box::new(addrs.into_iter()) as Addrs)
        })
    }
}

/// Whether `ip` is a public unicast address that a client-supplied URL may reach.
///
/// Refused: unspecified, loopback, private (RFC 1918), shared/CGNAT (RFC 6598),
/// link-local, multicast, broadcast, documentation, benchmarking and reserved IPv4; and
/// for IPv6 the same kinds (RFC 6890), unique-local (RFC 4193), and any address that
/// embeds an IPv4 address (v4-mapped, v4-compatible, NAT64, 6to4), judged by that address;
/// and the whole local-use NAT64 prefix (RFC 8215).
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(ip) => is_public_v4(ip),
        IpAddr::V6(ip) => is_public_v6(ip),
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    let refused = a == 0 // "this network", unspecified (RFC 1122)
        || a == 10 // private (RFC 1918)
        || (a == 100 && (64..128).contains(&b)) // shared address space, CGNAT (RFC 6598)
        || a == 127 // loopback
        || (a == 169 && b == 254) // link-local (RFC 3927)
        || (a == 172 && (16..32).contains(&b)) // private (RFC 1918)
        || (a == 192 && b == 0 && c == 0) // IETF protocol assignments (RFC 6890)
        || (a == 192 && b == 0 && c == 2) // documentation (RFC 5737)
        || (a == 192 && b == 88 && c == 99) // 6to4 relay anycast (RFC 7526)
        || (a == 192 && b == 168) // private (RFC 1918)
        || (a == 198 && (18..20).contains(&b)) // benchmarking (RFC 2544)
        || (a == 198 && b == 51 && c == 100) // documentation (RFC 5737)
        || (a == 203 && b == 0 && c == 113) // documentation (RFC 5737)
        || a >= 224; // multicast (224/4), reserved (240/4), broadcast
    !refused
}

fn is_public_v6(ip: Ipv6Addr) -> bool {
    let segments = ip.segments();
    if ip.is_unspecified() || ip.is_loopback() {
        return false;
    }

    // An embedded IPv4 address reaches that address: judge it as IPv4.
    if let Some(v4) = embedded_v4(ip) {
        return is_public_v4(v4);
    }

    let refused = (segments[0] & 0xfe00) == 0xfc00 // unique local (RFC 4193)
        || (segments[0] & 0xffc0) == 0xfe80 // link-local
        || (segments[0] & 0xffc0) == 0xfec0 // site-local, deprecated (RFC 3879)
        || (segments[0] & 0xff00) == 0xff00 // multicast
        || (segments[0] == 0x2001 && segments[1] == 0x0db8) // documentation (RFC 3849)
        || (segments[0] == 0x2001 && segments[1] < 0x0200) // IETF protocol assignments, Teredo
        || (segments[0] == 0x0100 && segments[1..4] == [0, 0, 0]) // discard (RFC 6666)
        || is_local_use_nat64(segments);
    !refused
}

/// The local-use IPv4/IPv6 translation prefix `64:ff9b:1::/48` (RFC 8215 §3). Each network
/// picks its own prefix length inside it (RFC 6052 §2.2), so where the IPv4 address sits
/// cannot be known from outside: the whole prefix is refused, whatever it seems to embed.
fn is_local_use_nat64(segments: [u16; 8]) -> bool {
    segments[..3] == [0x0064, 0xff9b, 0x0001]
}

/// The IPv4 address inside a v4-mapped (`::ffff:a.b.c.d`), v4-compatible (`::a.b.c.d`),
/// NAT64 (`64:ff9b::a.b.c.d`, RFC 6052) or 6to4 (`2002:aabb:ccdd::`, RFC 3056) address.
fn embedded_v4(ip: Ipv6Addr) -> Option<Ipv4Addr> {
    let s = ip.segments();
    let low = || Ipv4Addr::new((s[6] >> 8) as u8, s[6] as u8, (s[7] >> 8) as u8, s[7] as u8);
    if s[..5] == [0, 0, 0, 0, 0] && (s[5] == 0xffff || s[5] == 0) {
        return Some(low());
    }
    if s[0] == 0x0064 && s[1] == 0xff9b && s[2..6] == [0, 0, 0, 0] {
        return Some(low());
    }
    if s[0] == 0x2002 {
        return Some(Ipv4Addr::new(
            (s[1] >> 8) as u8,
            s[1] as u8,
            (s[2] >> 8) as u8,
            s[2] as u8,
        ));
    }
    None
}

#[cfg(test)]
mod tests;
