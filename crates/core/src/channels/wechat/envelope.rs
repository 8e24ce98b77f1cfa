//! The safe-mode envelope: AES-256-CBC under the account's EncodingAESKey, the IV its first 16 bytes, the plain
//! text `16 random bytes ‖ message length (4 bytes, big-endian) ‖ message ‖ appid` padded PKCS#7 to 32 bytes, the
//! whole in Base64.

use aes::Aes256;
use aes::cipher::block_padding::NoPadding;
use aes::cipher::{BlockDecryptMut, BlockEncryptMut, KeyIvInit};
use base64::Engine;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig, STANDARD};
use base64::{alphabet, engine::DecodePaddingMode};

/// PKCS#7 pads to this block, not AES's 16.
const PAD_BLOCK: usize = 32;

/// EncodingAESKeys are 43 characters whose last one carries two bits more than the 32 bytes need; WeChat does not
/// keep them zero (Tencent's own sample key ends in `G`), so they are allowed.
const KEY_BASE64: GeneralPurpose = GeneralPurpose::new(
    &alphabet::STANDARD,
    GeneralPurposeConfig::new()
        .with_decode_allow_trailing_bits(true)
        .with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// The account's EncodingAESKey, decoded: holding one proves it is 43 Base64 characters of 32 bytes.
#[derive(Clone)]
pub struct AesKey([u8; 32]);

impl std::fmt::Debug for AesKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AesKey(***)")
    }
}

/// Why an EncodingAESKey was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    /// Not 43 characters long.
    #[error("an EncodingAESKey has 43 characters, this one has {0}")]
    Length(usize),
    /// Not Base64 of 32 bytes.
    #[error("an EncodingAESKey is Base64 (A–Z, a–z, 0–9, + and /)")]
    NotBase64(#[source] base64::DecodeError),
}

impl AesKey {
    /// Parses the EncodingAESKey shown on the account's developer page.
    pub fn parse(encoding_aes_key: &str) -> Result<Self, KeyError> {
        let text = encoding_aes_key.trim();
        if text.chars().count() != 43 {
            return Err(KeyError::Length(text.chars().count()));
        }
        let bytes = KEY_BASE64.decode(text).map_err(KeyError::NotBase64)?;
        let key: [u8; 32] = bytes.try_into().map_err(|_| KeyError::Length(43))?;
        Ok(Self(key))
    }

    fn iv(&self) -> [u8; 16] {
        let mut iv = [0; 16];
        iv.copy_from_slice(&self.0[..16]);
        iv
    }
}

/// Why an envelope could not be opened.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EnvelopeError {
    /// The `Encrypt` text is not Base64.
    #[error("the envelope is not Base64")]
    NotBase64(#[source] base64::DecodeError),
    /// Not whole AES blocks, or padding that is not PKCS#7 to 32 bytes: not sealed with our key.
    #[error("the envelope was not sealed with this account's key")]
    Undecryptable,
    /// The stated length runs past the end.
    #[error("the envelope's length field is wrong")]
    Length,
    /// Sealed for another account.
    #[error("the envelope is for another account")]
    OtherAccount,
    /// The message is not UTF-8.
    #[error("the message is not UTF-8")]
    NotText,
}

/// Seals `message` for the account `appid`; `random` is 16 fresh random bytes.
pub fn seal(key: &AesKey, appid: &str, message: &str, random: [u8; 16]) -> String {
    let mut plain = Vec::with_capacity(20 + message.len() + appid.len() + PAD_BLOCK);
    plain.extend_from_slice(&random);
    plain.extend_from_slice(&u32::try_from(message.len()).unwrap_or(u32::MAX).to_be_bytes());
    plain.extend_from_slice(message.as_bytes());
    plain.extend_from_slice(appid.as_bytes());
    let pad = PAD_BLOCK - plain.len() % PAD_BLOCK;
    plain.resize(plain.len() + pad, pad as u8);
    let sealed =
        cbc::Encryptor::<Aes256>::new(&key.0.into(), &key.iv().into()).encrypt_padded_vec_mut::<NoPadding>(&plain);
    STANDARD.encode(sealed)
}

/// Opens an envelope sealed for the account `appid`; returns the message inside.
pub fn open(key: &AesKey, appid: &str, encrypted: &str) -> Result<String, EnvelopeError> {
    let sealed = STANDARD.decode(encrypted.trim()).map_err(EnvelopeError::NotBase64)?;
    if sealed.is_empty() || sealed.len() % PAD_BLOCK != 0 {
        return Err(EnvelopeError::Undecryptable);
    }
    let plain = cbc::Decryptor::<Aes256>::new(&key.0.into(), &key.iv().into())
        .decrypt_padded_vec_mut::<NoPadding>(&sealed)
        .map_err(|_| EnvelopeError::Undecryptable)?;
    let pad = usize::from(*plain.last().ok_or(EnvelopeError::Undecryptable)?);
    if pad == 0 || pad > PAD_BLOCK || plain[plain.len() - pad..].iter().any(|&b| usize::from(b) != pad) {
        return Err(EnvelopeError::Undecryptable);
    }
    let content = &plain[..plain.len() - pad];
    let header = content.get(16..20).ok_or(EnvelopeError::Length)?;
    let len = u32::from_be_bytes([header[0], header[1], header[2], header[3]]) as usize;
    let message = content.get(20..20usize.saturating_add(len)).ok_or(EnvelopeError::Length)?;
    if &content[20 + len..] != appid.as_bytes() {
        return Err(EnvelopeError::OtherAccount);
    }
    String::from_utf8(message.to_vec()).map_err(|_| EnvelopeError::NotText)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::channels::wechat::signed;

    /// Tencent's published sample key (WXBizMsgCrypt samples for Java, Python, C#, PHP).
    const SAMPLE_KEY: &str = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG";

    #[test]
    fn sealing_matches_tencents_published_sample() {
        // WXBizMsgCryptTest.testAesEncrypt: appid wxb11529c136998cb6, random "aaaabbbbccccdddd".
        let key = AesKey::parse(SAMPLE_KEY).unwrap();
        let sealed = seal(&key, "wxb11529c136998cb6", "我是中文abcd123", *b"aaaabbbbccccdddd");
        assert_eq!(sealed, "jn1L23DB+6ELqJ+6bruv21Y6MD7KeIfP82D6gU39rmkgczbWwt5+3bnyg5K55bgVtVzd832WzZGMhkP72vVOfg==");
        assert_eq!(open(&key, "wxb11529c136998cb6", &sealed).unwrap(), "我是中文abcd123");
    }

    #[test]
    fn tencents_sample_callback_verifies_and_opens() {
        // The decryption sample of WXBizMsgCrypt: token spamtest, appid wx2c2769f8efd9abc2.
        let encrypt = "hyzAe4OzmOMbd6TvGdIOO6uBmdJoD0Fk53REIHvxYtJlE2B655HuD0m8KUePWB3+LrPXo87wzQ1QLvbeUgmBM4x6F8PGHQHFVAFmOD2LdJF9FrXpbUAh0B5GIItb52sn896wVsMSHGuPE328HnRGBcrS7C41IzDWyWNlZkyyXwon8T332jisa+h6tEDYsVticbSnyU8dKOIbgU6ux5VTjg3yt+WGzjlpKn6NPhRjpA912xMezR4kw6KWwMrCVKSVCZciVGCgavjIQ6X8tCOp3yZbGpy0VxpAe+77TszTfRd5RJSVO/HTnifJpXgCSUdUue1v6h0EIBYYI1BD1DlD+C0CR8e6OewpusjZ4uBl9FyJvnhvQl+q5rv1ixrcpCumEPo5MJSgM9ehVsNPfUM669WuMyVWQLCzpu9GhglF2PE=";
        assert!(signed("5d197aaffba7e9b25a30732f161a50dee96bd5fa", &["spamtest", "1409735669", "1320562132", encrypt]));
        let key = AesKey::parse(SAMPLE_KEY).unwrap();
        let message = open(&key, "wx2c2769f8efd9abc2", encrypt).unwrap();
        let incoming = crate::channels::wechat::Incoming::parse(&message).unwrap();
        assert_eq!(incoming.from.as_str(), "oyORnuP8q7ou2gfYjqLzSIWZf0rs");
        assert_eq!(incoming.msg_id.as_deref(), Some("6054768590064713728"));
        assert_eq!(incoming.body, crate::channels::wechat::Body::Text { content: "abcdteT".into() });
        assert_eq!(open(&key, "wx0000000000000000", encrypt), Err(EnvelopeError::OtherAccount));
    }

    #[test]
    fn envelopes_not_sealed_with_the_key_are_refused() {
        let key = AesKey::parse(SAMPLE_KEY).unwrap();
        let other = AesKey::parse("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789abcdefg").unwrap();
        let sealed = seal(&other, "wx1", "hello", [7; 16]);
        assert!(matches!(open(&key, "wx1", &sealed), Err(EnvelopeError::Undecryptable | EnvelopeError::Length)));
        assert!(matches!(open(&key, "wx1", "not base64!"), Err(EnvelopeError::NotBase64(_))));
        assert_eq!(open(&key, "wx1", "AAAA"), Err(EnvelopeError::Undecryptable));
        assert!(matches!(AesKey::parse("short"), Err(KeyError::Length(5))));
        assert!(matches!(AesKey::parse(&"!".repeat(43)), Err(KeyError::NotBase64(_))));
        // Every length of message pads to whole 32-byte blocks and opens again.
        for n in 0..70 {
            let m = "字".repeat(n);
            assert_eq!(open(&key, "wx1", &seal(&key, "wx1", &m, [n as u8; 16])).unwrap(), m);
        }
    }
}
