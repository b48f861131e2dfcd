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

/// A real hash to verify against when the login is unknown, so that the answer
/// takes as long as for a known login.
pub fn dummy_hash() -> &'static str {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DUMMY.get_or_init(|| hash_password("siseri: no such account").unwrap_or_default())
}

/// The common passwords shipped with the binary, lower case.
const COMMON_PASSWORDS: &str = include_str!("../data/common-passwords.txt");

/// Why a password is refused (ANSSI: length over complexity, no common password).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PasswordError {
    /// Too short for the role.
    #[error("le mot de passe doit compter au moins {0} caractères")]
    TooShort(usize),
    /// In the list of common passwords, or built on the login.
    #[error(
        "ce mot de passe est trop courant ou trop facile à deviner ; choisissez une phrase de passe"
    )]
    Common,
}

/// Checks a new password against the rules of `access.md`.
pub fn check_password(role: Role, login: &str, password: &str) -> Result<(), PasswordError> {
    let min = role.min_password_len();
    if password.chars().count() < min {
        return Err(PasswordError::TooShort(min));
    }
    let lower = password.to_lowercase();
    let distinct: std::collections::BTreeSet<char> = lower.chars().collect();
    let on_login = login.len() >= 4 && lower.contains(&login.to_lowercase());
    let listed = COMMON_PASSWORDS
        .lines()
        .filter(|l| !l.starts_with('#'))
        .any(|l| l == lower || l == lower.trim());
    if listed || on_login || distinct.len() < 5 {
        return Err(PasswordError::Common);
    }
    Ok(())
}

/// A new TOTP secret (160 random bits), base32 as authenticator apps expect.
pub fn new_totp_secret() -> String {
    let mut bytes = [0u8; 20];
    rand::rng().fill_bytes(&mut bytes);
    base32(&bytes)
}

/// RFC 4648 base32 without padding.
fn base32(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let mut out = String::new();
    let (mut buffer, mut bits) = (0u32, 0u32);
    for b in bytes {
        buffer = (buffer << 8) | u32::from(*b);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            out.push(char::from(ALPHABET[((buffer >> bits) & 31) as usize]));
        }
    }
    if bits > 0 {
        out.push(char::from(ALPHABET[((buffer << (5 - bits)) & 31) as usize]));
    }
    out
}

fn totp(secret_base32: &str) -> Option<totp_rs::Totp> {
    let secret = totp_rs::Secret::try_from_base32(secret_base32).ok()?;
    totp_rs::Builder::new().with_secret(secret).build().ok()
}

/// The time step a code matches (one step of skew either way), if any. The caller
/// must then accept that step only once (replay protection).
pub fn totp_step(secret_base32: &str, code: &str, unix_seconds: u64) -> Option<i64> {
    let code: String = code.chars().filter(|c| !c.is_whitespace()).collect();
    if code.len() != 6 || !code.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    totp(secret_base32)?
        .check(&code, unix_seconds)
        .and_then(|s| i64::try_from(s).ok())
}

/// The current code of a secret (tests and the demo only).
pub fn totp_code(secret_base32: &str, unix_seconds: u64) -> Option<String> {
    Some(totp(secret_base32)?.generate(unix_seconds).to_string())
}

/// The `otpauth://` URL an authenticator app reads.
pub fn otpauth_url(secret_base32: &str, login: &str) -> String {
    let label: String = login
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"._-".contains(&b) {
                char::from(b).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect();
    format!(
        "otpauth://totp/SISERI:{label}?secret={secret_base32}&issuer=SISERI&algorithm=SHA1&digits=6&period=30"
    )
}

/// Ten single-use recovery codes (shown once) and their hashes (stored).
pub fn new_recovery_codes() -> (Vec<String>, Vec<String>) {
    let codes: Vec<String> = (0..10)
        .map(|_| {
            let mut b = [0u8; 5];
            rand::rng().fill_bytes(&mut b);
            let s = base32(&b);
            format!("{}-{}", &s[..4], &s[4..8])
        })
        .collect();
    let hashes = codes.iter().map(|c| code_hash(c)).collect();
    (codes, hashes)
}

/// The stored form of a recovery or enrolment code (case and dashes ignored).
pub fn code_hash(code: &str) -> String {
    let normal: String = code
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .collect::<String>()
        .to_uppercase();
    token_hash(&normal)
}

/// A random secret for sessions and anti-forgery tokens.
pub fn random_secret() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    hex::encode(bytes)
}

use siseri_domain::Role;

#[cfg(test)]
mod policy_tests {
    use super::*;

    #[test]
    fn password_rules() {
        assert_eq!(
            check_password(Role::Travailleur, "camille", "court"),
            Err(PasswordError::TooShort(12))
        );
        assert_eq!(
            check_password(Role::Mdt, "dr.b", "douze-car-ok"),
            Err(PasswordError::TooShort(15))
        );
        assert_eq!(
            check_password(Role::Travailleur, "camille", "Motdepasse123"),
            Err(PasswordError::Common)
        );
        assert_eq!(
            check_password(Role::Travailleur, "camille", "123456789012"),
            Err(PasswordError::Common)
        );
        assert_eq!(
            check_password(Role::Travailleur, "camille", "aaaaaaaaaaaaaaa"),
            Err(PasswordError::Common)
        );
        assert_eq!(
            check_password(Role::Travailleur, "camille", "camille-le-1er-mai"),
            Err(PasswordError::Common)
        );
        assert_eq!(
            check_password(Role::Travailleur, "camille", "Trois Chats Dans Un Arbre"),
            Ok(())
        );
        assert_eq!(
            check_password(Role::Admin, "admin", "cheval agrafe pile correcte"),
            Ok(())
        );
    }

    #[test]
    fn totp_follows_rfc_6238() {
        // RFC 6238 appendix B, SHA-1 secret "12345678901234567890", 6 digits.
        let secret = base32(b"12345678901234567890");
        assert_eq!(secret, "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ");
        assert_eq!(totp_code(&secret, 59).as_deref(), Some("287082"));
        assert_eq!(totp_code(&secret, 1_111_111_109).as_deref(), Some("081804"));
        assert_eq!(
            totp_step(&secret, "081804", 1_111_111_109),
            Some(37_037_036)
        );
        assert_eq!(
            totp_step(&secret, "081 804", 1_111_111_109 + 30),
            Some(37_037_036),
            "one step of skew"
        );
        assert_eq!(totp_step(&secret, "081804", 1_111_111_109 + 120), None);
        assert_eq!(totp_step(&secret, "08180a", 1_111_111_109), None);
        assert_eq!(totp_step("not base32 !", "081804", 0), None);
        assert_eq!(new_totp_secret().len(), 32);
        assert!(otpauth_url(&secret, "dr.b").starts_with("otpauth://totp/SISERI:dr.b?secret="));
    }

    #[test]
    fn recovery_codes_are_single_hashes() {
        let (codes, hashes) = new_recovery_codes();
        assert_eq!(codes.len(), 10);
        assert_eq!(code_hash(&codes[0]), hashes[0]);
        assert_eq!(
            code_hash(&codes[0].to_lowercase().replace('-', "")),
            hashes[0]
        );
        assert_ne!(hashes[0], hashes[1]);
    }
}
