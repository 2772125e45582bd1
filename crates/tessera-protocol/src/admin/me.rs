//! `GET /admin/v1/me`: who the API takes the caller for, and what it may do.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// The verified caller of an admin call.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct Caller {
    /// `user` for a person, `client` for a service client acting on its own behalf.
    pub kind: String,
    /// The person's `sub`, or the service client's id.
    pub id: String,
    /// The client the token was issued to.
    pub client_id: String,
    /// The admin scopes this caller holds now: the token's, cut to what its holder still has.
    pub scopes: Vec<String>,
}
