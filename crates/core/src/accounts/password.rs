//! Password hashing with Argon2id and a minimal strength rule.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};

/// Why a new password was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum WeakPassword {
    /// Shorter than [`MIN_PASSWORD_CHARS`] characters.
    #[error("密码至少 10 个字符 / password must be at least 10 characters")]
    TooShort,
    /// Longer than [`MAX_PASSWORD_CHARS`] characters.
    #[error("密码最多 128 个字符 / password must be at most 128 characters")]
    TooLong,
    /// Only one kind of character.
    #[error("密码须同时包含字母和数字 / password must mix letters and digits")]
    TooSimple,
    /// Long enough, but common or easy to guess.
    #[error("密码太常见或太容易猜到 / password is too common or easy to guess ({0:?})")]
    Guessable(Weakness),
}

/// Why a password could not be hashed or checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PasswordError {
    /// The stored hash is not a valid PHC string.
    #[error("stored password hash is malformed")]
    Malformed,
}

/// Why a password is easy to guess, in our own terms: the strength estimator's English sentences are never shown
/// to people, the faces say these in the reader's language.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Weakness {
    /// Holds the account's own username or name.
    OwnName,
    /// One of the passwords people use most, or close to one.
    Common,
    /// Keys next to each other on the keyboard (`qwerty`, `1qaz2wsx`).
    KeyboardPattern,
    /// Repeated characters or groups (`aaa`, `abcabc`).
    Repeats,
    /// Runs of characters (`abcd`, `13579`).
    Sequence,
    /// Years and dates.
    Dates,
    /// A single word or name, lightly decorated.
    Word,
    /// The estimator finds it guessable for no reason it names.
    Other,
}

impl Weakness {
    fn from_warning(warning: Option<zxcvbn::feedback::Warning>) -> Self {
        use zxcvbn::feedback::Warning as W;
        match warning {
            Some(W::ThisIsATop10Password | W::ThisIsATop100Password | W::ThisIsACommonPassword)
            | Some(W::ThisIsSimilarToACommonlyUsedPassword) => Self::Common,
            Some(W::StraightRowsOfKeysAreEasyToGuess | W::ShortKeyboardPatternsAreEasyToGuess) => Self::KeyboardPattern,
            Some(W::RepeatsLikeAaaAreEasyToGuess | W::RepeatsLikeAbcAbcAreOnlySlightlyHarderToGuess) => Self::Repeats,
            Some(W::SequencesLikeAbcAreEasyToGuess) => Self::Sequence,
            Some(W::RecentYearsAreEasyToGuess | W::DatesAreOftenEasyToGuess) => Self::Dates,
            Some(
                W::AWordByItselfIsEasyToGuess
                | W::NamesAndSurnamesByThemselvesAreEasyToGuess
                | W::CommonNamesAndSurnamesAreEasyToGuess,
            ) => Self::Word,
            None => Self::Other,
        }
    }
}

/// The fewest characters a password may have.
pub const MIN_PASSWORD_CHARS: usize = 10;
/// The most characters a password may have (the strength estimate grows with length).
pub const MAX_PASSWORD_CHARS: usize = 128;

fn argon2() -> Argon2<'static> {
    // OWASP's Argon2id baseline: 19 MiB, 2 passes, 1 lane.
    Argon2::new(Algorithm::Argon2id, Version::V0x13, Params::new(19 * 1024, 2, 1, None).expect("valid params"))
}

/// Refuses passwords that are too weak to protect personal data: shorter than [`MIN_PASSWORD_CHARS`], without
/// both letters and digits, built from the account's own names (`own_names`: its username and display name), or
/// scored below 3 of 4 by the zxcvbn estimator (fewer than about 10^10 guesses) with those names as known inputs.
pub fn check_password_strength(password: &str, own_names: &[&str]) -> Result<(), WeakPassword> {
    let length = password.chars().count();
    if length < MIN_PASSWORD_CHARS {
        return Err(WeakPassword::TooShort);
    }
    if length > MAX_PASSWORD_CHARS {
        return Err(WeakPassword::TooLong);
    }
    let letters = password.chars().any(char::is_alphabetic);
    let digits = password.chars().any(|c| c.is_ascii_digit());
    if !(letters && digits) {
        return Err(WeakPassword::TooSimple);
    }
    let lower = password.to_lowercase();
    let names: Vec<&str> = own_names.iter().map(|n| n.trim()).filter(|n| n.chars().count() >= 2).collect();
    if names.iter().any(|n| lower.contains(&n.to_lowercase())) {
        return Err(WeakPassword::Guessable(Weakness::OwnName));
    }
    let estimate = zxcvbn::zxcvbn(password, &names);
    if estimate.score() < zxcvbn::Score::Three {
        return Err(WeakPassword::Guessable(Weakness::from_warning(estimate.feedback().and_then(|f| f.warning()))));
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
        let check = |p: &str| check_password_strength(p, &["zhangli", "张丽"]);
        assert_eq!(check("short1"), Err(WeakPassword::TooShort));
        assert_eq!(check(&"a1".repeat(65)), Err(WeakPassword::TooLong));
        assert_eq!(check("1234567890"), Err(WeakPassword::TooSimple));
        assert_eq!(check("abcdefghijk"), Err(WeakPassword::TooSimple));
        assert_eq!(check("password123"), Err(WeakPassword::Guessable(Weakness::Common)));
        assert_eq!(check("abcabcabc1"), Err(WeakPassword::Guessable(Weakness::Repeats)));
        assert_eq!(check("abcdefgh123"), Err(WeakPassword::Guessable(Weakness::Sequence)));
        assert_eq!(check("19880101ab"), Err(WeakPassword::Guessable(Weakness::Dates)));
        assert_eq!(check("Zhangli2024!"), Err(WeakPassword::Guessable(Weakness::OwnName)));
        assert_eq!(check("张丽1988abcd"), Err(WeakPassword::Guessable(Weakness::OwnName)));
        assert!(check("test-password-2024").is_ok(), "the tests' demo password");
        assert!(check("lantern-okra-57-river").is_ok());
    }
}
