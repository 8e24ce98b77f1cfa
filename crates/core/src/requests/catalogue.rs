//! The default category catalogue a fresh installation starts with (three levels, editable later).

use super::Urgency;
use serde::{Deserialize, Serialize};

/// Who handles a category by default.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HandlerKind {
    /// Community staff (the preparatory group).
    Staff,
    /// The household's building social worker.
    SocialWorker,
    /// The property company.
    Property,
    /// The developer.
    Developer,
    /// A street office department.
    Street,
}

impl HandlerKind {
    /// Stable code.
    pub fn code(self) -> &'static str {
        match self {
            Self::Staff => "staff",
            Self::SocialWorker => "social_worker",
            Self::Property => "property",
            Self::Developer => "developer",
            Self::Street => "street",
        }
    }

    /// Parses a code.
    pub fn from_code(code: &str) -> Option<Self> {
        [Self::Staff, Self::SocialWorker, Self::Property, Self::Developer, Self::Street]
            .into_iter()
            .find(|h| h.code() == code)
    }
}

/// One category of the default catalogue; `parent` names the parent's code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CategorySeed {
    /// Stable code, e.g. `property.repair.elevator`.
    pub code: &'static str,
    /// Parent's code (none for top level).
    pub parent: Option<&'static str>,
    /// Chinese name.
    pub name_zh: &'static str,
    /// English name.
    pub name_en: &'static str,
    /// Default handler.
    pub handler: HandlerKind,
    /// Urgency, which sets the time limits.
    pub urgency: Urgency,
    /// Questions the form asks (Open311 attributes).
    pub questions: &'static [&'static str],
}

const fn seed(
    code: &'static str,
    parent: Option<&'static str>,
    name_zh: &'static str,
    name_en: &'static str,
    handler: HandlerKind,
    urgency: Urgency,
    questions: &'static [&'static str],
) -> CategorySeed {
    CategorySeed { code, parent, name_zh, name_en, handler, urgency, questions }
}

/// The catalogue as shipped, parents before children.
pub fn default_catalogue() -> Vec<CategorySeed> {
    use HandlerKind::*;
    use Urgency::*;
    vec![
        seed("property", None, "物业服务", "Property services", Property, General, &[]),
        seed("property.repair", Some("property"), "设施维修", "Facility repair", Property, General, &[]),
        seed(
            "property.repair.elevator",
            Some("property.repair"),
            "电梯故障",
            "Elevator fault",
            Property,
            Emergency,
            &["是否有人被困?", "哪部电梯(楼号、单元)?"],
        ),
        seed(
            "property.repair.pipe",
            Some("property.repair"),
            "水管爆裂、漏水",
            "Burst pipe or leak",
            Property,
            Emergency,
            &["漏水位置?"],
        ),
        seed(
            "property.repair.public",
            Some("property.repair"),
            "公共设施损坏",
            "Damaged public facility",
            Property,
            General,
            &[],
        ),
        seed("property.environment", Some("property"), "环境卫生", "Cleanliness", Property, General, &[]),
        seed(
            "property.environment.garbage",
            Some("property.environment"),
            "垃圾清运",
            "Rubbish removal",
            Property,
            General,
            &[],
        ),
        seed("utilities", None, "水电气热", "Water, power, gas and heating", Property, Utilities, &[]),
        seed("utilities.supply", Some("utilities"), "供应中断", "Supply cut", Property, Utilities, &[]),
        seed(
            "utilities.supply.power",
            Some("utilities.supply"),
            "停电",
            "Power cut",
            Property,
            Utilities,
            &["影响哪些楼栋?"],
        ),
        seed("utilities.supply.water", Some("utilities.supply"), "停水", "Water cut", Property, Utilities, &[]),
        seed(
            "utilities.supply.heating",
            Some("utilities.supply"),
            "供暖不热",
            "Heating not warm",
            Property,
            Utilities,
            &[],
        ),
        seed("utilities.safety", Some("utilities"), "安全隐患", "Safety hazard", Property, Emergency, &[]),
        seed(
            "utilities.safety.gas",
            Some("utilities.safety"),
            "燃气异味",
            "Gas smell",
            Property,
            Emergency,
            &["是否已关闭燃气阀门?"],
        ),
        seed("education", None, "教育", "Education", Street, General, &[]),
        seed("education.enrolment", Some("education"), "入学咨询", "Enrolment questions", Street, General, &[]),
        seed(
            "education.enrolment.school_age",
            Some("education.enrolment"),
            "适龄儿童入学信息采集",
            "School-age enrolment data",
            Street,
            General,
            &["孩子出生年月?"],
        ),
        seed("elderly", None, "为老服务", "Services for the elderly", SocialWorker, General, &[]),
        seed("elderly.daily", Some("elderly"), "生活帮扶", "Daily help", SocialWorker, General, &[]),
        seed(
            "elderly.daily.groceries",
            Some("elderly.daily"),
            "助餐买菜",
            "Meals and groceries",
            SocialWorker,
            General,
            &["每周需要几次?"],
        ),
        seed("housing", None, "房屋质量", "Housing quality", Developer, Complex, &[]),
        seed("housing.defect", Some("housing"), "交付遗留问题", "Defects from delivery", Developer, Complex, &[]),
        seed(
            "housing.defect.flue",
            Some("housing.defect"),
            "燃气热水器排烟",
            "Water-heater flue",
            Developer,
            Complex,
            &[],
        ),
        seed("housing.defect.leak", Some("housing.defect"), "墙体渗漏", "Wall leak", Developer, Complex, &[]),
        seed("order", None, "社区秩序", "Community order", Staff, General, &[]),
        seed("order.construction", Some("order"), "违法建设", "Illegal construction", Staff, General, &[]),
        seed(
            "order.construction.guard",
            Some("order.construction"),
            "外扩护栏",
            "Outward window guard",
            Staff,
            General,
            &[],
        ),
        seed("order.public", Some("order"), "公共秩序", "Public order", Staff, General, &[]),
        seed("order.public.clutter", Some("order.public"), "楼道堆物", "Corridor clutter", Staff, General, &[]),
        seed("other", None, "咨询建议", "Questions and suggestions", Staff, General, &[]),
        seed("other.general", Some("other"), "一般咨询", "General question", Staff, General, &[]),
        seed("other.general.suggestion", Some("other.general"), "意见建议", "Suggestion", Staff, General, &[]),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn the_catalogue_is_a_three_level_tree_with_unique_codes() {
        let cats = default_catalogue();
        let mut seen = HashSet::new();
        for c in &cats {
            if let Some(p) = c.parent {
                assert!(seen.contains(p), "{} comes after its parent", c.code);
            }
            assert!(seen.insert(c.code), "duplicate {}", c.code);
            assert!(c.code.split('.').count() <= 3);
        }
        let leaves = cats.iter().filter(|c| c.code.split('.').count() == 3).count();
        assert!(leaves >= 15);
        assert!(cats.iter().any(|c| c.code == "property.repair.elevator" && c.urgency == Urgency::Emergency));
        assert_eq!(HandlerKind::from_code("developer"), Some(HandlerKind::Developer));
    }
}
