//! The demo's integration pillar: the 初心如故、岁月流金 golden-wedding event with 12 couples, a parent-child Peking
//! opera mask-painting event that fills up and promotes a family from its waiting list, the Double Ninth (重阳)
//! filial-piety event, and monthly health lectures — attended by residents of all five old communities.

use super::{beijing, demo_accounts};
use crate::api::activities::{
    ActivityBody, RegistrationAction, RegistrationBody, check_in_code, invitations, plan, register, registration_step,
};
use crate::error::ApiError;
use crate::{AppState, Config, FixedClock};
use chrono::{DateTime, Duration, Utc};
use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng};
use std::sync::Arc;
use wujia_store::Store;

struct Plan<'a> {
    title: &'a str,
    theme: &'a str,
    series: &'a str,
    at: DateTime<Utc>,
    hours: i64,
    capacity: i64,
    tags: &'a [&'a str],
    ages: (Option<u32>, Option<u32>),
    partners: &'a str,
    summary: &'a str,
}

/// Loads the activities into a store holding the demo community; returns how many residents attended in all.
pub async fn load_activity_history(store: &Store, blob_dir: &std::path::Path) -> Result<usize, ApiError> {
    let clock = Arc::new(FixedClock::new(beijing(2023, 7, 1, 9, 0)));
    let config = Config { blob_dir: blob_dir.to_path_buf(), ..Config::default() };
    let state = AppState::with_clock(store.clone(), config, clock.clone());
    let accounts = demo_accounts(store).await?;
    let staff = accounts.get("zhangli").ok_or_else(|| ApiError::Internal("demo account zhangli is missing".into()))?;
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(909);
    let plans = [
        Plan {
            title: "亲子京剧脸谱绘画",
            theme: "非遗",
            series: "亲子活动",
            at: beijing(2023, 8, 12, 14, 0),
            hours: 2,
            capacity: 15,
            tags: &[],
            ages: (Some(6), Some(12)),
            partners: "区非遗传承人工作室",
            summary: "15组家庭一起画脸谱，孩子们来自五个原社区，家长们互留了联系方式。",
        },
        Plan {
            title: "健康讲座：老年人慢病管理",
            theme: "",
            series: "健康讲座",
            at: beijing(2023, 9, 14, 9, 30),
            hours: 1,
            capacity: 40,
            tags: &["elderly_60"],
            ages: (None, None),
            partners: "社区卫生服务站",
            summary: "卫生服务站医生讲解高血压、糖尿病日常管理，现场测血压。",
        },
        Plan {
            title: "初心如故、岁月流金",
            theme: "金婚纪念",
            series: "",
            at: beijing(2023, 10, 15, 9, 0),
            hours: 3,
            capacity: 30,
            tags: &["golden_wedding"],
            ages: (None, None),
            partners: "婚纱摄影志愿团队",
            summary: "12对金婚老人重拍婚纱照，分享相守五十年的故事。",
        },
        Plan {
            title: "九九重阳 孝老敬亲",
            theme: "重阳",
            series: "",
            at: beijing(2023, 10, 23, 10, 0),
            hours: 2,
            capacity: 60,
            tags: &["elderly_60"],
            ages: (None, None),
            partners: "辖区幼儿园、志愿者",
            summary: "孩子们为老人表演节目，志愿者陪老人包饺子。",
        },
        Plan {
            title: "健康讲座：冬季防跌倒",
            theme: "",
            series: "健康讲座",
            at: beijing(2023, 12, 14, 9, 30),
            hours: 1,
            capacity: 40,
            tags: &["elderly_60"],
            ages: (None, None),
            partners: "社区卫生服务站",
            summary: "康复师讲解居家防跌倒，演示扶手和防滑垫的使用。",
        },
        Plan {
            title: "元宵灯谜会",
            theme: "元宵",
            series: "",
            at: beijing(2024, 2, 24, 19, 0),
            hours: 2,
            capacity: 80,
            tags: &[],
            ages: (None, None),
            partners: "物业",
            summary: "猜灯谜、煮元宵，近百位居民参加。",
        },
    ];
    let mut attended = 0;
    for p in &plans {
        clock.set(p.at - Duration::days(14));
        let local = p.at.with_timezone(&chrono_tz::Asia::Shanghai);
        let body = ActivityBody {
            title: p.title.into(),
            theme: p.theme.into(),
            series: p.series.into(),
            organiser: "社区筹备组".into(),
            partners: p.partners.into(),
            place: "社区活动中心".into(),
            starts_at: local.format("%Y-%m-%dT%H:%M").to_string(),
            ends_at: (local + Duration::hours(p.hours)).format("%Y-%m-%dT%H:%M").to_string(),
            capacity: p.capacity,
            target_tags: p.tags.iter().map(|t| t.to_string()).collect(),
            min_age: p.ages.0,
            max_age: p.ages.1,
            volunteers_needed: 2,
            community_id: None,
        };
        let a = plan(&state, staff, &body).await?;
        let list = invitations(&state, staff, a.id).await?;
        let invitees: Vec<(i64, i64)> = list["invitees"]
            .as_array()
            .map(|v| v.iter().filter_map(|r| Some((r["resident_id"].as_i64()?, r["household_id"].as_i64()?))).collect())
            .unwrap_or_default();
        let chosen: Vec<i64> = if p.tags.contains(&"golden_wedding") {
            // Couples: both partners of twelve households.
            let mut by_home: std::collections::BTreeMap<i64, Vec<i64>> = Default::default();
            for (r, h) in &invitees {
                by_home.entry(*h).or_default().push(*r);
            }
            by_home.into_values().filter(|v| v.len() >= 2).take(12).flat_map(|v| v.into_iter().take(2)).collect()
        } else {
            let want = (p.capacity as usize + 3).min(invitees.len());
            invitees.choose_multiple(&mut rng, want).map(|x| x.0).collect()
        };
        let mut regs = Vec::new();
        for (i, r) in chosen.iter().enumerate() {
            clock.set(p.at - Duration::days(10) + Duration::minutes(i as i64 * 7));
            regs.push(register(&state, staff, a.id, &RegistrationBody { resident_id: *r, note: String::new() }).await?);
        }
        // The mask painting fills up; a family cancels and the first on the waiting list takes the place.
        if p.series == "亲子活动"
            && let Some(first) = regs.first()
        {
            clock.set(p.at - Duration::days(3));
            registration_step(
                &state,
                staff,
                a.id,
                first.id,
                &RegistrationAction { action: "cancel".into(), stars: None, comment: None },
            )
            .await?;
            if let Some(next) = regs.iter().find(|g| g.status == "waitlisted") {
                clock.set(p.at - Duration::days(2));
                registration_step(
                    &state,
                    staff,
                    a.id,
                    next.id,
                    &RegistrationAction { action: "confirm".into(), stars: None, comment: None },
                )
                .await?;
            }
        }
        clock.set(p.at - Duration::minutes(10));
        for g in store.registrations(a.id).await? {
            if matches!(g.status.as_str(), "registered" | "offered") && rng.random_range(0..10) < 9 {
                check_in_code(&state, staff, a.id, &g.code).await?;
                attended += 1;
            }
        }
        clock.set(p.at + Duration::hours(p.hours + 1));
        let a = store.activity(a.id).await?;
        store
            .set_activity_summary(&a, p.summary, staff.change(&state, "activity.summary", Some(a.community_id)))
            .await?;
        let photo = wujia_core::media::banded_png(160, 120, &[[220, 80, 60], [250, 220, 120], [250, 250, 245]]);
        let kept = crate::api::photos::keep(&state, crate::api::photos::take_in(photo).await?).await?;
        store
            .add_activity_photo(
                &a,
                &kept.blob,
                kept.media_type(),
                staff.change(&state, "activity.photo", Some(a.community_id)),
            )
            .await?;
    }
    Ok(attended)
}
