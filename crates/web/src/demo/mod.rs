//! The demo's service history: the article's stories and a year of ordinary requests, taken in and worked
//! through the same workflow as live ones, on a clock that walks from May 2023 to February 2024.

use crate::auth::{Auth, Via};
use crate::error::ApiError;
use crate::{AppState, Config, FixedClock};
use chrono::{DateTime, Duration, TimeZone, Utc};
use chrono_tz::Asia::Shanghai;
use rand::{Rng, SeedableRng};
use std::collections::HashMap;
use std::sync::Arc;
use wujia_app::requests::{RequestView, TakeIn, act, take_in};
use wujia_core::requests::{Channel, Command, Satisfaction, Solved};
use wujia_store::Store;

mod activities;
mod patrol;
mod reception;

pub use activities::load_activity_history;
pub use patrol::load_patrol_history;
pub use reception::load_reception_history;

/// Every account of the demo, acting as itself.
async fn demo_accounts(store: &Store) -> Result<HashMap<String, Auth>, ApiError> {
    let mut accounts = HashMap::new();
    for user in store.users().await? {
        let actor = store.actor(&user).await?;
        accounts.insert(user.username.clone(), Auth::new(user, actor, None, String::new(), Via::ApiToken));
    }
    Ok(accounts)
}

fn beijing(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
    Shanghai.with_ymd_and_hms(y, m, d, h, min, 0).single().expect("valid Beijing time").with_timezone(&Utc)
}

struct History {
    state: AppState,
    clock: Arc<FixedClock>,
    accounts: HashMap<String, Auth>,
    categories: HashMap<String, i64>,
}

impl History {
    fn at(&self, t: DateTime<Utc>) {
        self.clock.set(t);
    }

    fn who(&self, username: &str) -> Result<&Auth, ApiError> {
        self.accounts.get(username).ok_or_else(|| ApiError::Internal(format!("demo account {username} is missing")))
    }

    async fn take(
        &self,
        username: &str,
        at: DateTime<Utc>,
        category: &str,
        description: &str,
        channel: Option<Channel>,
        (household, location): (Option<i64>, &str),
    ) -> Result<RequestView, ApiError> {
        self.at(at);
        let body = TakeIn {
            category_id: *self
                .categories
                .get(category)
                .ok_or_else(|| ApiError::Internal(format!("no category {category}")))?,
            description: description.into(),
            channel: None,
            household_id: household,
            location: Some(location.into()),
            contact_name: None,
            contact_phone: None,
            answers: serde_json::Map::new(),
            external_no: None,
            community_id: None,
        };
        Ok(take_in(&self.state.app, self.who(username)?, &body, channel).await?)
    }

    async fn step(
        &self,
        username: &str,
        at: DateTime<Utc>,
        row: RequestView,
        command: Command,
    ) -> Result<RequestView, ApiError> {
        self.at(at);
        Ok(act(&self.state.app, self.who(username)?, row.id, row.version, &command).await?)
    }

    /// Respond, dispatch, start, resolve, follow up and close, at the given offsets from receipt (minutes).
    async fn full_course(
        &self,
        row: RequestView,
        lead: &str,
        minutes: [i64; 5],
        resolution: &str,
        verdict: (Solved, Satisfaction),
    ) -> Result<RequestView, ApiError> {
        let t0 = row.received_at;
        let lead_id = self.who(lead)?.user.id;
        let row = self
            .step(
                "zhangli",
                t0 + Duration::minutes(minutes[0]),
                row,
                Command::Respond { note: "已联系居民,说明办理安排".into() },
            )
            .await?;
        let row = self
            .step(
                "zhangli",
                t0 + Duration::minutes(minutes[1]),
                row,
                Command::Dispatch { lead: lead_id, co_handlers: vec![] },
            )
            .await?;
        let row = self.step(lead, t0 + Duration::minutes(minutes[2]), row, Command::Start).await?;
        let row = self
            .step(lead, t0 + Duration::minutes(minutes[3]), row, Command::Resolve { resolution: resolution.into() })
            .await?;
        let row = self
            .step(
                "zhangli",
                t0 + Duration::minutes(minutes[4]),
                row,
                Command::FollowUp { solved: verdict.0, satisfaction: verdict.1, note: "电话回访".into() },
            )
            .await?;
        if row.status == "followed_up" {
            return self.step("zhangli", t0 + Duration::minutes(minutes[4] + 1), row, Command::Close).await;
        }
        Ok(row)
    }
}

/// Loads the history into a store that holds the demo community, with a few requests still in hand at `now`;
/// returns how many requests it took in.
pub async fn load_request_history(store: &Store, now: DateTime<Utc>) -> Result<usize, ApiError> {
    let clock = Arc::new(FixedClock::new(beijing(2023, 5, 1, 8, 0)));
    let state = AppState::with_clock(store.clone(), Config::default(), clock.clone());
    let accounts = demo_accounts(store).await?;
    let categories = store.categories().await?.into_iter().map(|c| (c.code, c.id)).collect();
    let h = History { state, clock, accounts, categories };
    let community = h
        .who("zhangli")?
        .actor
        .communities
        .first()
        .copied()
        .ok_or_else(|| ApiError::Internal("no demo community".into()))?;
    let household = |address: &str| {
        let store = store.clone();
        let address = address.to_string();
        async move { store.search(community, &address, 1).await.map(|hits| hits.first().map(|x| x.household_id)) }
    };
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(2023);
    let mut count = 0usize;
    let good = (Solved::Solved, Satisfaction::Satisfied);

    // 王先生's water-heater flue, raised at the first reception day; several rounds with the developer.
    let wang = household("6号院1号楼2单元501").await?;
    let r = h
        .take(
            "zhangli",
            beijing(2023, 6, 18, 9, 30),
            "housing.defect.flue",
            "燃气热水器排烟口在开放式阳台上,担心安全",
            Some(Channel::ReceptionDay),
            (wang, ""),
        )
        .await?;
    let t0 = r.received_at;
    let kaifa = h.who("kaifa")?.user.id;
    let r = h
        .step("zhangli", t0 + Duration::minutes(10), r, Command::Respond { note: "当场安抚,承诺与开发商对接".into() })
        .await?;
    let r = h
        .step("zhangli", t0 + Duration::minutes(30), r, Command::Dispatch { lead: kaifa, co_handlers: vec![] })
        .await?;
    let r = h.step("kaifa", t0 + Duration::days(1), r, Command::Start).await?;
    let r = h
        .step("kaifa", t0 + Duration::days(3), r, Command::Pause { reason: "王先生出差,约定返京后实地查看".into() })
        .await?;
    let r = h.step("kaifa", t0 + Duration::days(8), r, Command::Resume).await?;
    let r = h
        .step(
            "kaifa",
            t0 + Duration::days(30),
            r,
            Command::Resolve {
                resolution: "实地查看、多轮协调后加装延长排烟管并移位出风口".into()
            },
        )
        .await?;
    let r = h
        .step(
            "zhangli",
            t0 + Duration::days(31),
            r,
            Command::FollowUp {
                solved: Solved::Solved,
                satisfaction: Satisfaction::Satisfied,
                note: "王先生表示感谢".into(),
            },
        )
        .await?;
    h.step("zhangli", t0 + Duration::days(31) + Duration::minutes(1), r, Command::Close).await?;
    count += 1;

    // A sudden elevator failure.
    let r = h
        .take(
            "zhangli",
            beijing(2023, 7, 12, 18, 5),
            "property.repair.elevator",
            "7号楼1单元电梯突发故障,停在3楼",
            Some(Channel::Phone),
            (None, "琉璃井路3号院7号楼1单元"),
        )
        .await?;
    h.full_course(
        r,
        "wuye",
        [4, 6, 15, 80, 24 * 60],
        "维保单位到场更换门机板,电梯恢复运行",
        (Solved::Solved, Satisfaction::BasicallySatisfied),
    )
    .await?;
    count += 1;

    // An emergency power cut hitting two buildings.
    let r = h
        .take(
            "zhangli",
            beijing(2023, 7, 25, 20, 40),
            "utilities.supply.power",
            "6号院1号楼、2号楼突然停电",
            Some(Channel::Wechat),
            (None, "琉璃井路6号院1号楼、2号楼"),
        )
        .await?;
    h.full_course(r, "wuye", [10, 15, 30, 300, 20 * 60], "配电箱故障,更换空开后恢复供电", good).await?;
    count += 1;

    // Enrolment day: 50+ households ask the same questions; one answer for all.
    let school = store.search(community, "1号院", 200).await?;
    let mut ids = Vec::new();
    for (i, hit) in school.iter().take(53).enumerate() {
        let at = beijing(2023, 8, 15, 8, 30) + Duration::minutes(3 * i as i64);
        let r = h
            .take(
                "zhangli",
                at,
                "education.enrolment.school_age",
                "孩子入学登记地址和社区选项怎么填?公布的电话打不进去",
                Some(Channel::Wechat),
                (Some(hit.household_id), ""),
            )
            .await?;
        ids.push(r.id);
    }
    count += ids.len();
    h.at(beijing(2023, 8, 15, 14, 0));
    let zhang = h.who("zhangli")?;
    let batch = store
        .create_batch(
            community,
            "适龄儿童入学信息采集:登记地址和社区选项怎么填",
            &ids,
            zhang.change(&h.state, "request_batch.create", Some(community)),
        )
        .await?;
    let answer = "登记地址填写房产证地址“琉璃井路X号院X号楼”;社区选项选择“望坛新苑社区(筹备组)”。街道社区建设办已确认,入学微信工作群随时答疑。";
    let category = h.categories.get("education.enrolment.school_age").copied();
    let me = zhang.user.id;
    for id in &ids {
        let r = wujia_app::requests::listed(zhang, vec![store.request(*id).await?])?.remove(0);
        let r = h.step("zhangli", beijing(2023, 8, 15, 14, 5), r, Command::Respond { note: answer.into() }).await?;
        let r = h
            .step("zhangli", beijing(2023, 8, 15, 14, 6), r, Command::Dispatch { lead: me, co_handlers: vec![] })
            .await?;
        let r =
            h.step("zhangli", beijing(2023, 8, 15, 14, 7), r, Command::Resolve { resolution: answer.into() }).await?;
        let r = h
            .step(
                "zhangli",
                beijing(2023, 8, 16, 10, 0),
                r,
                Command::FollowUp {
                    solved: Solved::Solved,
                    satisfaction: Satisfaction::Satisfied,
                    note: String::new(),
                },
            )
            .await?;
        h.step("zhangli", beijing(2023, 8, 16, 10, 1), r, Command::Close).await?;
    }
    // The steps above carry their own times; the batch's answer and the published knowledge are recorded after them.
    let publish = Some((category, zhang.change(&h.state, "knowledge.create", Some(community))));
    let change = zhang.change(&h.state, "request_batch.answer", Some(community));
    store.answer_batch(batch, answer, publish, &[], change).await?;

    // 2 a.m.: the garage sprinkler pipe bursts; the resident reports it from the portal.
    let hu = household("3号院7号楼1单元102").await?;
    let r = h
        .take(
            "jumin_hu",
            beijing(2023, 9, 3, 2, 0),
            "property.repair.pipe",
            "地下车库喷淋管爆裂,水在漫延",
            None,
            (hu, ""),
        )
        .await?;
    h.full_course(r, "wuye", [6, 8, 12, 95, 8 * 60], "关闭总阀,更换爆裂管段,清理积水", good).await?;
    count += 1;

    // An elderly resident living alone cannot buy groceries; a volunteer is arranged by her building social worker.
    let r = h
        .take(
            "zhangli",
            beijing(2023, 10, 10, 9, 15),
            "elderly.daily.groceries",
            "独居老人腿脚不便,买菜困难",
            Some(Channel::Phone),
            (hu, ""),
        )
        .await?;
    h.full_course(r, "sw_chen", [20, 30, 60, 26 * 60, 3 * 24 * 60], "安排“吾家有治”志愿者每周二、五代买蔬菜", good)
        .await?;
    count += 1;

    // A year of ordinary requests.
    let ordinary: [(&str, &str, &str, i64); 8] = [
        ("property.environment.garbage", "垃圾桶满溢,请及时清运", "wuye", 6 * 60),
        ("property.repair.public", "单元门禁损坏", "wuye", 2 * 24 * 60),
        ("utilities.supply.water", "早上停水,何时恢复?", "wuye", 4 * 60),
        ("utilities.supply.heating", "暖气不热", "wuye", 20 * 60),
        ("housing.defect.leak", "卫生间墙体渗漏", "kaifa", 9 * 24 * 60),
        ("order.public.clutter", "楼道堆放杂物影响通行", "zhangli", 24 * 60),
        ("other.general.suggestion", "建议增设快递柜", "zhangli", 3 * 24 * 60),
        ("elderly.daily.groceries", "老人需要助餐服务", "sw_liu", 2 * 24 * 60),
    ];
    let addresses = store.search(community, "1号楼", 200).await?;
    let mut t = beijing(2023, 5, 8, 9, 0);
    let end = beijing(2024, 2, 20, 9, 0);
    while t < end {
        let (category, text, lead, minutes) = ordinary[rng.random_range(0..ordinary.len())];
        let hit = &addresses[rng.random_range(0..addresses.len())];
        let channel = [Channel::Phone, Channel::WalkIn, Channel::Wechat, Channel::Patrol][rng.random_range(0..4)];
        let r = h.take("zhangli", t, category, text, Some(channel), (Some(hit.household_id), "")).await?;
        count += 1;
        let verdict = match rng.random_range(0..100) {
            0..=79 => good,
            80..=95 => (Solved::Solved, Satisfaction::BasicallySatisfied),
            96..=97 => (Solved::PartlySolved, Satisfaction::BasicallySatisfied),
            _ => (Solved::NotSolved, Satisfaction::Dissatisfied),
        };
        let respond = rng.random_range(10..120);
        let row = h
            .full_course(
                r,
                lead,
                [respond, respond + 10, respond + 40, minutes + rng.random_range(0..minutes), minutes * 2 + 24 * 60],
                "已处理完毕",
                verdict,
            )
            .await?;
        if row.status == "in_progress" {
            // Reopened after a dissatisfied follow-up: handled again, then the resident is content.
            let t1 = row.followed_up_at.unwrap_or(t) + Duration::hours(20);
            let row = h.step(lead, t1, row, Command::Resolve { resolution: "再次上门,彻底处理".into() }).await?;
            let row = h
                .step(
                    "zhangli",
                    t1 + Duration::hours(4),
                    row,
                    Command::FollowUp {
                        solved: Solved::Solved,
                        satisfaction: Satisfaction::BasicallySatisfied,
                        note: String::new(),
                    },
                )
                .await?;
            h.step("zhangli", t1 + Duration::hours(4) + Duration::minutes(1), row, Command::Close).await?;
        }
        t += Duration::hours(rng.random_range(20..60));
    }

    // Today: a few requests still in hand, so that the queue shows work in progress.
    let fresh: [(&str, &str, i64, Channel); 3] = [
        ("utilities.supply.heating", "暖气不热,室温只有16度", 150, Channel::Phone),
        ("property.repair.public", "2单元楼道灯不亮", 45, Channel::Patrol),
        ("other.general.suggestion", "希望组织老年人智能手机培训", 10, Channel::WalkIn),
    ];
    for (i, (category, text, minutes_ago, channel)) in fresh.into_iter().enumerate() {
        let hit = &addresses[(i * 7) % addresses.len()];
        let r = h
            .take(
                "zhangli",
                now - Duration::minutes(minutes_ago),
                category,
                text,
                Some(channel),
                (Some(hit.household_id), ""),
            )
            .await?;
        count += 1;
        if i == 0 {
            let r = h
                .step(
                    "zhangli",
                    now - Duration::minutes(minutes_ago - 20),
                    r,
                    Command::Respond { note: "已联系,物业维修工前往查看".into() },
                )
                .await?;
            let wuye = h.who("wuye")?.user.id;
            h.step(
                "zhangli",
                now - Duration::minutes(minutes_ago - 25),
                r,
                Command::Dispatch { lead: wuye, co_handlers: vec![] },
            )
            .await?;
        }
    }
    // What the detector would have proposed over this history, for staff to decide on.
    let change = wujia_store::Change::system(now, Some(community), "proposal.detect");
    store.scan_proposals(community, DateTime::<Utc>::UNIX_EPOCH, change).await?;
    Ok(count)
}
