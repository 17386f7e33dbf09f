//! The second factor: time-based one-time codes (TOTP, RFC 6238: HMAC-SHA1, 6 digits, 30 s),
//! what every authenticator app reads.
//!
//! Enrolment is two steps: `begin` stores a new secret (not yet in force) and gives it to the
//! person as an `otpauth://` link, a QR code and text; `confirm` puts it in force once she typed
//! a first code, so a mistyped secret never locks anyone out. A code is accepted once: the last
//! time step used is kept, and a later login with the same or an older code fails.

use serde::Serialize;
use totp_rs::{Algorithm, Secret, TOTP};
use utoipa::ToSchema;

use crate::auth::Principal;
use crate::error::{Error, Reason, Result};
use crate::store::{Db, WriteTx};

const DIGITS: usize = 6;
const STEP: u64 = 30;
/// Codes of the step before and after are accepted too (a phone's clock a little off).
const SKEW: u64 = 1;
const ISSUER: &str = "Chevet";

fn totp(secret: &[u8], account: &str) -> Result<TOTP> {
    // An account name cannot hold ':' in an otpauth label; usernames never do, but be safe.
    let account = account.replace(':', "_");
    TOTP::new(
        Algorithm::SHA1,
        DIGITS,
        SKEW as u8,
        STEP,
        secret.to_vec(),
        Some(ISSUER.to_owned()),
        account,
    )
    .map_err(|e| {
        tracing::error!("TOTP parameters refused: {e}");
        Error::internal()
    })
}

fn decode(secret: &str) -> Result<Vec<u8>> {
    Secret::Encoded(secret.to_owned()).to_bytes().map_err(|_| {
        tracing::error!("a stored TOTP secret is not base32");
        Error::internal()
    })
}

/// The time step whose code `code` is, among now's and its neighbours', if any.
fn matching_step(secret: &[u8], code: &str, unix_now: u64) -> Option<u64> {
    let code = code.trim().replace(' ', "");
    if code.len() != DIGITS || !code.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let totp = TOTP::new_unchecked(
        Algorithm::SHA1,
        DIGITS,
        0,
        STEP,
        secret.to_vec(),
        None,
        String::new(),
    );
    let now = unix_now / STEP;
    (now.saturating_sub(SKEW)..=now + SKEW).find(|&step| {
        let expected = totp.generate(step * STEP);
        // Compare without stopping at the first different digit.
        expected
            .bytes()
            .zip(code.bytes())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0
    })
}

fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// A new secret to enter in an authenticator app.
#[derive(Serialize, ToSchema)]
pub struct Enrolment {
    /// The secret in base32, for typing into the app by hand.
    pub secret: String,
    /// The `otpauth://` link: opens the app on a phone.
    pub otpauth_url: String,
    /// The same link as a QR code (SVG), to scan from another screen.
    pub qr_svg: String,
}

#[derive(sqlx::FromRow)]
struct Factor {
    totp_secret: Option<String>,
    totp_enabled_at: Option<crate::store::Ts>,
}

async fn factor(db: &Db, user_id: i64) -> Result<Factor> {
    Ok(
        sqlx::query_as("SELECT totp_secret, totp_enabled_at FROM users WHERE id = $1")
            .bind(user_id)
            .fetch_one(db.pool())
            .await?,
    )
}

/// Does this account log in with a second factor?
pub async fn enabled(db: &Db, user_id: i64) -> Result<bool> {
    Ok(factor(db, user_id).await?.totp_enabled_at.is_some())
}

/// Starts enrolment: a new secret, not in force until confirmed. Refused while one is in force
/// (turn it off first, with a code).
pub async fn begin(db: &Db, who: &Principal) -> Result<Enrolment> {
    if enabled(db, who.user_id).await? {
        return Err(Error::conflict(
            "a second factor is already in force: turn it off first",
        ));
    }
    let secret = Secret::generate_secret();
    let bytes = secret.to_bytes().map_err(|_| Error::internal())?;
    let encoded = secret.to_encoded().to_string();
    let otpauth_url = totp(&bytes, &who.username)?.get_url();
    let mut tx = db.write(who.actor()).await?;
    sqlx::query("UPDATE users SET totp_secret = $1, totp_enabled_at = NULL WHERE id = $2")
        .bind(&encoded)
        .bind(who.user_id)
        .execute(tx.conn())
        .await?;
    tx.audit(
        "account.totp_begin",
        "user",
        who.user_id,
        serde_json::json!({}),
    )
    .await?;
    tx.commit().await?;
    Ok(Enrolment {
        qr_svg: qr_svg(&otpauth_url),
        secret: encoded,
        otpauth_url,
    })
}

fn wrong_code() -> Error {
    Error::invalid(
        "code",
        "this code is wrong or already used: type the code the app shows now",
    )
    .because(Reason::WrongCredentials)
}

/// Checks `code` for `user_id` and spends its time step, inside the caller's write: a code
/// works once.
pub async fn spend(tx: &mut WriteTx, user_id: i64, secret: &str, code: &str) -> Result<()> {
    let step = matching_step(&decode(secret)?, code, unix_now()).ok_or_else(wrong_code)?;
    let step = i64::try_from(step).map_err(|_| Error::internal())?;
    let done = sqlx::query(
        "UPDATE users SET totp_last_step = $1 WHERE id = $2 AND (totp_last_step < $1 OR totp_last_step IS NULL)",
    )
    .bind(step)
    .bind(user_id)
    .execute(tx.conn())
    .await?;
    if done.rows_affected() == 0 {
        return Err(wrong_code());
    }
    Ok(())
}

/// Puts the secret being enrolled in force, once the person typed a first code from it. Lifts
/// the restriction of the session she did it from.
pub async fn confirm(db: &Db, who: &Principal, code: &str) -> Result<()> {
    let f = factor(db, who.user_id).await?;
    let Some(secret) = f.totp_secret.filter(|_| f.totp_enabled_at.is_none()) else {
        return Err(Error::conflict(
            "no second factor is being enrolled: start the enrolment first",
        ));
    };
    let mut tx = db.write(who.actor()).await?;
    spend(&mut tx, who.user_id, &secret, code).await?;
    sqlx::query("UPDATE users SET totp_enabled_at = $1 WHERE id = $2")
        .bind(tx.now())
        .bind(who.user_id)
        .execute(tx.conn())
        .await?;
    super::sessions::lift_restriction(&mut tx, &who.token_hash).await?;
    tx.audit(
        "account.totp_enabled",
        "user",
        who.user_id,
        serde_json::json!({}),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Turns the second factor off, with a current code. Refused when the association requires it of
/// this account.
pub async fn disable(db: &Db, who: &Principal, code: &str, required: bool) -> Result<()> {
    if required {
        return Err(Error::forbidden(
            "the association requires a second factor for this account",
        ));
    }
    let f = factor(db, who.user_id).await?;
    let (Some(secret), Some(_)) = (f.totp_secret, f.totp_enabled_at) else {
        return Err(Error::conflict("no second factor is in force"));
    };
    let mut tx = db.write(who.actor()).await?;
    spend(&mut tx, who.user_id, &secret, code).await?;
    clear(&mut tx, who.user_id).await?;
    tx.audit(
        "account.totp_disabled",
        "user",
        who.user_id,
        serde_json::json!({}),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Removes an account's second factor (an admin, for someone who lost her phone).
pub async fn clear(tx: &mut WriteTx, user_id: i64) -> Result<()> {
    sqlx::query(
        "UPDATE users SET totp_secret = NULL, totp_enabled_at = NULL, totp_last_step = NULL WHERE id = $1",
    )
    .bind(user_id)
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// `text` as a QR code (medium error correction), an SVG of dark modules on white with the
/// standard four-module quiet zone.
pub fn qr_svg(text: &str) -> String {
    use qrcodegen::{QrCode, QrCodeEcc};
    let Ok(qr) = QrCode::encode_text(text, QrCodeEcc::Medium) else {
        return String::new();
    };
    let border = 4;
    let size = qr.size();
    let mut path = String::new();
    for y in 0..size {
        for x in 0..size {
            if qr.get_module(x, y) {
                path.push_str(&format!("M{},{}h1v1h-1z", x + border, y + border));
            }
        }
    }
    let dim = size + 2 * border;
    format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {dim} {dim}\" shape-rendering=\"crispEdges\">\
         <rect width=\"100%\" height=\"100%\" fill=\"#fff\"/><path d=\"{path}\" fill=\"#000\"/></svg>"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 6238 appendix B, SHA-1, truncated to 6 digits (the app's length).
    #[test]
    fn codes_match_the_rfc_6238_test_vectors() {
        let secret = b"12345678901234567890";
        for (time, code) in [
            (59u64, "287082"),
            (1111111109, "081804"),
            (1234567890, "005924"),
            (2000000000, "279037"),
        ] {
            assert_eq!(
                matching_step(secret, code, time),
                Some(time / STEP),
                "at {time}"
            );
        }
        assert_eq!(matching_step(secret, "287083", 59), None);
        assert_eq!(matching_step(secret, "28708", 59), None);
        assert_eq!(matching_step(secret, "abcdef", 59), None);
    }

    #[test]
    fn a_code_of_the_neighbouring_step_is_accepted_not_older() {
        let secret = b"12345678901234567890";
        // 287082 is the code of step 1 (t = 30..59).
        assert_eq!(matching_step(secret, "287082", 60 + 10), Some(1));
        assert_eq!(matching_step(secret, " 287 082 ", 0), Some(1));
        assert_eq!(matching_step(secret, "287082", 90 + 10), None);
    }

    #[test]
    fn enrolment_links_and_qr_codes_are_what_apps_read() {
        let secret = Secret::generate_secret().to_bytes().unwrap();
        let url = totp(&secret, "dr.martin").unwrap().get_url();
        assert!(
            url.starts_with("otpauth://totp/Chevet:dr.martin?secret="),
            "{url}"
        );
        let svg = qr_svg(&url);
        assert!(
            svg.starts_with("<svg") && svg.contains("<path d=\"M"),
            "{svg}"
        );
    }
}
