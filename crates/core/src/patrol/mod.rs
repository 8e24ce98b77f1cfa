//! The order pillar (吾家有治): patrol plans and rounds, findings, rectification cases and the tri-party joint
//! meeting. Everything here decides; the store remembers what was decided.

pub mod cases;
pub mod figures;
pub mod meetings;
pub mod plans;

use serde::Serialize;

/// What a patrol finds. The first two are illegal construction (违建), which the zero board counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
pub enum FindingType {
    /// An outward-protruding window guard (外扩护栏).
    WindowGuard,
    /// Other illegal construction: enclosed balconies, sheds, extensions (私搭乱建).
    IllegalConstruction,
    /// Things piled in corridors and stairwells (堆物堆料).
    CorridorClutter,
    /// Laundry dried in public places (随意晾晒).
    Laundry,
    /// A fire lane blocked (占用消防通道).
    FireLane,
    /// E-bikes charged in corridors (楼道充电).
    EbikeCharging,
    /// Damaged public facilities (设施损坏).
    DamagedFacility,
    /// Anything else worth recording.
    Other,
}

impl FindingType {
    /// Every type, in the order forms show them.
    pub const ALL: [FindingType; 8] = [
        Self::WindowGuard,
        Self::IllegalConstruction,
        Self::CorridorClutter,
        Self::Laundry,
        Self::FireLane,
        Self::EbikeCharging,
        Self::DamagedFacility,
        Self::Other,
    ];

    /// Stable code, as stored and sent.
    pub fn code(self) -> &'static str {
        match self {
            Self::WindowGuard => "window_guard",
            Self::IllegalConstruction => "illegal_construction",
            Self::CorridorClutter => "corridor_clutter",
            Self::Laundry => "laundry",
            Self::FireLane => "fire_lane",
            Self::EbikeCharging => "ebike_charging",
            Self::DamagedFacility => "damaged_facility",
            Self::Other => "other",
        }
    }

    /// Reads a code.
    pub fn parse(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.code() == code)
    }

    /// The Chinese name used on patrol sheets, for search and exports.
    pub fn name_zh(self) -> &'static str {
        match self {
            Self::WindowGuard => "外扩护栏",
            Self::IllegalConstruction => "私搭乱建",
            Self::CorridorClutter => "楼道堆物",
            Self::Laundry => "随意晾晒",
            Self::FireLane => "占用消防通道",
            Self::EbikeCharging => "楼道充电",
            Self::DamagedFacility => "设施损坏",
            Self::Other => "其他",
        }
    }

    /// Illegal construction, which the zero-illegal-construction board counts.
    pub fn is_illegal_construction(self) -> bool {
        matches!(self, Self::WindowGuard | Self::IllegalConstruction)
    }

    /// The default checklist of a plan: every type but `Other`.
    pub fn checklist() -> Vec<FindingType> {
        Self::ALL.into_iter().filter(|t| *t != Self::Other).collect()
    }
}

/// Where a finding is. A finding always has a place: the type makes "nowhere" unrepresentable.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Place {
    /// A public area, described (地下车库 B2, 3号院南门).
    Public {
        /// The description.
        text: String,
    },
    /// A building as a whole (its facade, roof).
    Building {
        /// The building.
        building: i64,
    },
    /// A unit's stairwell and corridors.
    Unit {
        /// The building.
        building: i64,
        /// The unit.
        unit: i64,
    },
    /// One household.
    Household {
        /// The building.
        building: i64,
        /// The unit.
        unit: i64,
        /// The household.
        household: i64,
    },
}

/// Why a place could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlaceError {
    /// No place at all.
    #[error(
        "请说明位置：公共区域、楼栋、单元或住户 / a finding needs a place: public area, building, unit or household"
    )]
    Missing,
    /// A public place described with too many characters.
    #[error("位置描述最多 100 字 / the place description is at most 100 characters")]
    TooLong,
}

impl Place {
    /// Chooses the most precise place given; a public description is used only when nothing else is.
    pub fn from_parts(
        text: Option<&str>,
        building: Option<i64>,
        unit: Option<i64>,
        household: Option<i64>,
    ) -> Result<(Self, String), PlaceError> {
        let text = text.map(str::trim).unwrap_or_default().to_string();
        if text.chars().count() > 100 {
            return Err(PlaceError::TooLong);
        }
        let place = match (building, unit, household) {
            (Some(b), Some(u), Some(h)) => Place::Household { building: b, unit: u, household: h },
            (Some(b), Some(u), None) => Place::Unit { building: b, unit: u },
            (Some(b), None, _) => Place::Building { building: b },
            _ if !text.is_empty() => Place::Public { text: text.clone() },
            _ => return Err(PlaceError::Missing),
        };
        Ok((place, text))
    }

    /// The kind's code, as stored.
    pub fn kind(&self) -> &'static str {
        match self {
            Place::Public { .. } => "public",
            Place::Building { .. } => "building",
            Place::Unit { .. } => "unit",
            Place::Household { .. } => "household",
        }
    }

    /// A key that is equal for the same spot, to recognise a problem coming back (复发).
    pub fn key(&self) -> String {
        match self {
            Place::Public { text } => format!("p:{}", normalise(text)),
            Place::Building { building } => format!("b:{building}"),
            Place::Unit { unit, .. } => format!("u:{unit}"),
            Place::Household { household, .. } => format!("h:{household}"),
        }
    }

    /// The building, when the place is in one.
    pub fn building(&self) -> Option<i64> {
        match self {
            Place::Public { .. } => None,
            Place::Building { building } | Place::Unit { building, .. } | Place::Household { building, .. } => {
                Some(*building)
            }
        }
    }
}

/// Public places are typed by hand: ignore spaces and letter case so that "B2 车库" and "b2车库" match.
fn normalise(text: &str) -> String {
    text.chars().filter(|c| !c.is_whitespace()).flat_map(char::to_lowercase).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip_and_only_two_types_are_illegal_construction() {
        for t in FindingType::ALL {
            assert_eq!(FindingType::parse(t.code()), Some(t));
        }
        let illegal: Vec<_> = FindingType::ALL.into_iter().filter(|t| t.is_illegal_construction()).collect();
        assert_eq!(illegal, [FindingType::WindowGuard, FindingType::IllegalConstruction]);
        assert_eq!(FindingType::parse("nonsense"), None);
    }

    #[test]
    fn a_finding_without_a_place_is_refused() {
        assert_eq!(Place::from_parts(None, None, None, None), Err(PlaceError::Missing));
        assert_eq!(Place::from_parts(Some("   "), None, None, None), Err(PlaceError::Missing));
        assert_eq!(Place::from_parts(Some(&"长".repeat(101)), None, None, None), Err(PlaceError::TooLong));
    }

    #[test]
    fn the_most_precise_place_wins() {
        let (p, _) = Place::from_parts(Some("南门"), Some(1), Some(2), Some(3)).unwrap();
        assert_eq!(p, Place::Household { building: 1, unit: 2, household: 3 });
        assert_eq!(p.key(), "h:3");
        assert_eq!(p.building(), Some(1));
        let (p, _) = Place::from_parts(None, Some(1), Some(2), None).unwrap();
        assert_eq!(p.kind(), "unit");
        let (p, text) = Place::from_parts(Some(" 地下车库 B2 "), None, None, None).unwrap();
        assert_eq!(text, "地下车库 B2");
        assert_eq!(p.building(), None);
    }

    #[test]
    fn the_same_public_spot_typed_differently_has_one_key() {
        let a = Place::from_parts(Some("B2 车库"), None, None, None).unwrap().0;
        let b = Place::from_parts(Some("b2车库"), None, None, None).unwrap().0;
        assert_eq!(a.key(), b.key());
    }
}
