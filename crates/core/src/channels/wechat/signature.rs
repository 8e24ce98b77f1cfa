//! WeChat's signatures: SHA-1 over the sorted, concatenated parts (`token`, `timestamp`, `nonce`, and in safe mode
//! the `Encrypt` text), in lower-case hex.

use sha1::{Digest, Sha1};

/// How far a callback's timestamp may be from our clock before it is refused as stale or replayed.
pub const MAX_CLOCK_SKEW_SECONDS: i64 = 300;

/// The signature over `parts`.
pub fn sign(parts: &[&str]) -> String {
    let mut sorted = parts.to_vec();
    sorted.sort_unstable();
    hex::encode(Sha1::digest(sorted.concat().as_bytes()))
}

/// True when `signature` is the signature over `parts`; compared in constant time.
pub fn signed(signature: &str, parts: &[&str]) -> bool {
    let expected = sign(parts);
    let given = signature.to_ascii_lowercase();
    expected.len() == given.len() && expected.bytes().zip(given.bytes()).fold(0u8, |acc, (a, b)| acc | (a ^ b)) == 0
}

/// Why a callback's timestamp was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StampError {
    /// Not a number of seconds.
    #[error("the timestamp is not a number of seconds")]
    NotANumber,
    /// Older or newer than [`MAX_CLOCK_SKEW_SECONDS`] from now: a replay, or a clock far off.
    #[error("the timestamp is {skew} s away from now")]
    OutOfWindow {
        /// Seconds between the timestamp and now.
        skew: i64,
    },
}

/// Checks a callback's `timestamp` against `now` (Unix seconds); returns it.
pub fn check_stamp(timestamp: &str, now: i64) -> Result<i64, StampError> {
    let at: i64 = timestamp.trim().parse().map_err(|_| StampError::NotANumber)?;
    let skew = now.saturating_sub(at).saturating_abs();
    if skew > MAX_CLOCK_SKEW_SECONDS { Err(StampError::OutOfWindow { skew }) } else { Ok(at) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_signature_is_sha1_over_the_sorted_parts() {
        // sha1("1409304348" + "QDG6eK" + "xxxxxxxxx") as WeChat's documentation computes it, parts sorted.
        let parts = ["QDG6eK", "1409304348", "xxxxxxxxx"];
        let sorted_concat = "1409304348QDG6eKxxxxxxxxx";
        assert_eq!(sign(&parts), hex::encode(Sha1::digest(sorted_concat.as_bytes())));
        assert_eq!(sign(&["a", "b"]), sign(&["b", "a"]));
        assert!(signed(&sign(&parts), &parts));
        assert!(signed(&sign(&parts).to_uppercase(), &parts));
        assert!(!signed(&sign(&parts)[1..], &parts));
        assert!(!signed("0000000000000000000000000000000000000000", &parts));
    }

    #[test]
    fn stale_and_future_timestamps_are_refused() {
        assert_eq!(check_stamp("1000", 1000 + MAX_CLOCK_SKEW_SECONDS), Ok(1000));
        assert_eq!(check_stamp("1000", 1301), Err(StampError::OutOfWindow { skew: 301 }));
        assert_eq!(check_stamp("2000", 1000), Err(StampError::OutOfWindow { skew: 1000 }));
        assert_eq!(check_stamp("abc", 1000), Err(StampError::NotANumber));
    }
}
