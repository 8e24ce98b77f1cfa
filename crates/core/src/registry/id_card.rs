//! Resident ID-card numbers (居民身份证号码) as defined by GB 11643-1999.

use chrono::NaiveDate;
use std::fmt;

/// Why a string is not a valid ID-card number. The message is shown to staff as is.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdCardError {
    /// Not 17 digits followed by a digit or `X`.
    #[error("must be 18 characters: 17 digits and a final digit or X")]
    Format,
    /// The embedded birth date is not a real date.
    #[error("the birth date in positions 7–14 is not a real date")]
    BirthDate,
    /// The check character does not match the first 17 digits.
    #[error("the check digit is wrong (expected {expected})")]
    Checksum {
        /// The check character the first 17 digits call for.
        expected: char,
    },
}

/// A checked 18-character ID-card number. Holding one means the checksum and birth date are valid.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct IdCardNumber(String);

const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
const CHECK: [char; 11] = ['1', '0', 'X', '9', '8', '7', '6', '5', '4', '3', '2'];

/// The GB 11643 check character for 17 leading digits.
pub fn check_char(first17: &[u8; 17]) -> char {
    let sum: u32 = first17.iter().zip(WEIGHTS).map(|(d, w)| u32::from(d - b'0') * w).sum();
    CHECK[(sum % 11) as usize]
}

impl IdCardNumber {
    /// Parses and checks a number; a lower-case `x` and surrounding spaces are accepted.
    pub fn parse(raw: &str) -> Result<Self, IdCardError> {
        let s = raw.trim().to_ascii_uppercase();
        let b = s.as_bytes();
        if b.len() != 18 || !b[..17].iter().all(u8::is_ascii_digit) || !(b[17].is_ascii_digit() || b[17] == b'X') {
            return Err(IdCardError::Format);
        }
        let date = &s[6..14];
        NaiveDate::parse_from_str(date, "%Y%m%d").map_err(|_| IdCardError::BirthDate)?;
        let mut first = [0u8; 17];
        first.copy_from_slice(&b[..17]);
        let expected = check_char(&first);
        if expected != b[17] as char {
            return Err(IdCardError::Checksum { expected });
        }
        Ok(Self(s))
    }

    /// The full number. Callers must log a personal-data read before showing it.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The birth date encoded in the number.
    pub fn birth_date(&self) -> NaiveDate {
        NaiveDate::parse_from_str(&self.0[6..14], "%Y%m%d").expect("checked in parse")
    }

    /// Odd 17th digit means male.
    pub fn is_male(&self) -> bool {
        (self.0.as_bytes()[16] - b'0') % 2 == 1
    }

    /// The masked form shown by default: `110***********123X`.
    pub fn masked(&self) -> String {
        format!("{}***********{}", &self.0[..3], &self.0[14..])
    }

    /// Builds a valid number from a region code, a birth date and a 3-digit sequence (demo data, tests).
    pub fn compose(region: u32, birth: NaiveDate, seq: u32) -> Self {
        let body = format!("{:06}{}{:03}", region % 1_000_000, birth.format("%Y%m%d"), seq % 1000);
        let mut first = [0u8; 17];
        first.copy_from_slice(body.as_bytes());
        let c = check_char(&first);
        Self(format!("{body}{c}"))
    }
}

impl fmt::Debug for IdCardNumber {
    // Never print the full number into logs.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "IdCardNumber({})", self.masked())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn accepts_the_standard_example() {
        // The worked example of GB 11643-1999.
        let n = IdCardNumber::parse("11010519491231002x").unwrap();
        assert_eq!(n.as_str(), "11010519491231002X");
        assert_eq!(n.birth_date(), NaiveDate::from_ymd_opt(1949, 12, 31).unwrap());
        assert!(!n.is_male());
        assert_eq!(n.masked(), "110***********002X");
    }

    #[test]
    fn rejects_a_wrong_check_digit() {
        assert_eq!(IdCardNumber::parse("110105194912310021"), Err(IdCardError::Checksum { expected: 'X' }));
    }

    #[test]
    fn rejects_bad_shapes_and_dates() {
        assert_eq!(IdCardNumber::parse("12345"), Err(IdCardError::Format));
        assert_eq!(IdCardNumber::parse("1101051949123100X2"), Err(IdCardError::Format));
        assert_eq!(IdCardNumber::parse("110105194902300021"), Err(IdCardError::BirthDate));
    }

    proptest! {
        #[test]
        fn composed_numbers_parse_and_any_single_digit_change_is_caught(
            region in 110000u32..660000, days in 0i64..40000, seq in 0u32..1000, pos in 0usize..17, delta in 1u8..10,
        ) {
            let birth = NaiveDate::from_ymd_opt(1920, 1, 1).unwrap() + chrono::Duration::days(days);
            let n = IdCardNumber::compose(region, birth, seq);
            prop_assert_eq!(IdCardNumber::parse(n.as_str()).unwrap(), n.clone());
            let mut bytes = n.as_str().as_bytes().to_vec();
            bytes[pos] = b'0' + (bytes[pos] - b'0' + delta) % 10;
            let changed = String::from_utf8(bytes).unwrap();
            prop_assert!(IdCardNumber::parse(&changed).is_err());
        }
    }
}
