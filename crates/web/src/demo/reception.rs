//! The demo's self-governance: six regular and two themed reception days from June to December 2023 with 112
//! visits — the first one walk-ins and tears, the later ones booked and orderly — every demand answered, 王先生's
//! flue linked to the service request it became, and 21 residents who joined the volunteer team with their shifts.

use super::{beijing, demo_accounts};
use crate::api::volunteers::{
    ApplicationBody, AttendanceBody, DecisionBody, ShiftBody, apply, attend, decide, plan_shift, sign_up,
};
use crate::auth::Auth;
use crate::error::ApiError;
use crate::{AppState, Config, FixedClock};
use chrono::{DateTime, Duration, Utc};
use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng};
use std::collections::HashMap;
use std::sync::Arc;
use wujia_app::reception::{
    self, DemandAnswer, NewBooking, NewDay, NewDemand, NewVisit, answer, book, hold_day, register,
};
use wujia_store::{RequestFilter, Store};

/// Demands residents brought, with the party that answered and the answer given back.
const DEMANDS: [(&str, &str, &str); 10] = [
    ("楼道灯不亮", "property", "物业当天更换灯泡"),
    ("地下车库车位怎么租", "property", "讲解车位租赁办法，留下联系方式"),
    ("孩子入学登记地址怎么填", "community", "按房产证地址填写，已在微信群统一说明"),
    ("阳台渗水", "developer", "开发商登记保修，约定三日内上门"),
    ("想加入老年合唱队", "community", "介绍活动安排，已登记"),
    ("小区里电动车乱停", "property", "物业增设停车区域并加强巡查"),
    ("户口迁入手续", "community", "说明所需材料和办理地点"),
    ("门禁卡补办", "property", "当场补办"),
    ("供暖什么时候开始", "property", "11月15日正式供暖，提前试水"),
    ("外墙保温层脱落", "developer", "开发商现场查看并列入维修计划"),
];

/// Loads the reception days and the volunteer team into a store that holds the demo community and its service
/// history. Returns (visits, volunteers who joined).
pub async fn load_reception_history(store: &Store) -> Result<(usize, usize), ApiError> {
    let clock = Arc::new(FixedClock::new(beijing(2023, 6, 1, 9, 0)));
    let state = AppState::with_clock(store.clone(), Config::default(), clock.clone());
    let accounts = demo_accounts(store).await?;
    let who = |u: &str| accounts.get(u).ok_or_else(|| ApiError::Internal(format!("demo account {u} is missing")));
    let staff: &Auth = who("zhangli")?;
    let community = *staff.actor.communities.first().ok_or_else(|| ApiError::Internal("no demo community".into()))?;
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(618);
    let today = beijing(2024, 2, 26, 9, 0).date_naive();

    // Households that come to the desk: a spread over the six compounds.
    let mut households = Vec::new();
    for c in 1..=6 {
        for h in store.search(community, &format!("琉璃井路{c}号院"), 200).await? {
            households.push(h.household_id);
        }
    }
    households.dedup();
    let wang_home = store
        .search(community, "6号院1号楼2单元501", 1)
        .await?
        .first()
        .map(|h| h.household_id)
        .ok_or_else(|| ApiError::Internal("no household for 王先生".into()))?;
    let flue = store
        .requests(
            community,
            &RequestFilter { category_code: Some("housing.defect.flue".into()), limit: 10, ..Default::default() },
        )
        .await?
        .into_iter()
        .find(|r| r.household_id == Some(wang_home))
        .ok_or_else(|| ApiError::Internal("no flue request for 王先生".into()))?;

    let sessions: [(u32, u32, &str, &str); 8] = [
        (6, 18, "regular", ""),
        (7, 16, "regular", ""),
        (8, 20, "regular", ""),
        (9, 17, "regular", ""),
        (10, 8, "themed", "供暖季准备"),
        (10, 22, "regular", ""),
        (11, 19, "regular", ""),
        (12, 10, "themed", "停车管理"),
    ];
    let mut visits = 0;
    for (n, (month, day, kind, theme)) in sessions.iter().enumerate() {
        let at = |h: u32, m: u32| beijing(2023, *month, *day, h, m);
        clock.set(at(9, 0) - Duration::days(10));
        let title = if *kind == "themed" {
            format!("主题接待日：{theme}")
        } else {
            format!("第{}次居民接待日", n + 1)
        };
        let body = NewDay {
            title,
            kind: (*kind).into(),
            theme: (*theme).into(),
            place: Some("社区居民接待室".into()),
            parties: None,
            starts_at: format!("2023-{month:02}-{day:02}T09:00"),
            ends_at: format!("2023-{month:02}-{day:02}T12:00"),
            slot_minutes: Some(20),
            slot_capacity: Some(3),
            community_id: Some(community),
        };
        let d = hold_day(&state.app, staff, &body).await?;
        let (_, slots) = reception::day_slots(&state.app, staff, d.id).await?;
        let count = if n == 0 { 16 } else { 13 + (n % 2) };
        // The first day was walk-ins and tears; from the second on, most residents booked a slot.
        let mut booked = Vec::new();
        if n > 0 {
            for i in 0..count - 3 {
                let h = *households.choose(&mut rng).unwrap_or(&wang_home);
                clock.set(at(9, 0) - Duration::days(rng.random_range(1..8)));
                let slot = slots[i % slots.len()].starts_at;
                let b = NewBooking {
                    slot,
                    topic: String::new(),
                    household_id: Some(h),
                    name: Some(format!("{}号院居民", 1 + i % 6)),
                };
                if let Ok(b) = book(&state.app, staff, d.id, &b).await {
                    booked.push(b);
                }
            }
        }
        let mut minute = 0;
        for i in 0..count {
            clock.set(at(9, 0) + Duration::minutes(minute));
            minute += rng.random_range(6..12);
            let (household, name, booking) = match booked.get(i) {
                Some(b) => (Some(b.household_id), b.name.clone(), Some(b.id)),
                None => (households.choose(&mut rng).copied(), "现场来访居民".to_string(), None),
            };
            let is_wang = n == 0 && i == 0;
            let picks: Vec<&(&str, &str, &str)> = if is_wang {
                Vec::new()
            } else {
                let k = rng.random_range(1..=2);
                DEMANDS.choose_multiple(&mut rng, k).collect()
            };
            let mut demands: Vec<NewDemand> =
                picks.iter().map(|(t, p, _)| NewDemand { text: (*t).into(), party: (*p).into() }).collect();
            if is_wang {
                demands.push(NewDemand {
                    text: "燃气热水器排烟口在开放式阳台上，担心安全".into(),
                    party: "developer".into(),
                });
            }
            let body = NewVisit {
                booking_id: booking,
                household_id: if is_wang { Some(wang_home) } else { household },
                name: if is_wang { Some("王志刚".into()) } else { Some(name) },
                demands,
            };
            let v = register(&state.app, staff, d.id, &body).await?;
            visits += 1;
            for (dm, pick) in
                store.demands(v.id).await?.into_iter().zip(picks.iter().map(Some).chain(std::iter::repeat(None)))
            {
                clock.set(at(9, 0) + Duration::minutes(minute + 5));
                let patch = match pick {
                    Some((_, _, reply)) => {
                        DemandAnswer { answer: Some((*reply).into()), category_id: None, version: dm.version }
                    }
                    // 王先生's flue: the request taken in that day, followed up a month later.
                    None => {
                        store
                            .update_demand(
                                &dm,
                                None,
                                Some(flue.id),
                                staff.change(&state, "visit.demand", Some(community)),
                            )
                            .await?;
                        continue;
                    }
                };
                answer(&state.app, staff, dm.id, &patch).await?;
            }
        }
    }

    // 21 residents joined the volunteer team after the reception days, 王先生 among them as a core member.
    let wang = who("vol_wang")?;
    let mut joined = Vec::new();
    let wang_resident = store
        .household(wang_home, today)
        .await?
        .residents
        .into_iter()
        .find(|r| r.name == "王志刚")
        .ok_or_else(|| ApiError::Internal("no 王志刚".into()))?;
    clock.set(beijing(2023, 7, 20, 10, 0));
    let v = apply(
        &state,
        wang,
        &ApplicationBody {
            resident_id: wang_resident.id,
            team: Some("吾家有治".into()),
            skills: "水电维修".into(),
            availability: "周末、晚上".into(),
        },
    )
    .await?;
    clock.set(beijing(2023, 7, 21, 9, 0));
    joined.push(
        decide(&state, staff, v.id, &DecisionBody { decision: "approve".into(), core: true, version: v.version })
            .await?,
    );
    let mut candidates = Vec::new();
    for h in households.iter().step_by(7) {
        if let Some(r) = store.household(*h, today).await?.residents.into_iter().find(|r| (25..=68).contains(&r.age)) {
            candidates.push(r);
        }
    }
    let skills = ["巡查", "接待引导", "文艺", "摄影", "医护", "法律咨询"];
    for (i, r) in candidates.iter().take(20).enumerate() {
        let at: DateTime<Utc> = beijing(2023, 7, 25, 10, 0) + Duration::days(i as i64 * 7);
        clock.set(at);
        let team = if i % 3 == 2 { "吾家有乐" } else { "吾家有治" };
        let v = apply(
            &state,
            staff,
            &ApplicationBody {
                resident_id: r.id,
                team: Some(team.into()),
                skills: skills[i % skills.len()].into(),
                availability: "周末".into(),
            },
        )
        .await?;
        clock.set(at + Duration::days(2));
        joined.push(
            decide(&state, staff, v.id, &DecisionBody { decision: "approve".into(), core: i < 4, version: v.version })
                .await?,
        );
    }

    // Their shifts: evening patrols with the squads and helpers at the reception days.
    let by_id: HashMap<i64, &wujia_store::VolunteerRow> = joined.iter().map(|v| (v.id, v)).collect();
    for week in 0..12 {
        let day = beijing(2023, 12, 2, 19, 0) + Duration::weeks(week);
        clock.set(day - Duration::days(5));
        let local = day.with_timezone(&chrono_tz::Asia::Shanghai);
        let shift = plan_shift(
            &state,
            staff,
            &ShiftBody {
                title: "吾家有治 · 晚巡查".into(),
                kind: "patrol".into(),
                team: Some("吾家有治".into()),
                starts_at: local.format("%Y-%m-%dT19:00").to_string(),
                ends_at: local.format("%Y-%m-%dT21:00").to_string(),
                capacity: 4,
                community_id: Some(community),
            },
        )
        .await?;
        let crew: Vec<i64> = by_id.keys().copied().filter(|id| (id + week) % 5 == 0).take(4).collect();
        for v in &crew {
            sign_up(&state, staff, shift.id, Some(*v)).await?;
        }
        for (k, v) in crew.iter().enumerate() {
            clock.set(day - Duration::minutes(5));
            attend(&state, staff, shift.id, *v, &AttendanceBody { action: "check_in".into(), minutes: None }).await?;
            clock.set(day + Duration::minutes(115 + k as i64 * 5));
            attend(&state, staff, shift.id, *v, &AttendanceBody { action: "check_out".into(), minutes: None }).await?;
        }
    }
    Ok((visits, joined.len()))
}
