//! Sessions: opened at login, sliding (each use keeps it alive, up to an idle timeout), never
//! longer than a maximum (long enough for a 24 h garde), listed and revoked by their owner.
//!
//! A session is a random token the client holds; the store keeps only its SHA-256. Its public id
//! (to list and revoke it) is the first 16 hex digits of that hash: it cannot be turned back
//! into the token.

use serde::Serialize;
use utoipa::ToSchema;

use crate::auth::{new_token, token_hash, Principal};
use crate::domain::Role;
use crate::error::{Error, Result};
use crate::store::{Db, Ts, WriteTx};

/// How long sessions live.
#[derive(Debug, Clone, Copy)]
pub struct SessionPolicy {
    /// A session unused this long ends.
    pub idle: chrono::Duration,
    /// No session lives longer than this after login, used or not.
    pub max: chrono::Duration,
}

impl Default for SessionPolicy {
    /// Eight idle hours (a quiet night between two visits), 26 hours at most (a 24 h garde and
    /// its handover).
    fn default() -> Self {
        SessionPolicy {
            idle: chrono::Duration::hours(8),
            max: chrono::Duration::hours(26),
        }
    }
}

/// Uses closer together than this do not write `last_seen_at` again: a minute, or a tenth of
/// the idle timeout when that is shorter.
fn touch_every(policy: SessionPolicy) -> chrono::Duration {
    (policy.idle / 10).min(chrono::Duration::seconds(60))
}
/// What is kept of the browser's `User-Agent`.
const USER_AGENT_MAX: usize = 200;

/// Where a login came from, kept with its session.
#[derive(Debug, Clone, Default)]
pub struct Origin {
    pub address: Option<String>,
    pub user_agent: Option<String>,
}

/// A session just opened: the token to give the client (only this once) and when it ends if unused.
pub struct Opened {
    pub token: String,
    pub expires_at: Ts,
}

/// Opens a session for `user_id` inside the login's write. `restricted`: the account must enrol
/// a second factor before anything else.
pub async fn open(
    tx: &mut WriteTx,
    user_id: i64,
    policy: SessionPolicy,
    origin: &Origin,
    restricted: bool,
) -> Result<Opened> {
    let token = new_token();
    let now = tx.now();
    let expires_at = now.plus(policy.max);
    let user_agent = origin
        .user_agent
        .as_deref()
        .map(|ua| ua.chars().take(USER_AGENT_MAX).collect::<String>());
    sqlx::query(
        "INSERT INTO sessions (token_hash, user_id, created_at, expires_at, last_seen_at, address, user_agent, restricted_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(token_hash(&token))
    .bind(user_id)
    .bind(now)
    .bind(expires_at)
    .bind(now)
    .bind(origin.address.as_deref())
    .bind(user_agent)
    .bind(restricted.then_some(now))
    .execute(tx.conn())
    .await?;
    Ok(Opened {
        token,
        expires_at: policy.ends(now, expires_at),
    })
}

impl SessionPolicy {
    /// When a session last used at `last_seen`, with its hard end `expires_at`, ends if unused.
    fn ends(&self, last_seen: Ts, expires_at: Ts) -> Ts {
        last_seen.plus(self.idle).min(expires_at)
    }
}

#[derive(sqlx::FromRow)]
struct SessionUser {
    user_id: i64,
    username: String,
    display_name: String,
    role: Role,
    institution_id: Option<i64>,
    network_id: Option<i64>,
    last_seen_at: Ts,
    restricted_at: Option<Ts>,
}

/// Whether a use keeps the session alive: a request does, the re-checks of an open event stream
/// do not (a screen left open is not someone using it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Use {
    Request,
    Recheck,
}

/// The person behind a session token hash, if the session is live (not revoked, not past its
/// maximum, used within the idle timeout) and the account enabled. A request keeps it alive.
pub async fn principal(
    db: &Db,
    hash: &str,
    policy: SessionPolicy,
    used: Use,
) -> Result<Option<Principal>> {
    let now = Ts::now();
    let idle_since = now.plus(-policy.idle);
    let row: Option<SessionUser> = sqlx::query_as(
        "SELECT u.id AS user_id, u.username, u.display_name, u.role, u.institution_id, u.network_id, \
         s.last_seen_at, s.restricted_at \
         FROM sessions s JOIN users u ON u.id = s.user_id \
         WHERE s.token_hash = $1 AND s.revoked_at IS NULL AND s.expires_at > $2 AND s.last_seen_at > $3 \
         AND u.disabled_at IS NULL",
    )
    .bind(hash)
    .bind(now)
    .bind(idle_since)
    .fetch_optional(db.pool())
    .await?;
    let Some(u) = row else { return Ok(None) };
    if used == Use::Request && u.last_seen_at.plus(touch_every(policy)) < now {
        // Bookkeeping, not an action of the person: no audit row. A lost race is harmless.
        sqlx::query(
            "UPDATE sessions SET last_seen_at = $1 WHERE token_hash = $2 AND last_seen_at < $1",
        )
        .bind(now)
        .bind(hash)
        .execute(db.pool())
        .await?;
    }
    let delegators = if u.role == Role::Assistant {
        sqlx::query_scalar(
            "SELECT doctor_id FROM delegations \
             WHERE assistant_id = $1 AND revoked_at IS NULL AND accepted_at IS NOT NULL",
        )
        .bind(u.user_id)
        .fetch_all(db.pool())
        .await?
    } else {
        Vec::new()
    };
    Ok(Some(Principal {
        user_id: u.user_id,
        username: u.username,
        display_name: u.display_name,
        role: u.role,
        institution_id: u.institution_id,
        network_id: u.network_id,
        delegators,
        token_hash: hash.to_owned(),
        restricted: u.restricted_at.is_some(),
    }))
}

/// One of a person's live sessions, as she sees it in her list.
#[derive(Serialize, ToSchema)]
pub struct SessionView {
    /// The session's public id (not its token).
    pub id: String,
    pub created_at: Ts,
    pub last_seen_at: Ts,
    /// When it ends if unused from now on.
    pub expires_at: Ts,
    /// The address it was opened from.
    pub address: Option<String>,
    /// The browser or app it was opened from.
    pub user_agent: Option<String>,
    /// The session this request comes from.
    pub current: bool,
}

fn public_id(hash: &str) -> &str {
    &hash[..16.min(hash.len())]
}

/// The live sessions of the person asking, newest first.
pub async fn list(db: &Db, who: &Principal, policy: SessionPolicy) -> Result<Vec<SessionView>> {
    #[derive(sqlx::FromRow)]
    struct Row {
        token_hash: String,
        created_at: Ts,
        last_seen_at: Ts,
        expires_at: Ts,
        address: Option<String>,
        user_agent: Option<String>,
    }
    let now = Ts::now();
    let rows: Vec<Row> = sqlx::query_as(
        "SELECT token_hash, created_at, last_seen_at, expires_at, address, user_agent FROM sessions \
         WHERE user_id = $1 AND revoked_at IS NULL AND expires_at > $2 AND last_seen_at > $3 \
         ORDER BY created_at DESC",
    )
    .bind(who.user_id)
    .bind(now)
    .bind(now.plus(-policy.idle))
    .fetch_all(db.pool())
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| SessionView {
            id: public_id(&r.token_hash).to_owned(),
            current: r.token_hash == who.token_hash,
            expires_at: policy.ends(r.last_seen_at, r.expires_at),
            created_at: r.created_at,
            last_seen_at: r.last_seen_at,
            address: r.address,
            user_agent: r.user_agent,
        })
        .collect())
}

/// Ends one of the person's own sessions (`id` from her list); its token stops working at once.
pub async fn revoke(db: &Db, who: &Principal, id: &str) -> Result<()> {
    if id.len() != 16 || !id.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(Error::not_found(format!("session {id}")));
    }
    let mut tx = db.write(who.actor()).await?;
    let done = sqlx::query(
        "UPDATE sessions SET revoked_at = $1 \
         WHERE user_id = $2 AND substr(token_hash, 1, 16) = $3 AND revoked_at IS NULL",
    )
    .bind(tx.now())
    .bind(who.user_id)
    .bind(id.to_ascii_lowercase())
    .execute(tx.conn())
    .await?;
    if done.rows_affected() == 0 {
        return Err(Error::not_found(format!("session {id}")));
    }
    tx.audit(
        "session.revoke",
        "user",
        who.user_id,
        serde_json::json!({"session": id}),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Ends every session of `user_id` but `keep` (a token hash), inside the caller's write.
pub async fn revoke_all_but(tx: &mut WriteTx, user_id: i64, keep: Option<&str>) -> Result<u64> {
    let done = sqlx::query(
        "UPDATE sessions SET revoked_at = $1 \
         WHERE user_id = $2 AND revoked_at IS NULL AND (token_hash <> $3 OR $3 IS NULL)",
    )
    .bind(tx.now())
    .bind(user_id)
    .bind(keep)
    .execute(tx.conn())
    .await?;
    Ok(done.rows_affected())
}

/// Lifts the restriction of a session once its account enrolled a second factor.
pub async fn lift_restriction(tx: &mut WriteTx, hash: &str) -> Result<()> {
    sqlx::query("UPDATE sessions SET restricted_at = NULL WHERE token_hash = $1")
        .bind(hash)
        .execute(tx.conn())
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_session_ends_at_its_idle_timeout_or_its_maximum_whichever_comes_first() {
        let p = SessionPolicy::default();
        let login = Ts::parse("2026-12-03T18:00:00Z").unwrap();
        let hard = login.plus(p.max);
        // Used at 19:00: ends at 03:00 if unused.
        let used = login.plus(chrono::Duration::hours(1));
        assert_eq!(p.ends(used, hard), used.plus(p.idle));
        // Used 25 h after login: the maximum comes first.
        let late = login.plus(chrono::Duration::hours(25));
        assert_eq!(p.ends(late, hard), hard);
    }

    #[test]
    fn public_ids_are_a_prefix_of_the_hash_never_the_token() {
        let token = new_token();
        let hash = token_hash(&token);
        assert_eq!(public_id(&hash).len(), 16);
        assert!(hash.starts_with(public_id(&hash)));
        assert!(!token.contains(public_id(&hash)));
    }
}
