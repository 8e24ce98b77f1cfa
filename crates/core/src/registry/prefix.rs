//! Text that starts with a prefix, as a range of the byte order that databases compare text in.

/// The smallest text greater than every text that starts with `prefix`, when the order is code point by
/// code point (SQLite's `BINARY` collation compares UTF-8 bytes, which order the same way).
///
/// `name >= prefix AND name < prefix_end(prefix)` then selects exactly the names that start with `prefix`, as an
/// index range with a plan that does not depend on the value (unlike `LIKE`). `None` when no such bound exists:
/// the prefix is empty or ends in the last code point.
pub fn prefix_end(prefix: &str) -> Option<String> {
    let mut chars: Vec<char> = prefix.chars().collect();
    // Carry past characters that have no successor, as in counting.
    while let Some(last) = chars.pop() {
        if let Some(next) = successor(last) {
            chars.push(next);
            return Some(chars.into_iter().collect());
        }
    }
    None
}

/// The next Unicode scalar value, skipping the surrogate gap.
fn successor(c: char) -> Option<char> {
    match c {
        '\u{D7FF}' => Some('\u{E000}'),
        char::MAX => None,
        _ => char::from_u32(c as u32 + 1),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn the_last_character_steps_up() {
        assert_eq!(prefix_end("胡").as_deref(), Some("胢"));
        assert_eq!(prefix_end("王小").as_deref(), Some("王尐"));
        assert_eq!(prefix_end("a\u{D7FF}").as_deref(), Some("a\u{E000}"));
        assert_eq!(prefix_end("a\u{10FFFF}").as_deref(), Some("b"));
        assert_eq!(prefix_end(""), None);
        assert_eq!(prefix_end("\u{10FFFF}"), None);
    }

    proptest! {
        /// Within the range exactly when starting with the prefix, comparing UTF-8 bytes as SQLite does.
        #[test]
        fn the_range_holds_exactly_the_texts_with_the_prefix(prefix in "[a-c王胡\u{D7FF}\u{E000}]{1,3}", text in "[a-c王胡\u{D7FF}\u{E000}]{0,5}") {
            let end = prefix_end(&prefix).expect("these prefixes have an end");
            let within = text.as_bytes() >= prefix.as_bytes() && text.as_bytes() < end.as_bytes();
            prop_assert_eq!(within, text.starts_with(&prefix));
        }
    }
}
