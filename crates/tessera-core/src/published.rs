//! Documents served verbatim (discovery, JWKS): their bytes, prepared once, and a strong
//! entity tag for conditional requests.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use bytes::Bytes;
use sha2::{Digest, Sha256};

/// A document and its entity tag. Cloning shares the bytes.
#[derive(Clone, Debug)]
pub struct Published {
    body: Bytes,
    etag: String,
}

impl Published {
    /// RFC 9110 §8.8.3: a strong entity tag changes whenever the bytes do. It is taken from a
    /// hash of the bytes rather than a counter, so every instance behind a load balancer
    /// gives the same document the same tag.
    pub fn new(body: impl Into<Bytes>) -> Self {
        let body = body.into();
        let digest = Sha256::digest(&body);
        let etag = format!("\"{}\"", URL_SAFE_NO_PAD.encode(&digest[..16]));
        Self { body, etag }
    }

    pub fn body(&self) -> Bytes {
        self.body.clone()
    }

    /// The entity tag, quotes included, as it goes into an `ETag` header.
    pub fn etag(&self) -> &str {
        &self.etag
    }
}

#[cfg(test)]
mod tests;
