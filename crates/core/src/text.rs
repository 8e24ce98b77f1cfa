//! What text and numbers may reach the database and the documents we write.
//!
//! PostgreSQL refuses a NUL in text, and XML 1.0 has no way to write most control characters: a person never
//! means to send them, so every edge refuses them, naming the field. Newline, tab and carriage return (which
//! browsers send inside textareas) are text.

/// Whether `c` may not appear in text we take in: control characters other than newline, tab and carriage
/// return (NUL included, and DEL and the C1 controls), and the non-characters U+FFFE and U+FFFF, which XML
/// cannot carry either.
pub fn is_forbidden(c: char) -> bool {
    (c.is_control() && !matches!(c, '\n' | '\t' | '\r')) || matches!(c, '\u{FFFE}' | '\u{FFFF}')
}

/// Whether `s` holds a character that [`is_forbidden`].
pub fn has_forbidden(s: &str) -> bool {
    s.chars().any(is_forbidden)
}

/// The message for a field holding a forbidden character.
pub const FORBIDDEN_MESSAGE: &str =
    "含有不可见的控制字符,请删除后重试 / contains a control character (only newline and tab are allowed)";

/// A latitude and longitude in degrees, both finite and in range.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Coordinates {
    /// Degrees north, −90 to 90.
    pub lat: f64,
    /// Degrees east, −180 to 180.
    pub long: f64,
}

impl Coordinates {
    /// Parses decimal degrees; the error names the field (`lat` or `long`) and says why.
    pub fn parse(lat: &str, long: &str) -> Result<Self, (&'static str, &'static str)> {
        let degrees = |text: &str, field: &'static str, limit: f64| match text.trim().parse::<f64>() {
            Ok(v) if v.is_finite() && v.abs() <= limit => Ok(v),
            _ if field == "lat" => Err((field, "应为 -90 到 90 之间的度数 / must be degrees between -90 and 90")),
            _ => Err((field, "应为 -180 到 180 之间的度数 / must be degrees between -180 and 180")),
        };
        Ok(Self { lat: degrees(lat, "lat", 90.0)?, long: degrees(long, "long", 180.0)? })
    }
}

impl std::fmt::Display for Coordinates {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{},{}", self.lat, self.long)
    }
}

/// A finite, non-negative number no larger than `max`, parsed from a form field.
pub fn bounded_number(text: &str, max: f64) -> Option<f64> {
    text.trim().parse::<f64>().ok().filter(|v| v.is_finite() && (0.0..=max).contains(v))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_are_forbidden_but_line_breaks_and_tabs_are_text() {
        for c in ['\0', '\u{1}', '\u{1b}', '\u{7f}', '\u{85}', '\u{FFFF}'] {
            assert!(is_forbidden(c), "{c:?}");
        }
        for c in ['\n', '\t', '\r', ' ', '吾', '\u{3000}'] {
            assert!(!is_forbidden(c), "{c:?}");
        }
    }

    #[test]
    fn coordinates_are_finite_and_in_range() {
        assert_eq!(Coordinates::parse("39.87", "116.40"), Ok(Coordinates { lat: 39.87, long: 116.4 }));
        assert_eq!(Coordinates::parse("-90", "180").map(|c| c.to_string()), Ok("-90,180".into()));
        for (lat, long, field) in [
            ("91", "0", "lat"),
            ("0", "181", "long"),
            ("1e308", "0", "lat"),
            ("0", "NaN", "long"),
            ("inf", "0", "lat"),
            ("x", "0", "lat"),
        ] {
            assert_eq!(Coordinates::parse(lat, long).map_err(|(f, _)| f), Err(field), "{lat},{long}");
        }
    }
}
