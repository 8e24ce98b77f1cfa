//! Password hashing with Argon2id and a minimal strength rule.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};

/// Why a password was refused or could not be hashed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PasswordError {
    /// Shorter than 10 characters.
    #[error("密码至少 10 个字符 / password must be at least 10 characters")]
    TooShort,
    /// Only one kind of character.
    #[error("密码须同时包含字母和数字 / password must mix letters and digits")]
    TooSimple,
    /// The stored hash is not a valid PHC string.
    #[error("stored password hash is malformed")]
    Malformed,
}

fn argon2() -> Argon2<'static> {
    // OWASP's Argon2id baseline: 19 MiB, 2 passes, 1 lane.
    Argon2::new(Algorithm::Argon2id, Version::V0x13, Params::new(19 * 1024, 2, 1, None).expect("valid params"))
}

/// Refuses passwords that are too weak to protect personal data.
pub fn check_password_strength(password: &str) -> Result<(), PasswordError> {
    if password.chars().count() < 10 {
        return Err(PasswordError::TooShort);
    }
    let letters = password.chars().any(char::is_alphabetic);
    let digits = password.chars().any(|c| c.is_ascii_digit());
    if !(letters && digits) {
        return Err(PasswordError::TooSimple);
    }
    Ok(())
}

/// Hashes a password with Argon2id; `salt` must be 16 random bytes from the caller's RNG.
pub fn hash_password(password: &str, salt: &[u8; 16]) -> Result<String, PasswordError> {
    let salt = SaltString::encode_b64(salt).map_err(|_| PasswordError::Malformed)?;
    argon2().hash_password(password.as_bytes(), &salt).map(|h| h.to_string()).map_err(|_| PasswordError::Malformed)
}

/// True when `password` matches the stored PHC hash.
pub fn verify_password(password: &str, stored: &str) -> Result<bool, PasswordError> {
    let parsed = PasswordHash::new(stored).map_err(|_| PasswordError::Malformed)?;
    Ok(argon2().verify_password(password.as_bytes(), &parsed).is_ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_verify_and_use_argon2id() {
        let h = hash_password("correct horse 42", &[7; 16]).unwrap();
        assert!(h.starts_with("$argon2id$"));
        assert!(verify_password("correct horse 42", &h).unwrap());
        assert!(!verify_password("correct horse 43", &h).unwrap());
        assert_eq!(verify_password("x", "not a hash"), Err(PasswordError::Malformed));
    }

    #[test]
    fn weak_passwords_are_refused() {
        assert_eq!(check_password_strength("short1"), Err(PasswordError::TooShort));
        assert_eq!(check_password_strength("1234567890"), Err(PasswordError::TooSimple));
        assert_eq!(check_password_strength("abcdefghijk"), Err(PasswordError::TooSimple));
        assert!(check_password_strength("wangtan2023").is_ok());
    }
}
