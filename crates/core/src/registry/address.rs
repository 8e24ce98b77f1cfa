//! Addresses such as `琉璃井路3号院7号楼2单元301`, whole or in part.

use serde::Serialize;

/// What staff typed to find a household: any prefix-free subset of road, compound, building, unit and room.
///
/// `3号院7号楼2单元301`, `7号楼2单元`, `琉璃井路3号院` and `3-7-2-301` all parse.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct AddressQuery {
    /// Road name such as `琉璃井路`.
    pub road: Option<String>,
    /// Compound number (院).
    pub compound: Option<u32>,
    /// Building number (楼).
    pub building: Option<u32>,
    /// Unit number (单元).
    pub unit: Option<u32>,
    /// Room, such as `301`.
    pub room: Option<String>,
}

impl AddressQuery {
    /// Parses address text; returns `None` when the text holds no address part at all.
    pub fn parse(text: &str) -> Option<Self> {
        let text: String = text.chars().filter(|c| !c.is_whitespace()).collect();
        if text.is_empty() {
            return None;
        }
        if let Some(q) = Self::parse_dashed(&text) {
            return Some(q);
        }
        let mut q = Self::default();
        let mut rest = text.as_str();
        // A road is the text before the first digit, when it ends in 路/街/道/巷/胡同.
        if let Some(i) = rest.find(|c: char| c.is_ascii_digit()) {
            let head = &rest[..i];
            if ["路", "街", "道", "巷", "胡同", "里"].iter().any(|s| head.ends_with(s)) {
                q.road = Some(head.to_string());
                rest = &rest[i..];
            } else if !head.is_empty() {
                return None;
            }
        } else {
            return None;
        }
        while !rest.is_empty() {
            let end = rest.find(|c: char| !c.is_ascii_digit()).unwrap_or(rest.len());
            if end == 0 {
                return None;
            }
            let number = &rest[..end];
            let after = &rest[end..];
            let markers: [(&str, u8); 6] = [("号院", 0), ("院", 0), ("号楼", 1), ("栋", 1), ("楼", 1), ("单元", 2)];
            let hit = markers.iter().find(|(m, _)| after.starts_with(m));
            match hit {
                Some((m, slot)) => {
                    let n: u32 = number.parse().ok()?;
                    let field = match slot {
                        0 => &mut q.compound,
                        1 => &mut q.building,
                        _ => &mut q.unit,
                    };
                    if field.replace(n).is_some() {
                        return None;
                    }
                    rest = &after[m.len()..];
                }
                None => {
                    // A trailing number is the room, optionally followed by 室 or 号.
                    let tail = after.strip_prefix("室").or_else(|| after.strip_prefix("号")).unwrap_or(after);
                    if !tail.is_empty() {
                        return None;
                    }
                    q.room = Some(number.to_string());
                    rest = "";
                }
            }
        }
        Some(q)
    }

    fn parse_dashed(text: &str) -> Option<Self> {
        let parts: Vec<&str> = text.split('-').collect();
        if parts.len() != 4 || !parts.iter().all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit())) {
            return None;
        }
        Some(Self {
            road: None,
            compound: parts[0].parse().ok(),
            building: parts[1].parse().ok(),
            unit: parts[2].parse().ok(),
            room: Some(parts[3].to_string()),
        })
    }

    /// True when the query names a single household (compound, building, unit and room).
    pub fn is_complete(&self) -> bool {
        self.compound.is_some() && self.building.is_some() && self.unit.is_some() && self.room.is_some()
    }
}

/// The canonical text of a household address.
pub fn format_address(compound_name: &str, building: u32, unit: u32, room: &str) -> String {
    format!("{compound_name}{building}号楼{unit}单元{room}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(road: Option<&str>, c: Option<u32>, b: Option<u32>, u: Option<u32>, r: Option<&str>) -> AddressQuery {
        AddressQuery { road: road.map(str::to_string), compound: c, building: b, unit: u, room: r.map(str::to_string) }
    }

    #[test]
    fn parses_full_and_partial_addresses() {
        assert_eq!(
            AddressQuery::parse("琉璃井路3号院7号楼2单元301"),
            Some(q(Some("琉璃井路"), Some(3), Some(7), Some(2), Some("301")))
        );
        assert_eq!(AddressQuery::parse("3号院7号楼2单元301"), Some(q(None, Some(3), Some(7), Some(2), Some("301"))));
        assert_eq!(AddressQuery::parse("7号楼2单元"), Some(q(None, None, Some(7), Some(2), None)));
        assert_eq!(AddressQuery::parse("3院7楼2单元301室"), Some(q(None, Some(3), Some(7), Some(2), Some("301"))));
        assert_eq!(AddressQuery::parse("3-7-2-301"), Some(q(None, Some(3), Some(7), Some(2), Some("301"))));
        assert_eq!(AddressQuery::parse(" 6号院 1号楼 "), Some(q(None, Some(6), Some(1), None, None)));
    }

    #[test]
    fn names_are_not_addresses() {
        assert_eq!(AddressQuery::parse("胡秀兰"), None);
        assert_eq!(AddressQuery::parse(""), None);
        assert_eq!(AddressQuery::parse("3号院3号院"), None);
        assert_eq!(AddressQuery::parse("张3号楼"), None);
    }

    #[test]
    fn formats_the_canonical_address() {
        assert_eq!(format_address("琉璃井路3号院", 7, 2, "301"), "琉璃井路3号院7号楼2单元301");
    }
}
