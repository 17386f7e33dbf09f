//! Creating accounts, shared by the API (`POST /users`), the command line (`chevet user add`)
//! and the demo. Input is checked here once; the caller holds the write transaction.

use serde::Deserialize;
use utoipa::ToSchema;

use crate::auth::hash_password;
use crate::domain::{Role, Rpps, Skill};
use crate::error::{Error, Reason};
use crate::store::WriteTx;

/// A new account as the API receives it.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewUser {
    /// 3 to 64 characters: lower-case letters, digits, `.`, `_`, `-`.
    #[schema(max_length = 64)]
    pub username: String,
    /// At least 8 characters.
    #[schema(max_length = 256)]
    pub password: String,
    #[schema(max_length = 120)]
    pub display_name: String,
    pub role: Role,
    /// Required for an EHPAD nurse: her institution.
    #[serde(default)]
    pub institution_id: Option<i64>,
    /// Required for a partner nurse: her network.
    #[serde(default)]
    pub network_id: Option<i64>,
    /// Required for a doctor.
    #[serde(default)]
    pub doctor: Option<NewDoctor>,
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewDoctor {
    /// RPPS number, 11 digits.
    #[schema(max_length = 20)]
    pub rpps: String,
    #[serde(default)]
    #[schema(max_length = 30)]
    pub phone: Option<String>,
    #[serde(default)]
    pub skills: Vec<Skill>,
}

pub fn check_username(username: &str) -> Result<(), Error> {
    let ok = (3..=64).contains(&username.len())
        && username
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b));
    if ok {
        Ok(())
    } else {
        Err(Error::invalid(
            "username",
            "a username has 3 to 64 characters: lower-case letters, digits, '.', '_' or '-'",
        )
        .because(Reason::Length)
        .within(Some(3.0), Some(64.0)))
    }
}

/// The shortest password accepted: a few words make one easily, and it resists guessing.
pub const PASSWORD_MIN: usize = 12;

/// Passwords people choose first, lower-cased (the list is short: length does the rest).
const COMMON_PASSWORDS: &[&str] = &[
    "123456789012",
    "1234567890123",
    "password1234",
    "password12345",
    "motdepasse123",
    "motdepasse1234",
    "azertyuiop12",
    "azertyuiop123",
    "qwertyuiop12",
    "qwertyuiop123",
    "azerty123456",
    "qwerty123456",
    "soleil123456",
    "bonjour12345",
    "chevet123456",
    "sosmedecins12",
    "sosmedecins123",
    "medecin12345",
    "docteur12345",
    "iloveyou1234",
    "administrateur",
    "admin1234567",
    "changeme1234",
    "welcome12345",
    "bienvenue123",
];

/// At least [`PASSWORD_MIN`] characters, not a well-known password, not a few characters repeated.
pub fn check_password(password: &str) -> Result<(), Error> {
    if password.chars().count() < PASSWORD_MIN {
        return Err(Error::invalid(
            "password",
            format!("a password has at least {PASSWORD_MIN} characters: a few words make one"),
        )
        .because(Reason::Length)
        .within(Some(PASSWORD_MIN as f64), None));
    }
    let distinct: std::collections::BTreeSet<char> = password.chars().collect();
    let lower = password.to_lowercase();
    if distinct.len() < 5 || COMMON_PASSWORDS.contains(&lower.as_str()) {
        return Err(Error::invalid(
            "password",
            "this password is too easy to guess: choose a sentence of a few words",
        )
        .because(Reason::Weak));
    }
    Ok(())
}

pub fn check_display_name(name: &str) -> Result<(), Error> {
    if name.trim().is_empty() || name.chars().count() > 120 {
        return Err(
            Error::invalid("display_name", "a display name has 1 to 120 characters")
                .because(Reason::Length)
                .within(Some(1.0), Some(120.0)),
        );
    }
    Ok(())
}

impl NewUser {
    /// Checks everything that can be checked without the store.
    pub fn check(&self) -> Result<(), Error> {
        check_username(&self.username)?;
        check_password(&self.password)?;
        check_display_name(&self.display_name)?;
        self.check_links()
    }

    fn check_links(&self) -> Result<(), Error> {
        match (self.role, self.institution_id) {
            (Role::EhpadNurse, None) => {
                return Err(Error::invalid(
                    "institution_id",
                    "an EHPAD nurse belongs to an institution",
                )
                .because(Reason::Required))
            }
            (r, Some(_)) if r != Role::EhpadNurse => {
                return Err(Error::invalid(
                    "institution_id",
                    "only an EHPAD nurse belongs to an institution",
                ))
            }
            _ => {}
        }
        match (self.role, self.network_id) {
            (Role::PartnerNurse, None) => {
                return Err(Error::invalid(
                    "network_id",
                    "a partner nurse belongs to a nurse network",
                )
                .because(Reason::Required))
            }
            (r, Some(_)) if r != Role::PartnerNurse => {
                return Err(Error::invalid(
                    "network_id",
                    "only a partner nurse belongs to a nurse network",
                ))
            }
            _ => {}
        }
        match (&self.doctor, self.role) {
            (None, Role::Doctor) => Err(Error::invalid(
                "doctor",
                "a doctor's account needs his RPPS number",
            )
            .because(Reason::Required)),
            (Some(_), r) if r != Role::Doctor => {
                Err(Error::invalid("doctor", "only a doctor has doctor details"))
            }
            (Some(d), _) => Rpps::parse(&d.rpps)
                .map(|_| ())
                .map_err(|e| Error::from(e).with_field("doctor.rpps")),
            (None, _) => Ok(()),
        }
    }
}

/// Creates the account (and the doctor's record), audited. The password is hashed here;
/// `check` must have been called by the caller that takes outside input.
pub async fn create_user(tx: &mut WriteTx, user: &NewUser) -> Result<i64, Error> {
    user.check_links()?;
    let hash = {
        let password = user.password.clone();
        tokio::task::spawn_blocking(move || hash_password(&password))
            .await
            .map_err(|_| Error::internal())?
    };
    let now = tx.now();
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO users (username, password_hash, display_name, role, institution_id, network_id, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
    )
    .bind(&user.username)
    .bind(hash)
    .bind(user.display_name.trim())
    .bind(user.role)
    .bind(user.institution_id)
    .bind(user.network_id)
    .bind(now)
    .fetch_one(tx.conn())
    .await
    .map_err(|e| unknown_link(e, user))?;
    let mut changes = serde_json::json!({
        "username": user.username,
        "display_name": user.display_name,
        "role": user.role,
        "institution_id": user.institution_id,
        "network_id": user.network_id,
    });
    if let Some(d) = &user.doctor {
        let rpps = Rpps::parse(&d.rpps).map_err(|e| Error::from(e).with_field("doctor.rpps"))?;
        sqlx::query(
            "INSERT INTO doctors (user_id, rpps, phone, skills, status, status_at) VALUES ($1, $2, $3, $4, 'off_duty', $5)",
        )
        .bind(id)
        .bind(rpps.as_str())
        .bind(&d.phone)
        .bind(serde_json::to_string(&d.skills).unwrap_or_else(|_| "[]".into()))
        .bind(now)
        .execute(tx.conn())
        .await
        .map_err(|e| match Error::from(e) {
            err if err.kind == crate::error::ErrorKind::Conflict => {
                Error::conflict("another doctor already has this RPPS number").with_field("doctor.rpps")
            }
            err => err,
        })?;
        changes["doctor"] = serde_json::json!({"rpps": rpps.as_str(), "skills": d.skills});
    }
    tx.audit("user.create", "user", id, changes).await?;
    Ok(id)
}

fn unknown_link(e: sqlx::Error, user: &NewUser) -> Error {
    let err = Error::from(e);
    if err.code == "unknown_reference" {
        if user.institution_id.is_some() {
            return Error::invalid("institution_id", "no such institution")
                .because(Reason::Unknown);
        }
        if user.network_id.is_some() {
            return Error::invalid("network_id", "no such nurse network").because(Reason::Unknown);
        }
    }
    if err.kind == crate::error::ErrorKind::Conflict {
        return Error::conflict("this username is taken").with_field("username");
    }
    err
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_long_and_not_common() {
        assert!(check_password("correct horse battery").is_ok());
        assert_eq!(
            check_password("aaaaaaaa").unwrap_err().reason(),
            Some(Reason::Length)
        );
        assert_eq!(
            check_password("aaaaaaaaaaaaaaaa").unwrap_err().reason(),
            Some(Reason::Weak)
        );
        assert_eq!(
            check_password("Password1234").unwrap_err().reason(),
            Some(Reason::Weak)
        );
    }
}
