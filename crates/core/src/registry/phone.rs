//! Phone numbers: mainland mobile numbers and Beijing-style landlines.

use std::fmt;

/// Why a string is not a phone number we accept.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("must be an 11-digit mobile number starting with 13–19, or a landline such as 010-65123456")]
pub struct PhoneError;

/// A validated phone number in canonical form (`13812345678` or `010-65123456`).
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct PhoneNumber(String);

impl PhoneNumber {
    /// Parses a number, tolerating spaces, dashes inside mobiles and a `+86` prefix.
    pub fn parse(raw: &str) -> Result<Self, PhoneError> {
        let mut s: String = raw.chars().filter(|c| !c.is_whitespace()).collect();
        if let Some(rest) = s.strip_prefix("+86") {
            s = rest.trim_start_matches('-').to_string();
        }
        let digits: String = s.chars().filter(|c| *c != '-').collect();
        if !digits.chars().all(|c| c.is_ascii_digit()) {
            return Err(PhoneError);
        }
        let b = digits.as_bytes();
        if b.len() == 11 && b[0] == b'1' && (b'3'..=b'9').contains(&b[1]) {
            return Ok(Self(digits));
        }
        // Landline with area code: 0 + 2–3 digit area code + 7–8 digit number.
        if b.first() == Some(&b'0') && (10..=12).contains(&b.len()) {
            let area = if b[1] == b'1' || b[1] == b'2' { 3 } else { 4 };
            if b.len() - area >= 7 {
                return Ok(Self(format!("{}-{}", &digits[..area], &digits[area..])));
            }
        }
        // A local 8-digit landline, assumed Beijing.
        if b.len() == 8 && b[0] != b'0' && b[0] != b'1' {
            return Ok(Self(format!("010-{digits}")));
        }
        Err(PhoneError)
    }

    /// The full number. Callers must check the role may see it and log the read.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The last four digits, used to find a resident by "phone tail".
    pub fn tail(&self) -> &str {
        &self.0[self.0.len() - 4..]
    }

    /// The masked form shown by default: `138****5678`.
    pub fn masked(&self) -> String {
        let n = self.0.len();
        format!("{}****{}", &self.0[..3], &self.0[n - 4..])
    }
}

impl fmt::Debug for PhoneNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PhoneNumber({})", self.masked())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_mobiles_and_landlines() {
        assert_eq!(PhoneNumber::parse("138 1234 5678").unwrap().as_str(), "13812345678");
        assert_eq!(PhoneNumber::parse("+86-13812345678").unwrap().as_str(), "13812345678");
        assert_eq!(PhoneNumber::parse("010-65123456").unwrap().as_str(), "010-65123456");
        assert_eq!(PhoneNumber::parse("65123456").unwrap().as_str(), "010-65123456");
        assert_eq!(PhoneNumber::parse("0571-87654321").unwrap().as_str(), "0571-87654321");
    }

    #[test]
    fn rejects_what_cannot_be_dialled() {
        for bad in ["", "12812345678", "1381234567", "138123456789", "abc", "02345"] {
            assert_eq!(PhoneNumber::parse(bad), Err(PhoneError), "{bad}");
        }
    }

    #[test]
    fn masks_the_middle() {
        let p = PhoneNumber::parse("13812345678").unwrap();
        assert_eq!(p.masked(), "138****5678");
        assert_eq!(p.tail(), "5678");
    }
}
