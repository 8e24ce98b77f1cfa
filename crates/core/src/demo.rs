//! The deterministic demo of 望坛新苑: the same seed always gives the same community.
//!
//! 2,268 households along 琉璃井路 in six compounds, residents from five origin communities with
//! realistic household sizes and ages, the two households of the article's stories, and accounts for
//! every role. Passwords are not part of the demo: the caller generates them.

use crate::accounts::Role;
use crate::registry::{Gender, IdCardNumber, Relation};
use chrono::{Datelike, Duration, NaiveDate};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::collections::HashSet;

/// The number of households that moved back in first.
pub const HOUSEHOLDS: usize = 2268;

/// The day the article describes; ages in the demo are realistic on this day.
pub fn reference_day() -> NaiveDate {
    NaiveDate::from_ymd_opt(2024, 2, 26).expect("valid date")
}

/// The five old communities the residents came from.
pub const ORIGINS: [&str; 5] = ["望坛社区", "安乐林社区", "东革新里社区", "李村社区", "三元街社区"];

/// A whole demo community.
#[derive(Debug, Clone)]
pub struct Demo {
    /// Community name.
    pub name: &'static str,
    /// Short code used in readable numbers.
    pub code: &'static str,
    /// Street office.
    pub street: &'static str,
    /// District.
    pub district: &'static str,
    /// Compounds with their buildings.
    pub compounds: Vec<DemoCompound>,
    /// Zones (片区): name and the compound numbers they cover.
    pub zones: Vec<(String, Vec<u32>)>,
    /// Households and their residents.
    pub households: Vec<DemoHousehold>,
    /// Accounts for every role.
    pub accounts: Vec<DemoAccount>,
}

/// A compound (院).
#[derive(Debug, Clone)]
pub struct DemoCompound {
    /// Number on 琉璃井路.
    pub number: u32,
    /// Full name, e.g. `琉璃井路3号院`.
    pub name: String,
    /// Buildings: (number, units, floors).
    pub buildings: Vec<(u32, u32, u32)>,
}

/// A household and its members; the first member is the head.
#[derive(Debug, Clone)]
pub struct DemoHousehold {
    /// Compound number.
    pub compound: u32,
    /// Building number.
    pub building: u32,
    /// Unit number.
    pub unit: u32,
    /// Room, e.g. `301`.
    pub room: String,
    /// Origin community (index into [`ORIGINS`]).
    pub origin: usize,
    /// Move-in date.
    pub move_in: NaiveDate,
    /// Members.
    pub members: Vec<DemoResident>,
}

/// A resident.
#[derive(Debug, Clone)]
pub struct DemoResident {
    /// Name.
    pub name: String,
    /// Gender.
    pub gender: Gender,
    /// Birth date.
    pub birth: NaiveDate,
    /// ID-card number.
    pub id_card: IdCardNumber,
    /// Mobile phone, for adults.
    pub phone: Option<String>,
    /// Relation to the head.
    pub relation: Relation,
    /// Wedding date, for married couples.
    pub wedding: Option<NaiveDate>,
    /// Manual tag codes.
    pub tags: Vec<&'static str>,
}

/// A demo account.
#[derive(Debug, Clone)]
pub struct DemoAccount {
    /// Login name.
    pub username: String,
    /// Name shown in the UI.
    pub display_name: String,
    /// Role.
    pub role: Role,
    /// Organisation (property company, developer, street office department).
    pub organization: Option<String>,
    /// Buildings owned, as (compound number, building number).
    pub buildings: Vec<(u32, u32)>,
    /// Zone led or patrolled, by index into [`Demo::zones`].
    pub zone: Option<usize>,
    /// For residents: the household, as (compound, building, unit, room).
    pub household: Option<(u32, u32, u32, String)>,
}

const SURNAMES: &[&str] = &[
    "王", "李", "张", "刘", "陈", "杨", "赵", "黄", "周", "吴", "徐", "孙", "胡", "朱", "高", "林", "何", "郭", "马",
    "罗", "梁", "宋", "郑", "谢", "韩", "唐", "冯", "于", "董", "萧", "程", "曹", "袁", "邓", "许", "傅", "沈", "曾",
    "彭", "吕",
];
const MALE_OLD: &[&str] =
    &["建国", "国强", "志刚", "振华", "德明", "永福", "文革", "卫东", "宝山", "广才", "树林", "长顺"];
const FEMALE_OLD: &[&str] =
    &["秀兰", "桂英", "淑珍", "凤英", "玉兰", "桂兰", "秀英", "丽华", "淑华", "素芬", "金凤", "翠英"];
const MALE_MID: &[&str] = &["伟", "磊", "勇", "军", "涛", "斌", "强", "鹏", "建军", "海涛", "志强", "晓东"];
const FEMALE_MID: &[&str] = &["丽", "静", "敏", "燕", "艳", "娟", "霞", "红梅", "晓燕", "丽娜", "海燕", "雪梅"];
const MALE_YOUNG: &[&str] =
    &["浩然", "子轩", "宇航", "俊杰", "梓豪", "一鸣", "思远", "天佑", "博文", "子墨", "明哲", "嘉树"];
const FEMALE_YOUNG: &[&str] =
    &["欣怡", "梓涵", "诗涵", "雨桐", "子萱", "一诺", "可馨", "思彤", "语嫣", "佳怡", "若曦", "沐晴"];

struct Gen {
    rng: ChaCha8Rng,
    ids: HashSet<String>,
    phones: HashSet<String>,
}

impl Gen {
    fn pick<'a>(&mut self, list: &'a [&'a str]) -> &'a str {
        list[self.rng.random_range(0..list.len())]
    }

    fn given(&mut self, gender: Gender, birth_year: i32) -> String {
        let list = match (gender, birth_year) {
            (Gender::Male, ..1965) => MALE_OLD,
            (Gender::Female, ..1965) => FEMALE_OLD,
            (Gender::Male, ..1995) => MALE_MID,
            (Gender::Female, ..1995) => FEMALE_MID,
            (Gender::Male, _) => MALE_YOUNG,
            (Gender::Female, _) => FEMALE_YOUNG,
        };
        self.pick(list).to_string()
    }

    fn birth(&mut self, age: i32) -> NaiveDate {
        let day = reference_day();
        let start =
            NaiveDate::from_ymd_opt(day.year() - age - 1, day.month(), day.day()).unwrap_or(day) + Duration::days(1);
        start + Duration::days(self.rng.random_range(0..365))
    }

    fn id_card(&mut self, birth: NaiveDate, gender: Gender) -> IdCardNumber {
        loop {
            let seq = self.rng.random_range(0..500) * 2 + u32::from(gender == Gender::Male);
            let id = IdCardNumber::compose(110101, birth, seq);
            if self.ids.insert(id.as_str().to_string()) {
                return id;
            }
        }
    }

    fn phone(&mut self) -> String {
        loop {
            let prefix = self.pick(&["138", "139", "135", "136", "150", "151", "186", "185", "133", "177"]);
            let p = format!("{prefix}{:08}", self.rng.random_range(0..100_000_000u32));
            if self.phones.insert(p.clone()) {
                return p;
            }
        }
    }

    fn person(&mut self, surname: &str, gender: Gender, age: i32, relation: Relation) -> DemoResident {
        let birth = self.birth(age);
        let name = format!("{surname}{}", self.given(gender, birth.year()));
        let id_card = self.id_card(birth, gender);
        let phone = (age >= 18).then(|| self.phone());
        DemoResident { name, gender, birth, id_card, phone, relation, wedding: None, tags: Vec::new() }
    }

    fn household(&mut self) -> (usize, Vec<DemoResident>) {
        let origin = weighted(&mut self.rng, &[30, 22, 18, 16, 14]);
        let size = 1 + weighted(&mut self.rng, &[12, 28, 27, 18, 10, 5]);
        let head_age = if size == 1 { self.rng.random_range(28..92) } else { self.rng.random_range(32..88) };
        let head_gender = if self.rng.random_bool(0.62) { Gender::Male } else { Gender::Female };
        let surname = self.pick(SURNAMES).to_string();
        let mut members = vec![self.person(&surname, head_gender, head_age, Relation::Head)];
        if size == 1 && head_age >= 60 {
            members[0].tags.push("living_alone");
        }
        let married = size >= 2 && self.rng.random_bool(0.85);
        if married {
            let other = if head_gender == Gender::Male { Gender::Female } else { Gender::Male };
            let spouse_age = (head_age + self.rng.random_range(-4..4)).max(22);
            let spouse_surname = self.pick(SURNAMES).to_string();
            let mut spouse = self.person(&spouse_surname, other, spouse_age, Relation::Spouse);
            let married_at = self.rng.random_range(22..29).min(head_age.min(spouse_age));
            let wedding = members[0].birth.with_year(members[0].birth.year() + married_at).unwrap_or(members[0].birth)
                + Duration::days(self.rng.random_range(0..200));
            let wedding = wedding.min(reference_day());
            members[0].wedding = Some(wedding);
            spouse.wedding = Some(wedding);
            members.push(spouse);
        }
        while members.len() < size {
            let n = members.len();
            let gender = if self.rng.random_bool(0.5) { Gender::Male } else { Gender::Female };
            let member = if head_age >= 62 && n == 2 {
                // An adult child living with elderly parents.
                let age = (head_age - self.rng.random_range(24..32)).max(18);
                self.person(&surname, gender, age, Relation::Child)
            } else if head_age >= 62 {
                let age = self.rng.random_range(3..16);
                self.person(&surname, gender, age, Relation::Grandchild)
            } else if head_age >= 45 && n >= 3 && self.rng.random_bool(0.5) {
                let age = (head_age + self.rng.random_range(24..30)).min(96);
                let parent_gender = if self.rng.random_bool(0.6) { Gender::Female } else { Gender::Male };
                self.person(&surname, parent_gender, age, Relation::Parent)
            } else {
                let age = (head_age - self.rng.random_range(22..34)).max(0);
                self.person(&surname, gender, age, Relation::Child)
            };
            members.push(member);
        }
        for m in &mut members {
            let adult = reference_day().year() - m.birth.year() >= 18;
            if adult && self.rng.random_bool(0.08) {
                m.tags.push("party_member");
            }
            if self.rng.random_bool(0.02) {
                m.tags.push("disability");
            }
        }
        (origin, members)
    }
}

fn weighted(rng: &mut ChaCha8Rng, weights: &[u32]) -> usize {
    let total: u32 = weights.iter().sum();
    let mut x = rng.random_range(0..total);
    for (i, w) in weights.iter().enumerate() {
        if x < *w {
            return i;
        }
        x -= w;
    }
    weights.len() - 1
}

/// Generates the demo community from `seed`.
pub fn generate(seed: u64) -> Demo {
    let mut g = Gen { rng: ChaCha8Rng::seed_from_u64(seed), ids: HashSet::new(), phones: HashSet::new() };
    let building_counts = [5u32, 6, 8, 6, 5, 6];
    let compounds: Vec<DemoCompound> = building_counts
        .iter()
        .enumerate()
        .map(|(i, &n)| {
            let number = i as u32 + 1;
            let buildings = (1..=n)
                .map(|b| {
                    let floors = [11u32, 12, 14, 16][g.rng.random_range(0..4)];
                    (b, 3, floors)
                })
                .collect();
            DemoCompound { number, name: format!("琉璃井路{number}号院"), buildings }
        })
        .collect();
    let zones = vec![
        ("第一片区".to_string(), vec![1, 2]),
        ("第二片区".to_string(), vec![3]),
        ("第三片区".to_string(), vec![4, 5]),
        ("第四片区".to_string(), vec![6]),
    ];
    let move_in_start = NaiveDate::from_ymd_opt(2023, 4, 20).expect("valid date");
    let mut households = Vec::with_capacity(HOUSEHOLDS);
    // 36 buildings of 3 units with 21 occupied flats each: exactly 2,268 households.
    let per_unit = HOUSEHOLDS / (compounds.iter().map(|c| c.buildings.len()).sum::<usize>() * 3);
    for c in &compounds {
        for &(b, units, floors) in &c.buildings {
            for u in 1..=units {
                let flats = (1..=floors).flat_map(|f| (1..=2).map(move |r| format!("{f}{r:02}")));
                for room in flats.take(per_unit) {
                    let (origin, members) = g.household();
                    let move_in = move_in_start + Duration::days(g.rng.random_range(0..150));
                    households.push(DemoHousehold {
                        compound: c.number,
                        building: b,
                        unit: u,
                        room,
                        origin,
                        move_in,
                        members,
                    });
                }
            }
        }
    }
    assert_eq!(households.len(), HOUSEHOLDS, "the demo plan must fill exactly the first households");
    plant_stories(&mut g, &mut households);
    let accounts = accounts(&compounds);
    Demo {
        name: "望坛新苑",
        code: "WT",
        street: "永外街道",
        district: "东城区",
        compounds,
        zones,
        households,
        accounts,
    }
}

/// The households of the article's stories, at the addresses it gives.
fn plant_stories(g: &mut Gen, households: &mut [DemoHousehold]) {
    let at = |households: &[DemoHousehold], c: u32, b: u32, u: u32, room: &str| {
        households
            .iter()
            .position(|h| h.compound == c && h.building == b && h.unit == u && h.room == room)
            .expect("demo address exists")
    };
    // 胡阿姨 lives on a low floor of 琉璃井路3号院7号楼, alone since her husband died.
    let hu = at(households, 3, 7, 1, "102");
    let mut aunt = g.person("胡", Gender::Female, 67, Relation::Head);
    aunt.name = "胡桂兰".into();
    aunt.tags = vec!["living_alone"];
    households[hu].members = vec![aunt];
    // 王先生 of 琉璃井路6号院1号楼, with his wife and a school-age son.
    let wang = at(households, 6, 1, 2, "501");
    let mut mr = g.person("王", Gender::Male, 46, Relation::Head);
    mr.name = "王志刚".into();
    let mut wife = g.person("刘", Gender::Female, 44, Relation::Spouse);
    wife.name = "刘晓燕".into();
    let wedding = NaiveDate::from_ymd_opt(2008, 10, 1).expect("valid date");
    mr.wedding = Some(wedding);
    wife.wedding = Some(wedding);
    let mut son = g.person("王", Gender::Male, 9, Relation::Child);
    son.name = "王子轩".into();
    households[wang].members = vec![mr, wife, son];
}

fn accounts(compounds: &[DemoCompound]) -> Vec<DemoAccount> {
    let account = |username: &str, name: &str, role: Role| DemoAccount {
        username: username.into(),
        display_name: name.into(),
        role,
        organization: None,
        buildings: vec![],
        zone: None,
        household: None,
    };
    let all_buildings: Vec<(u32, u32)> =
        compounds.iter().flat_map(|c| c.buildings.iter().map(move |b| (c.number, b.0))).collect();
    let mut list = vec![account("admin", "系统管理员", Role::Admin), account("zhangli", "张丽(筹备组)", Role::Staff)];
    // Four building social workers share the 36 buildings in address order.
    let workers = [
        ("sw_liu", "刘芳(包楼社工)"),
        ("sw_chen", "陈静(包楼社工)"),
        ("sw_zhao", "赵敏(包楼社工)"),
        ("sw_sun", "孙磊(包楼社工)"),
    ];
    let per = all_buildings.len().div_ceil(workers.len());
    for (i, (u, n)) in workers.iter().enumerate() {
        let mut a = account(u, n, Role::SocialWorker);
        a.buildings = all_buildings.iter().skip(i * per).take(per).copied().collect();
        list.push(a);
    }
    for (i, (u, n)) in [("patrol_li", "李强(巡查队)"), ("patrol_ma", "马军(巡查队)")].iter().enumerate() {
        let mut a = account(u, n, Role::Patrol);
        a.zone = Some(i);
        list.push(a);
    }
    let mut v = account("vol_wang", "王志刚(志愿者)", Role::Volunteer);
    v.household = Some((6, 1, 2, "501".into()));
    list.push(v);
    let mut p = account("wuye", "京城物业 望坛项目部", Role::Property);
    p.organization = Some("京城物业".into());
    list.push(p);
    let mut d = account("kaifa", "望坛棚改开发商", Role::Developer);
    d.organization = Some("开发商".into());
    list.push(d);
    let mut s = account("jiedao", "永外街道社区建设办", Role::Street);
    s.organization = Some("永外街道社区建设办".into());
    list.push(s);
    let mut r = account("jumin_hu", "胡桂兰", Role::Resident);
    r.household = Some((3, 7, 1, "102".into()));
    list.push(r);
    list
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registry::derived_tags;

    #[test]
    fn the_same_seed_gives_the_same_community() {
        let a = generate(7);
        let b = generate(7);
        assert_eq!(a.households.len(), b.households.len());
        assert_eq!(a.households[100].members[0].name, b.households[100].members[0].name);
        assert_eq!(a.households[2000].members[0].id_card, b.households[2000].members[0].id_card);
    }

    #[test]
    fn it_has_what_the_article_and_later_features_need() {
        let demo = generate(2023);
        assert_eq!(demo.households.len(), HOUSEHOLDS);
        let residents: Vec<&DemoResident> = demo.households.iter().flat_map(|h| &h.members).collect();
        assert!(residents.len() > 5000 && residents.len() < 9000, "{}", residents.len());
        let day = reference_day();
        let golden = residents
            .iter()
            .filter(|r| {
                r.relation == Relation::Head && derived_tags(r.birth, r.wedding, day).contains(&"golden_wedding")
            })
            .count();
        assert!(golden >= 20, "golden-wedding couples: {golden}");
        let school = residents.iter().filter(|r| derived_tags(r.birth, None, day).contains(&"school_age")).count();
        assert!(school >= 100, "school-age children: {school}");
        let alone = residents.iter().filter(|r| r.tags.contains(&"living_alone")).count();
        assert!(alone >= 50, "living alone: {alone}");
        for origin in 0..ORIGINS.len() {
            assert!(demo.households.iter().any(|h| h.origin == origin));
        }
        let hu = demo.households.iter().find(|h| h.compound == 3 && h.building == 7 && h.members[0].name == "胡桂兰");
        assert!(hu.is_some());
        let roles: HashSet<Role> = demo.accounts.iter().map(|a| a.role).collect();
        assert_eq!(roles.len(), Role::ALL.len());
        // Every building has a social worker.
        let owned: usize = demo.accounts.iter().map(|a| a.buildings.len()).sum();
        assert_eq!(owned, demo.compounds.iter().map(|c| c.buildings.len()).sum::<usize>());
    }

    #[test]
    fn every_generated_id_number_is_valid_and_unique() {
        let demo = generate(1);
        let mut seen = HashSet::new();
        for r in demo.households.iter().flat_map(|h| &h.members) {
            assert!(IdCardNumber::parse(r.id_card.as_str()).is_ok());
            assert!(seen.insert(r.id_card.as_str().to_string()));
            assert_eq!(r.id_card.birth_date(), r.birth);
        }
    }
}
