//! Who is asking: passwords (argon2), session tokens (opaque, stored hashed, expiring) and the
//! [`Principal`] every request is checked against. The rules of who may see what live here, in
//! one place, and the HTTP layer applies them on every route.

use argon2::password_hash::{
    rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString,
};
use argon2::Argon2;
use base64::Engine as _;
use rand::RngCore;
use sha2::{Digest, Sha256};

use crate::domain::Role;
use crate::store::{Actor, Audience};

pub fn hash_password(password: &str) -> String {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .expect("argon2 hashing with default parameters cannot fail")
        .to_string()
}

pub fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash)
        .map(|parsed| {
            Argon2::default()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok()
        })
        .unwrap_or(false)
}

/// A hash to verify against when the username is unknown, so that a wrong username takes as
/// long as a wrong password and does not reveal which accounts exist.
pub fn dummy_hash() -> &'static str {
    static HASH: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    HASH.get_or_init(|| hash_password("not a password of anyone"))
}

/// A new session token: 32 random bytes, base64url. Only its hash is stored.
pub fn new_token() -> String {
    let mut bytes = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

pub fn token_hash(token: &str) -> String {
    let digest = Sha256::digest(token.as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// The authenticated person behind a request.
#[derive(Debug, Clone)]
pub struct Principal {
    pub user_id: i64,
    pub username: String,
    pub display_name: String,
    pub role: Role,
    pub institution_id: Option<i64>,
    pub network_id: Option<i64>,
    /// For an assistant: the doctors who delegated their rights to her.
    pub delegators: Vec<i64>,
    pub token_hash: String,
    /// The session may only enrol a second factor (the association requires one of this
    /// account and it has none yet).
    pub restricted: bool,
}

impl Principal {
    pub fn is_staff(&self) -> bool {
        self.role.is_staff()
    }

    pub fn actor(&self) -> Actor {
        Actor::user(self.user_id)
    }

    /// May this person act on the work of doctor `doctor_id`? Returns the "on behalf of" to record:
    /// `Some(Some(doctor))` for an assistant with a delegation, `Some(None)` for the doctor
    /// himself, `None` if not allowed.
    pub fn acts_for_doctor(&self, doctor_id: i64) -> Option<Option<i64>> {
        match self.role {
            Role::Doctor if self.user_id == doctor_id => Some(None),
            Role::Assistant if self.delegators.contains(&doctor_id) => Some(Some(doctor_id)),
            _ => None,
        }
    }

    /// May this person receive an event with this audience?
    pub fn can_see_event(&self, audience: &Audience) -> bool {
        match self.role {
            Role::Admin | Role::Dispatcher => true,
            Role::Doctor | Role::Assistant => audience
                .doctor_id
                .is_some_and(|d| self.acts_for_doctor(d).is_some()),
            Role::EhpadNurse => {
                audience.institution_id.is_some() && audience.institution_id == self.institution_id
            }
            Role::PartnerNurse => {
                audience.network_id.is_some() && audience.network_id == self.network_id
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn principal(role: Role) -> Principal {
        Principal {
            user_id: 10,
            username: "x".into(),
            display_name: "X".into(),
            role,
            institution_id: (role == Role::EhpadNurse).then_some(3),
            network_id: (role == Role::PartnerNurse).then_some(4),
            delegators: if role == Role::Assistant {
                vec![7]
            } else {
                vec![]
            },
            token_hash: String::new(),
            restricted: false,
        }
    }

    #[test]
    fn passwords_verify_only_against_their_hash() {
        let h = hash_password("demo");
        assert!(h.starts_with("$argon2id$"));
        assert!(verify_password("demo", &h));
        assert!(!verify_password("Demo", &h));
        assert!(!verify_password("demo", "not a hash"));
    }

    #[test]
    fn tokens_are_random_and_hashed() {
        let (a, b) = (new_token(), new_token());
        assert_ne!(a, b);
        assert_eq!(a.len(), 43);
        assert_eq!(token_hash(&a).len(), 64);
        assert_ne!(token_hash(&a), token_hash(&b));
    }

    #[test]
    fn assistants_act_for_the_doctors_who_delegated() {
        assert_eq!(principal(Role::Assistant).acts_for_doctor(7), Some(Some(7)));
        assert_eq!(principal(Role::Doctor).acts_for_doctor(10), Some(None));
    }
}
