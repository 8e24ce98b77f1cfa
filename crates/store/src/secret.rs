//! The secret key that encrypts ID-card numbers at rest and keys their blind index.

use aes_gcm::aead::{Aead, KeyInit};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::{Digest, Sha256};
use std::fmt;
use std::path::Path;

/// 32 secret bytes. Never printed.
#[derive(Clone)]
pub struct SecretKey([u8; 32]);

impl fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretKey(..)")
    }
}

impl SecretKey {
    /// Parses 64 hex characters or base64 of 32 bytes (as in `WUJIA_SECRET_KEY`).
    pub fn parse(text: &str) -> Option<Self> {
        let text = text.trim();
        let bytes = hex::decode(text).ok().or_else(|| STANDARD.decode(text).ok())?;
        bytes.try_into().ok().map(Self)
    }

    /// Reads the key file at `path`, creating it (mode 0600, its directory too) on first start.
    pub fn load_or_create(path: &Path) -> std::io::Result<Self> {
        if path.exists() {
            let text = std::fs::read_to_string(path)?;
            return Self::parse(&text).ok_or_else(|| {
                std::io::Error::new(
                    std::io::ErrorKind::InvalidData,
                    format!("{} is not a 32-byte hex key", path.display()),
                )
            });
        }
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)?;
        }
        let mut bytes = [0u8; 32];
        rand::rng().fill_bytes(&mut bytes);
        let key = Self(bytes);
        key.write_new(path)?;
        Ok(key)
    }

    /// Writes the key as 64 hex characters to a new file (mode 0600) that must not exist yet: a copy the
    /// operator keeps apart from the backups, since whoever holds both reads every ID number.
    pub fn write_new(&self, path: &Path) -> std::io::Result<()> {
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        std::io::Write::write_all(&mut options.open(path)?, hex::encode(self.0).as_bytes())
    }

    /// What names this key without revealing it: a database remembers the fingerprint of the key its personal
    /// data was sealed with, so a restore without that key is refused naming the key it needs.
    pub fn fingerprint(&self) -> KeyFingerprint {
        KeyFingerprint(hex::encode(&self.derive("wujia/fingerprint/v1")[..8]))
    }

    /// A key from fixed bytes (tests and benchmarks).
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    fn derive(&self, purpose: &str) -> [u8; 32] {
        let mut h = Sha256::new();
        h.update(purpose.as_bytes());
        h.update(self.0);
        h.finalize().into()
    }
}

/// The fingerprint of a secret key: 16 hex characters, safe to print and to store beside the data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyFingerprint(String);

impl KeyFingerprint {
    /// A fingerprint as stored; `None` unless it is 16 lowercase hex characters.
    pub fn parse(text: &str) -> Option<Self> {
        (text.len() == 16 && text.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')))
            .then(|| Self(text.to_string()))
    }

    /// The 16 hex characters.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for KeyFingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Encrypts personal data and computes blind indexes for exact lookups.
pub struct Cipher {
    aead: Aes256Gcm,
    index_key: [u8; 32],
}

impl Cipher {
    /// A cipher with keys derived from `key`.
    pub fn new(key: &SecretKey) -> Self {
        let aead = Aes256Gcm::new_from_slice(&key.derive("wujia/encrypt/v1")).expect("32-byte key");
        Self { aead, index_key: key.derive("wujia/index/v1") }
    }

    /// AES-256-GCM with a random nonce; the result is base64(nonce ‖ ciphertext).
    pub fn encrypt(&self, plain: &str) -> String {
        let mut nonce = [0u8; 12];
        rand::rng().fill_bytes(&mut nonce);
        let ct = self.aead.encrypt(Nonce::from_slice(&nonce), plain.as_bytes()).expect("encryption cannot fail");
        let mut out = nonce.to_vec();
        out.extend(ct);
        STANDARD.encode(out)
    }

    /// Reverses [`Cipher::encrypt`]; `None` when the data was written under another key or altered.
    pub fn decrypt(&self, sealed: &str) -> Option<String> {
        let bytes = STANDARD.decode(sealed).ok()?;
        if bytes.len() < 12 {
            return None;
        }
        let (nonce, ct) = bytes.split_at(12);
        let plain = self.aead.decrypt(Nonce::from_slice(nonce), ct).ok()?;
        String::from_utf8(plain).ok()
    }

    /// A keyed hash that finds a record by exact value without storing the value.
    pub fn blind_index(&self, value: &str) -> String {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.index_key).expect("any key length");
        mac.update(value.as_bytes());
        hex::encode(mac.finalize().into_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encrypts_with_fresh_nonces_and_decrypts() {
        let c = Cipher::new(&SecretKey::from_bytes([1; 32]));
        let a = c.encrypt("11010519491231002X");
        let b = c.encrypt("11010519491231002X");
        assert_ne!(a, b);
        assert_eq!(c.decrypt(&a).as_deref(), Some("11010519491231002X"));
        let other = Cipher::new(&SecretKey::from_bytes([2; 32]));
        assert_eq!(other.decrypt(&a), None);
        assert_eq!(c.blind_index("x"), c.blind_index("x"));
        assert_ne!(c.blind_index("x"), other.blind_index("x"));
    }

    #[test]
    fn a_fingerprint_names_a_key_without_revealing_it() {
        let key = SecretKey::from_bytes([1; 32]);
        let print = key.fingerprint();
        assert_eq!(print, SecretKey::from_bytes([1; 32]).fingerprint());
        assert_ne!(print, SecretKey::from_bytes([2; 32]).fingerprint());
        assert_eq!(KeyFingerprint::parse(print.as_str()), Some(print.clone()));
        assert!(!hex::encode([1u8; 32]).contains(print.as_str()));
        assert_eq!(KeyFingerprint::parse("not a fingerprint"), None);
    }

    #[test]
    fn parses_hex_and_base64_keys() {
        assert!(SecretKey::parse(&"ab".repeat(32)).is_some());
        assert!(SecretKey::parse(&STANDARD.encode([9u8; 32])).is_some());
        assert!(SecretKey::parse("short").is_none());
    }
}
