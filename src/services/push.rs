//! Web Push (#15): a visit given to a doctor rings his phone even when the app is closed.
//!
//! The association configures a VAPID key (`chevet push keygen`, then `serve --vapid-key`);
//! a doctor's browser subscribes with the hub's public key and gives its endpoint (RFC 8030)
//! and its keys. When a visit is assigned to him, one outbox row per subscription is written in
//! the same transaction (`enqueue_in`); the hub's worker (`deliver_due`) encrypts the message for
//! the browser (RFC 8291, aes128gcm), signs a VAPID token (RFC 8292, ES256) and POSTs it to the
//! endpoint. A ring that could not be sent within `RING_TTL` is dropped (too late to matter);
//! an endpoint the push service says is gone (404, 410) is removed.
//!
//! The message names no patient: the urgency, the motive and the town, as the in-app alert
//! (push services are third parties, and a locked screen shows it). Endpoints are called through
//! `nursing::outbound` (https, public hosts), like every URL a client gives the hub.

use std::time::Duration;

use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use base64::Engine;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use web_push_native::p256;

use p256::ecdsa::signature::Signer;
use p256::ecdsa::{Signature, SigningKey};
use p256::pkcs8::{DecodePrivateKey, EncodePrivateKey, LineEnding};

use crate::auth::Principal;
use crate::domain::retry::backoff;
use crate::error::{Error, Reason, Result};
use crate::nursing::outbound::Outbound;
use crate::store::{Db, Ts, WriteTx};

/// A ring not delivered within this time is dropped: the dispatcher sees « non vue » anyway.
pub const RING_TTL: chrono::Duration = chrono::Duration::minutes(10);
/// How long a claim on a row being sent lasts (a hub that died mid-send).
const CLAIM: chrono::Duration = chrono::Duration::seconds(30);

/// The association's VAPID key and contact.
#[derive(Clone)]
pub struct Vapid {
    key: SigningKey,
    /// `mailto:` or `https:` contact the push services may use (RFC 8292 `sub`).
    pub subject: String,
}

impl std::fmt::Debug for Vapid {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Vapid")
            .field("public_key", &self.public_key())
            .field("subject", &self.subject)
            .finish()
    }
}

impl Vapid {
    /// A new key, as PEM (PKCS#8), for `chevet push keygen`.
    pub fn generate_pem() -> String {
        let key = SigningKey::random(&mut rand::rngs::OsRng);
        key.to_pkcs8_pem(LineEnding::LF)
            .map(|pem| pem.to_string())
            .unwrap_or_default()
    }

    /// Reads a P-256 private key in PEM: PKCS#8 (`chevet push keygen`, `openssl genpkey`) or
    /// SEC1 (`openssl ecparam -genkey`).
    pub fn from_pem(pem: &str, subject: &str) -> std::result::Result<Vapid, String> {
        if !(subject.starts_with("mailto:") || subject.starts_with("https://")) {
            return Err("the VAPID subject must be a mailto: or https: contact".into());
        }
        let key = SigningKey::from_pkcs8_pem(pem)
            .or_else(|_| p256::SecretKey::from_sec1_pem(pem).map(SigningKey::from))
            .map_err(|_| "not a P-256 private key in PEM (PKCS#8 or SEC1)".to_string())?;
        Ok(Vapid {
            key,
            subject: subject.to_owned(),
        })
    }

    /// The public key browsers subscribe with (`applicationServerKey`): the uncompressed point,
    /// base64url.
    pub fn public_key(&self) -> String {
        let point = self.key.verifying_key().to_encoded_point(false);
        B64.encode(point.as_bytes())
    }

    /// The `Authorization` header for a request to `endpoint`'s push service.
    fn authorization(&self, endpoint: &reqwest::Url, now: i64) -> String {
        let audience = endpoint.origin().ascii_serialization();
        let header = B64.encode(br#"{"typ":"JWT","alg":"ES256"}"#);
        let claims = B64.encode(
            serde_json::json!({"aud": audience, "exp": now + 12 * 3600, "sub": self.subject})
                .to_string(),
        );
        let signing_input = format!("{header}.{claims}");
        let signature: Signature = self.key.sign(signing_input.as_bytes());
        format!(
            "vapid t={signing_input}.{}, k={}",
            B64.encode(signature.to_bytes()),
            self.public_key()
        )
    }
}

/// A browser's push subscription, as `PushSubscription.toJSON()` gives it.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewSubscription {
    /// The push service's URL for this browser (https).
    #[schema(max_length = 2000)]
    pub endpoint: String,
    /// Ignored (some browsers send it, always null).
    #[serde(default, rename = "expirationTime")]
    pub expiration_time: Option<f64>,
    pub keys: SubscriptionKeys,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SubscriptionKeys {
    /// The browser's P-256 public key, base64url (65 bytes, uncompressed).
    #[schema(max_length = 200)]
    pub p256dh: String,
    /// The browser's authentication secret, base64url (16 bytes).
    #[schema(max_length = 100)]
    pub auth: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SubscriptionView {
    pub id: i64,
    pub created_at: Ts,
}

fn decode(field: &str, value: &str, len: usize) -> Result<Vec<u8>> {
    let bytes = B64
        .decode(value.trim_end_matches('='))
        .map_err(|_| Error::invalid(field, "not base64url").because(Reason::Format))?;
    if bytes.len() != len {
        return Err(
            Error::invalid(field, format!("must be {len} bytes, not {}", bytes.len()))
                .because(Reason::Format),
        );
    }
    Ok(bytes)
}

/// Records `who`'s browser subscription (or moves it to `who`: the same browser, another login).
pub async fn subscribe(
    db: &Db,
    who: &Principal,
    outbound: Outbound,
    s: NewSubscription,
) -> Result<SubscriptionView> {
    let endpoint = outbound
        .check(&s.endpoint)
        .map_err(|why| Error::invalid("endpoint", why))?;
    let point = decode("keys.p256dh", &s.keys.p256dh, 65)?;
    p256::PublicKey::from_sec1_bytes(&point).map_err(|_| {
        Error::invalid("keys.p256dh", "not a point of P-256").because(Reason::Format)
    })?;
    decode("keys.auth", &s.keys.auth, 16)?;
    let mut tx = db.write(who.actor()).await?;
    let now = tx.now();
    let existing: Option<i64> =
        sqlx::query_scalar("SELECT id FROM push_subscriptions WHERE endpoint = $1")
            .bind(endpoint.as_str())
            .fetch_optional(tx.conn())
            .await?;
    let id = match existing {
        Some(id) => {
            sqlx::query(
                "UPDATE push_subscriptions SET user_id = $1, p256dh = $2, auth = $3 WHERE id = $4",
            )
            .bind(who.user_id)
            .bind(&s.keys.p256dh)
            .bind(&s.keys.auth)
            .bind(id)
            .execute(tx.conn())
            .await?;
            id
        }
        None => {
            sqlx::query_scalar(
                "INSERT INTO push_subscriptions (user_id, endpoint, p256dh, auth, created_at) \
                 VALUES ($1, $2, $3, $4, $5) RETURNING id",
            )
            .bind(who.user_id)
            .bind(endpoint.as_str())
            .bind(&s.keys.p256dh)
            .bind(&s.keys.auth)
            .bind(now)
            .fetch_one(tx.conn())
            .await?
        }
    };
    // The endpoint is the browser's address at its push service: not in the audit trail.
    tx.audit(
        "push.subscribed",
        "push_subscription",
        id,
        serde_json::json!({"host": endpoint.host_str()}),
    )
    .await?;
    tx.commit().await?;
    Ok(SubscriptionView {
        id,
        created_at: now,
    })
}

/// Removes one of `who`'s subscriptions (logging out, or turning alerts off).
pub async fn unsubscribe(db: &Db, who: &Principal, id: i64) -> Result<()> {
    let mut tx = db.write(who.actor()).await?;
    sqlx::query("DELETE FROM push_outbox WHERE subscription_id = $1")
        .bind(id)
        .execute(tx.conn())
        .await?;
    let done = sqlx::query("DELETE FROM push_subscriptions WHERE id = $1 AND user_id = $2")
        .bind(id)
        .bind(who.user_id)
        .execute(tx.conn())
        .await?;
    if done.rows_affected() == 0 {
        return Err(Error::not_found(format!("push subscription {id}")));
    }
    tx.audit(
        "push.unsubscribed",
        "push_subscription",
        id,
        serde_json::json!({}),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// In the transaction that gives `visit` to `doctor`: a ring owed to each of his browsers.
pub async fn enqueue_in(tx: &mut WriteTx, doctor: i64, visit: i64) -> Result<()> {
    let now = tx.now();
    sqlx::query(
        "INSERT INTO push_outbox (subscription_id, visit_id, created_at, expires_at, next_attempt_at) \
         SELECT id, $1, $2, $3, $2 FROM push_subscriptions WHERE user_id = $4",
    )
    .bind(visit)
    .bind(now)
    .bind(now.plus(RING_TTL))
    .bind(doctor)
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// What the phone shows: as the in-app alert, no patient name.
#[derive(Debug, Serialize, Deserialize, PartialEq)]
pub struct Ring {
    pub visit_id: i64,
    pub title: String,
    pub body: String,
}

#[derive(sqlx::FromRow)]
struct Owed {
    id: i64,
    attempts: i64,
    subscription_id: i64,
    endpoint: String,
    p256dh: String,
    auth: String,
    visit_id: i64,
    user_id: i64,
    doctor_id: Option<i64>,
    status: String,
    urgency: i64,
    motive: String,
    city: String,
}

/// Sends the rings that are due; returns how long until the next try.
pub async fn deliver_due(
    db: &Db,
    vapid: &Vapid,
    client: &reqwest::Client,
    outbound: Outbound,
) -> Result<Duration> {
    loop {
        let now = Ts::now();
        sqlx::query("DELETE FROM push_outbox WHERE expires_at < $1")
            .bind(now)
            .execute(db.pool())
            .await?;
        let due: Option<i64> = sqlx::query_scalar(
            "SELECT id FROM push_outbox WHERE next_attempt_at <= $1 \
             AND (claimed_until IS NULL OR claimed_until < $1) ORDER BY id LIMIT 1",
        )
        .bind(now)
        .fetch_optional(db.pool())
        .await?;
        let Some(id) = due else {
            let next: Option<Ts> =
                sqlx::query_scalar("SELECT MIN(next_attempt_at) FROM push_outbox")
                    .fetch_one(db.pool())
                    .await?;
            let wait = next
                .map(|t| (t.0 - now.0).to_std().unwrap_or_default())
                .unwrap_or(Duration::from_secs(30));
            return Ok(wait.clamp(Duration::from_millis(50), Duration::from_secs(30)));
        };
        let claimed = sqlx::query(
            "UPDATE push_outbox SET claimed_until = $1, attempts = attempts + 1 WHERE id = $2 \
             AND next_attempt_at <= $3 AND (claimed_until IS NULL OR claimed_until < $3)",
        )
        .bind(now.plus(CLAIM))
        .bind(id)
        .bind(now)
        .execute(db.pool())
        .await?
        .rows_affected();
        if claimed == 0 {
            continue; // another hub took it
        }
        let owed: Option<Owed> = sqlx::query_as(
            "SELECT o.id, o.attempts, o.subscription_id, s.endpoint, s.p256dh, s.auth, o.visit_id, \
             s.user_id, v.doctor_id, v.status, v.urgency, c.motive, c.city \
             FROM push_outbox o JOIN push_subscriptions s ON s.id = o.subscription_id \
             JOIN visits v ON v.id = o.visit_id JOIN calls c ON c.id = v.call_id WHERE o.id = $1",
        )
        .bind(id)
        .fetch_optional(db.pool())
        .await?;
        let Some(owed) = owed else { continue };
        // Given to another meanwhile, or already under way: the ring is moot.
        if owed.doctor_id != Some(owed.user_id) || owed.status != "assigned" {
            drop_row(db, owed.id).await?;
            continue;
        }
        let ring = Ring {
            visit_id: owed.visit_id,
            title: format!("Nouvelle visite P{}", owed.urgency),
            body: format!("{} · {}", owed.motive, owed.city),
        };
        match send(vapid, client, outbound, &owed, &ring).await {
            Sent::Ok => {
                drop_row(db, owed.id).await?;
                sqlx::query("UPDATE push_subscriptions SET last_ok_at = $1 WHERE id = $2")
                    .bind(Ts::now())
                    .bind(owed.subscription_id)
                    .execute(db.pool())
                    .await?;
            }
            Sent::Gone => {
                tracing::info!(
                    subscription = owed.subscription_id,
                    "push subscription gone: removed"
                );
                let mut tx = db.write(crate::store::Actor::SYSTEM).await?;
                sqlx::query("DELETE FROM push_outbox WHERE subscription_id = $1")
                    .bind(owed.subscription_id)
                    .execute(tx.conn())
                    .await?;
                sqlx::query("DELETE FROM push_subscriptions WHERE id = $1")
                    .bind(owed.subscription_id)
                    .execute(tx.conn())
                    .await?;
                tx.audit(
                    "push.gone",
                    "push_subscription",
                    owed.subscription_id,
                    serde_json::json!({}),
                )
                .await?;
                tx.commit().await?;
            }
            Sent::Retry(why) => {
                tracing::warn!(
                    subscription = owed.subscription_id,
                    attempt = owed.attempts,
                    "push not delivered: {why}"
                );
                let wait = backoff(
                    Duration::from_secs(2),
                    Duration::from_secs(60),
                    owed.attempts,
                );
                sqlx::query(
                    "UPDATE push_outbox SET next_attempt_at = $1, claimed_until = NULL, last_error = $2 WHERE id = $3",
                )
                .bind(Ts::now().plus(chrono::Duration::from_std(wait).unwrap_or_default()))
                .bind(why)
                .bind(owed.id)
                .execute(db.pool())
                .await?;
            }
        }
    }
}

async fn drop_row(db: &Db, id: i64) -> Result<()> {
    sqlx::query("DELETE FROM push_outbox WHERE id = $1")
        .bind(id)
        .execute(db.pool())
        .await?;
    Ok(())
}

enum Sent {
    Ok,
    /// The push service no longer knows this browser.
    Gone,
    Retry(String),
}

async fn send(
    vapid: &Vapid,
    client: &reqwest::Client,
    outbound: Outbound,
    owed: &Owed,
    ring: &Ring,
) -> Sent {
    let endpoint = match outbound.check(&owed.endpoint) {
        Ok(u) => u,
        Err(why) => return Sent::Retry(format!("endpoint refused: {why}")),
    };
    let keys = B64
        .decode(owed.p256dh.trim_end_matches('='))
        .ok()
        .and_then(|k| p256::PublicKey::from_sec1_bytes(&k).ok());
    let auth = B64
        .decode(owed.auth.trim_end_matches('='))
        .ok()
        .filter(|a| a.len() == 16);
    let (Some(ua_public), Some(auth)) = (keys, auth) else {
        return Sent::Gone;
    };
    let auth = web_push_native::Auth::clone_from_slice(&auth);
    let body = serde_json::to_vec(ring).unwrap_or_default();
    let payload = match web_push_native::encrypt(body, &ua_public, &auth) {
        Ok(p) => p,
        Err(e) => return Sent::Retry(format!("encryption failed: {e}")),
    };
    let now = chrono::Utc::now().timestamp();
    let answer = client
        .post(endpoint.clone())
        .header("Authorization", vapid.authorization(&endpoint, now))
        .header("TTL", RING_TTL.num_seconds().to_string())
        .header("Urgency", "high")
        // One visit, one ring on the phone: a later one replaces an undelivered earlier one.
        .header("Topic", format!("visit-{}", ring.visit_id))
        .header("Content-Encoding", "aes128gcm")
        .header("Content-Type", "application/octet-stream")
        .body(payload)
        .send()
        .await;
    match answer {
        Ok(r) if r.status().is_success() => Sent::Ok,
        Ok(r) if matches!(r.status().as_u16(), 404 | 410) => Sent::Gone,
        Ok(r) => Sent::Retry(format!("the push service answered {}", r.status())),
        Err(e) => Sent::Retry(format!("the push service could not be reached: {e}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use p256::ecdsa::signature::Verifier;
    use p256::ecdsa::VerifyingKey;

    #[test]
    fn a_generated_key_reads_back_and_signs_a_token_its_public_key_verifies() {
        let pem = Vapid::generate_pem();
        let vapid = Vapid::from_pem(&pem, "mailto:garde@example.org").unwrap();
        let url = reqwest::Url::parse("https://push.example.org/send/abc?x=1").unwrap();
        let header = vapid.authorization(&url, 1_000_000);
        let (t, k) = header
            .strip_prefix("vapid t=")
            .and_then(|r| r.split_once(", k="))
            .unwrap();
        assert_eq!(k, vapid.public_key());
        let (signed, sig) = t.rsplit_once('.').unwrap();
        let key = VerifyingKey::from_sec1_bytes(&B64.decode(k).unwrap()).unwrap();
        let sig = Signature::from_slice(&B64.decode(sig).unwrap()).unwrap();
        key.verify(signed.as_bytes(), &sig).unwrap();
        let claims: serde_json::Value =
            serde_json::from_slice(&B64.decode(signed.split('.').nth(1).unwrap()).unwrap())
                .unwrap();
        assert_eq!(claims["aud"], "https://push.example.org");
        assert_eq!(claims["sub"], "mailto:garde@example.org");
        assert_eq!(claims["exp"], 1_000_000 + 12 * 3600);
    }

    #[test]
    fn bad_keys_and_contacts_are_refused() {
        assert!(Vapid::from_pem("not a key", "mailto:a@b.fr").is_err());
        assert!(Vapid::from_pem(&Vapid::generate_pem(), "a@b.fr").is_err());
        let e = decode("keys.auth", "AAAA", 16).unwrap_err();
        assert_eq!(e.field.as_deref(), Some("keys.auth"));
    }
}
