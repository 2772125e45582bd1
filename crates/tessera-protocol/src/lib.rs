//! OAuth 2.0 and OpenID Connect as types.
//!
//! This crate owns the vocabulary of the protocols Tessera speaks: request parameters,
//! identifiers, errors, discovery metadata and claims, together with the validation rules
//! the specifications put on them. It performs no I/O and knows nothing of storage or HTTP,
//! so every rule here can be tested from the spec text alone.

pub mod acr;
pub mod admin;
pub mod authorize;
pub mod claims;
pub mod client_assertion;
pub mod client_auth;
pub mod discovery;
pub mod error;
pub mod introspection;
pub mod logout;
pub mod params;
pub mod pkce;
pub mod revocation;
pub mod scope;
pub mod token;
pub mod types;

pub use error::{ErrorCode, OAuthError};
