//! Credentials: Argon2id password hashes (PHC strings) and API bearer tokens,
//! which are shown once and stored only as their SHA-256.

use argon2::{Argon2, PasswordHasher, PasswordVerifier};
use rand::RngCore;
use sha2::{Digest, Sha256};

/// The prefix that makes a leaked token recognisable.
pub const TOKEN_PREFIX: &str = "siseri_";

/// The longest lifetime of an API token (`access.md`).
pub const TOKEN_MAX_DAYS: i64 = 90;

/// A hashing failure (never the password itself).
#[derive(Debug, thiserror::Error)]
#[error("hachage du mot de passe impossible")]
pub struct HashError;

/// Hashes a password with Argon2id and a random salt. CPU-heavy: call from a
/// blocking task in async code.
pub fn hash_password(password: &str) -> Result<String, HashError> {
    // The salt is drawn from the operating system's generator.
    let hash: argon2::PasswordHash = Argon2::default()
        .hash_password(password.as_bytes())
        .map_err(|_| HashError)?;
    Ok(hash.to_string())
}

/// Whether `password` matches a stored PHC string.
pub fn verify_password(password: &str, phc: &str) -> bool {
    Argon2::default()
        .verify_password(password.as_bytes(), phc)
        .is_ok()
}

/// A new random API token and the hash to store.
pub fn new_token() -> (String, String) {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    let token = format!("{TOKEN_PREFIX}{}", hex::encode(bytes));
    let hash = token_hash(&token);
    (token, hash)
}

/// The stored form of a token.
pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_verify_only_themselves() {
        let Ok(phc) = hash_password("correct horse battery staple") else {
            panic!("hash")
        };
        assert!(phc.starts_with("$argon2id$"));
        assert!(verify_password("correct horse battery staple", &phc));
        assert!(!verify_password("correct horse battery stapl", &phc));
        assert!(!verify_password("x", "not a phc string"));
    }

    #[test]
    fn tokens_are_prefixed_random_and_hashed() {
        let (a, ha) = new_token();
        let (b, _) = new_token();
        assert!(a.starts_with(TOKEN_PREFIX) && a.len() == TOKEN_PREFIX.len() + 64);
        assert_ne!(a, b);
        assert_eq!(token_hash(&a), ha);
        assert_eq!(ha.len(), 64);
        assert!(!ha.contains(&a[TOKEN_PREFIX.len()..]));
    }
}
