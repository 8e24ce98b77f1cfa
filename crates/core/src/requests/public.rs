//! What anyone may read of a request without signing in (Open311's public reads), and the callback phone that
//! other systems send as free text. The rules are ours: no names, phones or e-mail addresses, and a place at
//! building level at most, so that a request cannot be traced to a home.

use crate::registry::PhoneNumber;

/// Whether a community answers Open311 reads from anyone, or only from the systems it issued a key to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PublicReads {
    /// Anyone may read (the GeoReport default): the public record only.
    Open,
    /// Only a client with the community's key.
    KeyOnly,
}

impl PublicReads {
    /// From the stored flag.
    pub fn from_flag(open: bool) -> Self {
        if open { Self::Open } else { Self::KeyOnly }
    }

    /// The stored flag.
    pub fn is_open(self) -> bool {
        self == Self::Open
    }

    /// Whether a reader gets the community's public records: `keyed` when it presented a key of the community.
    pub fn admits(self, keyed: bool) -> bool {
        self.is_open() || keyed
    }
}

/// Where a request is, as the public may read it: the building at most, never the unit or the room.
///
/// Kept up to the first building marker (`7号楼`, `3栋`, `2幢`, `B座`); without one, cut before the first unit
/// or room marker (`单元`, `室`, `户`); contacts left out as in [`without_contacts`].
pub fn public_place(location: &str) -> String {
    const BUILDING: [&str; 4] = ["号楼", "栋", "幢", "座"];
    const DWELLING: [&str; 4] = ["单元", "室", "户", "号房"];
    // `栋`, `幢` and `座` mark a building after its number or letter only (`座椅` is a seat).
    let numbered = |at: usize| {
        location[..at]
            .chars()
            .next_back()
            .is_some_and(|c| c.is_ascii_alphanumeric() || "一二三四五六七八九十".contains(c))
    };
    let building_end = BUILDING
        .iter()
        .filter_map(|m| {
            location.match_indices(*m).find(|(at, _)| *m == "号楼" || numbered(*at)).map(|(at, _)| at + m.len())
        })
        .min();
    let kept = match building_end {
        Some(end) => &location[..end],
        None => match DWELLING.iter().filter_map(|m| location.find(*m)).min() {
            Some(start) => location[..start].trim_end_matches(|c: char| c.is_ascii_digit() || c == '-'),
            None => location,
        },
    };
    without_contacts(kept.trim())
}

/// Text with what reaches a person left out: e-mail addresses and phone numbers (seven digits or more, also
/// written with spaces, dashes, dots or parentheses between them; dates like `2024-05-01` stay) become `***`.
pub fn without_contacts(text: &str) -> String {
    let words: Vec<String> = text
        .split_inclusive(char::is_whitespace)
        .map(|w| {
            let word = w.trim_end();
            if word.contains('@') && word.contains('.') && !word.starts_with('@') {
                format!("***{}", &w[word.len()..])
            } else {
                w.to_string()
            }
        })
        .collect();
    without_numbers(&words.concat())
}

/// Replaces every phone-like run of digits with `***`.
fn without_numbers(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let joins = |c: char| matches!(c, '-' | '.' | '(' | ')' | ' ');
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < chars.len() {
        let starts = chars[i].is_ascii_digit()
            || (matches!(chars[i], '+' | '(') && chars.get(i + 1).is_some_and(char::is_ascii_digit));
        if !starts {
            out.push(chars[i]);
            i += 1;
            continue;
        }
        // The run: digits, and single joining characters between digits.
        let mut end = i + 1;
        let mut j = i + 1;
        while j < chars.len() {
            if chars[j].is_ascii_digit() {
                j += 1;
                end = j;
            } else if chars[j] == ')'
                || (joins(chars[j]) && chars.get(j + 1).is_some_and(|c| c.is_ascii_digit() || *c == '('))
            {
                j += 1;
            } else {
                break;
            }
        }
        let run: String = chars[i..end].iter().collect();
        let groups: Vec<usize> = run.split(|c: char| !c.is_ascii_digit()).map(str::len).filter(|n| *n > 0).collect();
        let digits: usize = groups.iter().sum();
        let date = run.contains('-') && groups.len() == 3 && groups[0] == 4 && groups[1] <= 2 && groups[2] <= 2;
        if digits >= 7 && !date {
            out.push_str("***");
        } else {
            out.push_str(&run);
        }
        i = end;
    }
    out
}

/// The phone a request's contact gave, to call back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CallbackPhone {
    /// A number we can read: a Chinese mobile or landline, normalised.
    Checked(PhoneNumber),
    /// Anything else another system sent (GeoReport's `phone` is free text: `+1 617-555-0100`, an extension):
    /// kept as given, without control characters, at most [`CallbackPhone::MAX_CHARS`] characters.
    AsGiven(String),
}

impl CallbackPhone {
    /// The longest free-text phone kept.
    pub const MAX_CHARS: usize = 40;

    /// A phone from a channel that sends free text: never refused; `None` only when nothing is left of it.
    pub fn lenient(raw: &str) -> Option<Self> {
        let raw = raw.trim();
        if let Ok(n) = PhoneNumber::parse(raw) {
            return Some(Self::Checked(n));
        }
        let kept: String = raw.chars().filter(|c| !c.is_control()).take(Self::MAX_CHARS).collect();
        let kept = kept.trim();
        (!kept.is_empty()).then(|| Self::AsGiven(kept.to_string()))
    }

    /// The text stored.
    pub fn as_str(&self) -> &str {
        match self {
            Self::Checked(n) => n.as_str(),
            Self::AsGiven(s) => s,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_public_place_stops_at_the_building() {
        for (given, public) in [
            ("琉璃井路6号院1号楼2单元501", "琉璃井路6号院1号楼"),
            ("琉璃井路3号院7号楼1单元电梯", "琉璃井路3号院7号楼"),
            ("望坛新苑3栋502室", "望坛新苑3栋"),
            ("北区2幢", "北区2幢"),
            ("琉璃井路6号院3单元", "琉璃井路6号院"),
            ("6号院502室", "6号院"),
            ("东门", "东门"),
            ("小区座椅坏了", "小区座椅坏了"),
            ("B座大堂", "B座"),
            ("地下车库 B2", "地下车库 B2"),
            ("东门 电话 13800138000", "东门 电话 ***"),
        ] {
            assert_eq!(public_place(given), public, "{given}");
        }
    }

    #[test]
    fn contacts_are_left_out_of_public_text() {
        for (given, public) in [
            ("电梯停在三楼,请联系 13800138000", "电梯停在三楼,请联系 ***"),
            ("call +1-617-555-0100 or hu@example.com", "call *** or ***"),
            ("call (617)555-0100", "call ***"),
            ("3号楼2单元 502 漏水 10 天了", "3号楼2单元 502 漏水 10 天了"),
            ("2024-05-01 起", "2024-05-01 起"),
            ("回电 138 0013 8000 谢谢", "回电 *** 谢谢"),
            ("@物业 请处理", "@物业 请处理"),
        ] {
            assert_eq!(without_contacts(given), public, "{given}");
        }
    }

    #[test]
    fn a_free_text_phone_is_kept_and_a_chinese_one_normalised() {
        assert_eq!(CallbackPhone::lenient("+86 138-0013-8000").unwrap().as_str(), "13800138000");
        assert!(matches!(CallbackPhone::lenient("138 0013 8000"), Some(CallbackPhone::Checked(_))));
        assert_eq!(
            CallbackPhone::lenient(" +1 617-555-0100 ext. 12 "),
            Some(CallbackPhone::AsGiven("+1 617-555-0100 ext. 12".into()))
        );
        assert_eq!(CallbackPhone::lenient("555\u{0}-5555"), Some(CallbackPhone::AsGiven("555-5555".into())));
        assert_eq!(CallbackPhone::lenient(&"9".repeat(60)).unwrap().as_str().chars().count(), CallbackPhone::MAX_CHARS);
        assert_eq!(CallbackPhone::lenient(" \u{7} "), None);
    }

    #[test]
    fn public_reads_admit_anyone_when_open_and_keyed_clients_always() {
        assert!(PublicReads::Open.admits(false) && PublicReads::Open.admits(true));
        assert!(!PublicReads::KeyOnly.admits(false) && PublicReads::KeyOnly.admits(true));
        assert_eq!(PublicReads::from_flag(true), PublicReads::Open);
        assert!(!PublicReads::from_flag(false).is_open());
    }
}
