//! A resident's record, parsed from what staff typed or what a file held.

use super::{IdCardNumber, PhoneNumber};
use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};

/// One field that failed validation, with a message a person can act on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldError {
    /// The field's name as used in forms, files and the API (`id_card`, `phone`, …).
    pub field: String,
    /// Why it is wrong, in plain words.
    pub message: String,
}

impl FieldError {
    /// A field error.
    pub fn new(field: &str, message: impl Into<String>) -> Self {
        Self { field: field.to_string(), message: message.into() }
    }
}

/// Gender as recorded on the ID card.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Gender {
    /// 男
    Male,
    /// 女
    Female,
}

impl Gender {
    /// Accepts `男`/`女`, `M`/`F`, `male`/`female`.
    pub fn parse(s: &str) -> Option<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "男" | "m" | "male" => Some(Self::Male),
            "女" | "f" | "female" => Some(Self::Female),
            _ => None,
        }
    }
    /// Stable code stored in the database.
    pub fn code(self) -> &'static str {
        match self {
            Self::Male => "male",
            Self::Female => "female",
        }
    }
    /// Chinese label.
    pub fn zh(self) -> &'static str {
        match self {
            Self::Male => "男",
            Self::Female => "女",
        }
    }
}

/// Relation to the head of household (与户主关系).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Relation {
    /// 户主
    Head,
    /// 配偶
    Spouse,
    /// 子女
    Child,
    /// 父母
    Parent,
    /// 孙子女
    Grandchild,
    /// 兄弟姐妹
    Sibling,
    /// 儿媳/女婿
    ChildInLaw,
    /// 其他
    Other,
}

impl Relation {
    /// All relations, in form order.
    pub const ALL: [Relation; 8] = [
        Self::Head,
        Self::Spouse,
        Self::Child,
        Self::Parent,
        Self::Grandchild,
        Self::Sibling,
        Self::ChildInLaw,
        Self::Other,
    ];
    /// Stable code stored in the database.
    pub fn code(self) -> &'static str {
        match self {
            Self::Head => "head",
            Self::Spouse => "spouse",
            Self::Child => "child",
            Self::Parent => "parent",
            Self::Grandchild => "grandchild",
            Self::Sibling => "sibling",
            Self::ChildInLaw => "child_in_law",
            Self::Other => "other",
        }
    }
    /// Chinese label, as written in household registers and import files.
    pub fn zh(self) -> &'static str {
        match self {
            Self::Head => "户主",
            Self::Spouse => "配偶",
            Self::Child => "子女",
            Self::Parent => "父母",
            Self::Grandchild => "孙子女",
            Self::Sibling => "兄弟姐妹",
            Self::ChildInLaw => "儿媳/女婿",
            Self::Other => "其他",
        }
    }
    /// Accepts the code or the Chinese label (and common variants).
    pub fn parse(s: &str) -> Option<Self> {
        let s = s.trim();
        Self::ALL.into_iter().find(|r| r.code() == s || r.zh() == s).or(match s {
            "本人" => Some(Self::Head),
            "妻" | "夫" | "妻子" | "丈夫" => Some(Self::Spouse),
            "子" | "女" | "儿子" | "女儿" => Some(Self::Child),
            "父亲" | "母亲" => Some(Self::Parent),
            "孙子" | "孙女" | "外孙" | "外孙女" => Some(Self::Grandchild),
            "儿媳" | "女婿" => Some(Self::ChildInLaw),
            _ => None,
        })
    }
}

/// Parses `YYYY-MM-DD` (also `YYYY/MM/DD` and `YYYYMMDD`).
pub fn parse_date(s: &str) -> Option<NaiveDate> {
    let s = s.trim();
    ["%Y-%m-%d", "%Y/%m/%d", "%Y%m%d", "%Y.%m.%d"].iter().find_map(|f| NaiveDate::parse_from_str(s, f).ok())
}

/// Age in whole years on `day`.
pub fn age_on(birth: NaiveDate, day: NaiveDate) -> u32 {
    let mut age = day.year() - birth.year();
    if (day.month(), day.day()) < (birth.month(), birth.day()) {
        age -= 1;
    }
    age.max(0) as u32
}

/// Tags that follow from dates alone (see [`super::DERIVED_TAGS`]).
pub fn derived_tags(birth: NaiveDate, wedding: Option<NaiveDate>, today: NaiveDate) -> Vec<&'static str> {
    let age = age_on(birth, today);
    let mut tags = Vec::new();
    if age >= 60 {
        tags.push("elderly_60");
    }
    if age >= 80 {
        tags.push("elderly_80");
    }
    if (6..=15).contains(&age) {
        tags.push("school_age");
    }
    if wedding.is_some_and(|w| age_on(w, today) >= 50) {
        tags.push("golden_wedding");
    }
    tags
}

/// A resident as typed in a form or read from a file row: every field still text.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(default)]
pub struct ResidentInput {
    /// 姓名
    pub name: String,
    /// 性别; may be blank when an ID number gives it.
    pub gender: String,
    /// 出生日期; may be blank when an ID number gives it.
    pub birth_date: String,
    /// 身份证号
    pub id_card: String,
    /// 联系电话
    pub phone: String,
    /// 来源社区 (one of the community's origin communities)
    pub origin: String,
    /// 入住日期
    pub move_in_date: String,
    /// 与户主关系
    pub relation: String,
    /// 结婚日期
    pub wedding_date: String,
    /// Manual tags, by code or Chinese name, separated by commas or 、.
    pub tags: String,
}

/// A resident whose every field has been checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResidentDraft {
    /// Name, 1–40 characters.
    pub name: String,
    /// Gender.
    pub gender: Gender,
    /// Birth date, not in the future.
    pub birth_date: NaiveDate,
    /// ID-card number, when known.
    pub id_card: Option<IdCardNumber>,
    /// Phone number, when known.
    pub phone: Option<PhoneNumber>,
    /// Origin community name (the store checks it is one of the community's).
    pub origin: Option<String>,
    /// Move-in date.
    pub move_in_date: Option<NaiveDate>,
    /// Relation to the head of household.
    pub relation: Relation,
    /// Wedding date, for anniversary events.
    pub wedding_date: Option<NaiveDate>,
    /// Manual tag codes or names, as given.
    pub tags: Vec<String>,
}

impl ResidentInput {
    /// Checks every field and reports all problems at once.
    pub fn parse(&self, today: NaiveDate) -> Result<ResidentDraft, Vec<FieldError>> {
        let mut errors = Vec::new();
        let name = self.name.trim().to_string();
        if name.is_empty() {
            errors.push(FieldError::new("name", "姓名不能为空 / name is required"));
        } else if name.chars().count() > 40 || name.chars().any(char::is_control) {
            errors.push(FieldError::new("name", "姓名过长或含有非法字符 / name is too long or has control characters"));
        }
        let id_card = match self.id_card.trim() {
            "" => None,
            raw => match IdCardNumber::parse(raw) {
                Ok(n) => Some(n),
                Err(e) => {
                    errors.push(FieldError::new("id_card", format!("身份证号无效 / invalid ID number: {e}")));
                    None
                }
            },
        };
        let phone = match self.phone.trim() {
            "" => None,
            raw => match PhoneNumber::parse(raw) {
                Ok(p) => Some(p),
                Err(e) => {
                    errors.push(FieldError::new("phone", format!("电话号码无效 / invalid phone: {e}")));
                    None
                }
            },
        };
        let birth_date = match self.birth_date.trim() {
            "" => id_card.as_ref().map(IdCardNumber::birth_date),
            raw => match parse_date(raw) {
                Some(d) => Some(d),
                None => {
                    errors
                        .push(FieldError::new("birth_date", "出生日期应为 YYYY-MM-DD / birth date must be YYYY-MM-DD"));
                    None
                }
            },
        };
        if let Some(d) = birth_date {
            if d > today {
                errors.push(FieldError::new("birth_date", "出生日期不能晚于今天 / birth date is in the future"));
            }
            if let Some(id) = &id_card
                && id.birth_date() != d
            {
                errors.push(FieldError::new(
                    "birth_date",
                    "出生日期与身份证号不一致 / birth date does not match the ID number",
                ));
            }
        } else if self.birth_date.trim().is_empty() {
            errors.push(FieldError::new(
                "birth_date",
                "出生日期或身份证号至少填一项 / give a birth date or an ID number",
            ));
        }
        let gender = match self.gender.trim() {
            "" => id_card.as_ref().map(|n| if n.is_male() { Gender::Male } else { Gender::Female }),
            raw => match Gender::parse(raw) {
                Some(g) => Some(g),
                None => {
                    errors.push(FieldError::new("gender", "性别应为 男 或 女 / gender must be 男 or 女"));
                    None
                }
            },
        };
        if let (Some(g), Some(id)) = (gender, &id_card)
            && (g == Gender::Male) != id.is_male()
        {
            errors.push(FieldError::new("gender", "性别与身份证号不一致 / gender does not match the ID number"));
        }
        if gender.is_none() && self.gender.trim().is_empty() {
            errors.push(FieldError::new("gender", "性别不能为空 / gender is required"));
        }
        let relation = match self.relation.trim() {
            "" => Some(Relation::Other),
            raw => Relation::parse(raw).or_else(|| {
                errors.push(FieldError::new("relation", format!("未知的与户主关系「{raw}」 / unknown relation")));
                None
            }),
        };
        let mut optional_date = |field: &str, raw: &str| match raw.trim() {
            "" => None,
            raw => parse_date(raw).or_else(|| {
                errors.push(FieldError::new(field, "日期应为 YYYY-MM-DD / date must be YYYY-MM-DD"));
                None
            }),
        };
        let move_in_date = optional_date("move_in_date", &self.move_in_date);
        let wedding_date = optional_date("wedding_date", &self.wedding_date);
        let origin = Some(self.origin.trim().to_string()).filter(|s| !s.is_empty());
        let tags = self
            .tags
            .split([',', '，', '、', ';', '；'])
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .map(str::to_string)
            .collect();
        if !errors.is_empty() {
            return Err(errors);
        }
        Ok(ResidentDraft {
            name,
            gender: gender.expect("checked"),
            birth_date: birth_date.expect("checked"),
            id_card,
            phone,
            origin,
            move_in_date,
            relation: relation.expect("checked"),
            wedding_date,
            tags,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2024, 2, 26).unwrap()
    }

    #[test]
    fn fills_gender_and_birth_date_from_the_id_number() {
        let input = ResidentInput {
            name: "胡秀兰".into(),
            id_card: "11010519491231002X".into(),
            relation: "户主".into(),
            ..Default::default()
        };
        let d = input.parse(today()).unwrap();
        assert_eq!(d.gender, Gender::Female);
        assert_eq!(d.birth_date, NaiveDate::from_ymd_opt(1949, 12, 31).unwrap());
        assert_eq!(d.relation, Relation::Head);
    }

    #[test]
    fn reports_every_bad_field_at_once() {
        let input = ResidentInput {
            name: "".into(),
            id_card: "110105194912310021".into(),
            phone: "123".into(),
            relation: "邻居".into(),
            ..Default::default()
        };
        let errs = input.parse(today()).unwrap_err();
        let fields: Vec<&str> = errs.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["name", "id_card", "phone", "birth_date", "gender", "relation"]);
    }

    #[test]
    fn refuses_a_birth_date_that_contradicts_the_id_number() {
        let input = ResidentInput {
            name: "王建国".into(),
            id_card: "11010519491231002X".into(),
            birth_date: "1950-01-01".into(),
            ..Default::default()
        };
        let errs = input.parse(today()).unwrap_err();
        assert_eq!(errs[0].field, "birth_date");
    }

    #[test]
    fn derives_age_and_anniversary_tags() {
        let d = |y, m, day| NaiveDate::from_ymd_opt(y, m, day).unwrap();
        assert_eq!(
            derived_tags(d(1940, 1, 1), Some(d(1965, 5, 1)), today()),
            ["elderly_60", "elderly_80", "golden_wedding"]
        );
        assert_eq!(derived_tags(d(1964, 2, 27), None, today()), Vec::<&str>::new());
        assert_eq!(derived_tags(d(1964, 2, 26), None, today()), ["elderly_60"]);
        assert_eq!(derived_tags(d(2016, 1, 1), None, today()), ["school_age"]);
        assert_eq!(age_on(d(2000, 2, 29), d(2024, 2, 28)), 23);
    }
}
