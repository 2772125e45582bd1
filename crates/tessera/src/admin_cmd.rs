//! `tessera admin`: the first admin, roles, and the admin API's OpenAPI description.

use secrecy::SecretString;
use tessera_core::accounts::{self, AccountError, NewUserRequest};
use tessera_core::admin::grants;
use tessera_core::password::PasswordHasher;
use tessera_core::unix_now;
use tessera_core::username::username_key;

use crate::config::Config;

/// `tessera admin bootstrap`: gives `username` the admin role, creating the account first
/// (with a password read from the prompt or stdin) when it does not exist.
pub async fn bootstrap(
    config: &Config,
    username: &str,
    password: impl FnOnce() -> anyhow::Result<SecretString>,
) -> anyhow::Result<()> {
    let store = crate::open_store(config).await?;
    let now = unix_now();
    let exists = store
        .user_by_username_key(&username_key(username).map_err(AccountError::from)?)
        .await?
        .is_some();
    if !exists {
        let hasher = PasswordHasher::new(1)?;
        let policy = config.settings()?.password_policy();
        let request = NewUserRequest {
            username,
            email: None,
            display_name: None,
            password: password()?,
        };
        let sub = accounts::create_user(&store, &hasher, &policy, request, now).await?;
        println!("user created: sub {sub}");
    }
    grants::bootstrap(&store, username, now).await?;
    println!(
        "{username} holds the admin role. Admin calls need a token from a login with a second \
         factor: register a client whose --scope lists the admin scopes it may ask for (and \
         --mfa required), log in through it and enrol an authenticator."
    );
    Ok(())
}

/// `tessera admin grant-role` and `revoke-role`.
pub async fn change_role(
    config: &Config,
    username: &str,
    role: &str,
    grant: bool,
) -> anyhow::Result<()> {
    let store = crate::open_store(config).await?;
    let now = unix_now();
    if grant {
        grants::grant_role(&store, username, role, now).await?;
        println!("{username} holds {role}");
    } else {
        grants::revoke_role(&store, username, role, now).await?;
        println!("{username} no longer holds {role}; their tokens lose its scopes at once");
    }
    Ok(())
}

/// `tessera admin openapi`: the description as checked into docs/admin-openapi.json.
pub fn openapi() -> anyhow::Result<()> {
    let json = tessera_server::admin_openapi().to_pretty_json()?;
    println!("{json}");
    Ok(())
}
