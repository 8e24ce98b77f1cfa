//! `wujia bench`: measurements recorded in BENCHMARKS.md. Each run builds its own data in a temporary
//! directory, so the numbers are reproducible on any machine.

use anyhow::{Context, Result};
use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng};
use std::sync::Arc;
use std::time::{Duration, Instant};
use wujia_core::accounts::Role;
use wujia_core::registry::{IdCardNumber, format_address};
use wujia_core::transfer::{self, Format};
use wujia_store::{Change, SecretKey, Store};

fn change(action: &str) -> Change {
    Change {
        at: wujia_web::Clock::now(&wujia_web::SystemClock),
        actor_id: None,
        actor: "bench".into(),
        community_id: None,
        action: action.into(),
        entity: "bench".into(),
        entity_id: String::new(),
        before: serde_json::Value::Null,
        after: serde_json::Value::Null,
    }
}

async fn temp_store(name: &str) -> Result<(Store, std::path::PathBuf)> {
    let dir = std::env::temp_dir().join(format!("wujia-bench-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let path = dir.join("bench.db");
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }
    let store = Store::connect(&format!("sqlite://{}", path.display()), &SecretKey::from_bytes([9; 32])).await?;
    store.migrate().await?;
    Ok((store, dir))
}

/// Imports `residents` residents from one XLSX file into a fresh SQLite database, then imports it again.
pub async fn import(residents: usize) -> Result<()> {
    let (store, dir) = temp_store("import").await?;
    let community = store
        .create_community("基准社区", "BENCH", "永外街道", "东城区", &["甲社区", "乙社区"], change("community.create"))
        .await?;
    // 20 compounds × 10 buildings × 4 units × 18 floors × 4 flats = 57,600 flats.
    for c in 1..=20i64 {
        let compound =
            store.create_compound(community, c, &format!("琉璃井路{c}号院"), change("compound.create")).await?;
        for b in 1..=10 {
            store.create_building(compound, b, 18, 4, change("building.create")).await?;
        }
    }
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
    let mut rows = Vec::with_capacity(residents);
    let birth0 = chrono::NaiveDate::from_ymd_opt(1940, 1, 1).context("date")?;
    for i in 0..residents {
        let h = i / 3;
        let (c, rest) = (h / 2880 + 1, h % 2880);
        let (b, rest) = (rest / 288 + 1, rest % 288);
        let (u, rest) = (rest / 72 + 1, rest % 72);
        let room = format!("{}{:02}", rest / 4 + 1, rest % 4 + 1);
        let birth = birth0 + chrono::Duration::days(rng.random_range(0..30000));
        // A different region code for each thousand keeps every generated number unique.
        let id = IdCardNumber::compose(110000 + (i / 1000) as u32, birth, (i % 1000) as u32);
        rows.push(vec![
            format!("琉璃井路{c}号院"),
            b.to_string(),
            u.to_string(),
            room,
            format!("居民{i}"),
            String::new(),
            String::new(),
            id.as_str().to_string(),
            format!("139{:08}", i),
            "甲社区".into(),
            String::new(),
            if i % 3 == 0 { "户主".into() } else { "子女".into() },
            String::new(),
            String::new(),
        ]);
    }
    let bytes = transfer::write_table(Format::Xlsx, &rows)?;
    println!("bench import: {residents} residents, XLSX of {:.1} MB", bytes.len() as f64 / 1e6);
    let today = wujia_web::Clock::today(&wujia_web::SystemClock);
    for pass in ["first import", "re-import (unchanged)"] {
        let start = Instant::now();
        let table = transfer::read_table(&bytes)?;
        let parsed = transfer::check_rows(&table, today)
            .map_err(|e| anyhow::anyhow!("{} bad rows, first: {:?}", e.len(), e.first()))?;
        let read = start.elapsed();
        let report = store
            .import_residents(community, &parsed.rows, parsed.errors, false, change("resident.import"), &|_, _| {})
            .await
            .map_err(|e| match e {
                wujia_store::StoreError::Rows(r) => anyhow::anyhow!("{} bad rows, first: {:?}", r.len(), r.first()),
                other => other.into(),
            })?;
        let total = start.elapsed();
        println!(
            "  {pass:<22} read+check {:>6.2} s, total {:>6.2} s ({:.0} rows/s): {} created, {} unchanged",
            read.as_secs_f64(),
            total.as_secs_f64(),
            residents as f64 / total.as_secs_f64(),
            report.residents_created,
            report.unchanged
        );
    }
    store.close().await;
    let _ = std::fs::remove_dir_all(dir);
    Ok(())
}

/// A server over a fresh copy of the demo community on SQLite, with `zhangli` logged in.
struct DemoServer {
    store: Store,
    state: wujia_web::AppState,
    dir: std::path::PathBuf,
    demo: wujia_core::demo::Demo,
    base: String,
    client: reqwest::Client,
    token: String,
    stop: tokio::sync::oneshot::Sender<()>,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl DemoServer {
    async fn start(name: &str, connections: usize) -> Result<Self> {
        let (store, dir) = temp_store(name).await?;
        let demo = wujia_core::demo::generate(2023);
        let hash =
            wujia_core::accounts::hash_password("bench-password-1", &[3; 16]).map_err(|e| anyhow::anyhow!("{e}"))?;
        let accounts: Vec<_> = demo.accounts.iter().map(|a| (a.clone(), hash.clone())).collect();
        store.load_demo(&demo, &accounts, wujia_web::Clock::now(&wujia_web::SystemClock)).await?;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let base = format!("http://{}", listener.local_addr()?);
        let state = wujia_web::AppState::new(
            store.clone(),
            wujia_web::Config { blob_dir: dir.join("blobs"), ..Default::default() },
        );
        let (stop, rx) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(wujia_web::serve(listener, state.clone(), async move {
            let _ = rx.await;
        }));
        let client = reqwest::Client::builder().pool_max_idle_per_host(connections).build()?;
        let login: serde_json::Value = client
            .post(format!("{base}/api/v1/sessions"))
            .json(&serde_json::json!({"username": "zhangli", "password": "bench-password-1"}))
            .send()
            .await?
            .json()
            .await?;
        let token = login["token"].as_str().context("login failed")?.to_string();
        Ok(Self { store, state, dir, demo, base, client, token, stop, task })
    }

    async fn stop(self) {
        let _ = self.stop.send(());
        let _ = self.task.await;
        self.store.close().await;
        let _ = std::fs::remove_dir_all(self.dir);
    }
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i].as_secs_f64() * 1000.0
}

/// Household lookup by address and resident search through HTTP at `clients` concurrent clients.
pub async fn lookup(clients: usize, requests: usize) -> Result<()> {
    let server = DemoServer::start("lookup", clients).await?;
    let (client, base, token, demo) = (&server.client, server.base.clone(), server.token.clone(), &server.demo);
    let compound_name = |n: u32| format!("琉璃井路{n}号院");
    let addresses: Vec<String> = demo
        .households
        .iter()
        .map(|h| format_address(&compound_name(h.compound), h.building, h.unit, &h.room))
        .collect();
    let names: Vec<String> = demo.households.iter().flat_map(|h| h.members.iter().map(|m| m.name.clone())).collect();
    let tails: Vec<String> = demo
        .households
        .iter()
        .flat_map(|h| h.members.iter().filter_map(|m| m.phone.as_ref().map(|p| p[7..].to_string())))
        .collect();
    let queries = Arc::new((addresses, names, tails));
    println!("bench lookup: {clients} concurrent clients, {requests} requests per kind, demo community on SQLite");
    for (kind, label) in [(0usize, "household by address"), (1, "resident by name"), (2, "resident by phone tail")] {
        // Warm up caches and connections.
        run_clients(client, &base, &token, &queries, kind, clients, clients * 4).await?;
        let start = Instant::now();
        let mut latencies = run_clients(client, &base, &token, &queries, kind, clients, requests).await?;
        let elapsed = start.elapsed();
        latencies.sort();
        println!(
            "  {label:<24} {:>7.0} req/s   p50 {:>6.2} ms   p99 {:>6.2} ms",
            latencies.len() as f64 / elapsed.as_secs_f64(),
            percentile(&latencies, 0.50),
            percentile(&latencies, 0.99)
        );
    }
    server.stop().await;
    Ok(())
}

type Queries = (Vec<String>, Vec<String>, Vec<String>);

async fn run_clients(
    client: &reqwest::Client,
    base: &str,
    token: &str,
    queries: &Arc<Queries>,
    kind: usize,
    clients: usize,
    total: usize,
) -> Result<Vec<Duration>> {
    let per_client = total.div_ceil(clients);
    let mut tasks = Vec::new();
    for c in 0..clients {
        let (client, base, token, queries) = (client.clone(), base.to_string(), token.to_string(), queries.clone());
        tasks.push(tokio::spawn(async move {
            let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(c as u64);
            let mut out = Vec::with_capacity(per_client);
            for _ in 0..per_client {
                let list = match kind {
                    0 => &queries.0,
                    1 => &queries.1,
                    _ => &queries.2,
                };
                let q = list.choose(&mut rng).cloned().unwrap_or_default();
                let t = Instant::now();
                let res = client
                    .get(format!("{base}/api/v1/households"))
                    .query(&[("q", q.as_str())])
                    .bearer_auth(&token)
                    .send()
                    .await?;
                let ok = res.status().is_success();
                let _ = res.bytes().await?;
                anyhow::ensure!(ok, "lookup failed for {q}");
                out.push(t.elapsed());
            }
            Ok::<_, anyhow::Error>(out)
        }));
    }
    let mut all = Vec::with_capacity(total);
    for t in tasks {
        all.extend(t.await??);
    }
    Ok(all)
}

/// Request creation through the HTTP API, each durable before it is acknowledged, at several concurrencies.
pub async fn requests(clients: &[usize], seconds: u64) -> Result<()> {
    let server = DemoServer::start("requests", 128).await?;
    let (client, base, token) = (&server.client, server.base.clone(), server.token.clone());
    let cats: serde_json::Value =
        client.get(format!("{base}/api/v1/categories")).bearer_auth(&token).send().await?.json().await?;
    let category = cats
        .as_array()
        .and_then(|a| a.iter().find(|c| c["code"] == "other.general.suggestion"))
        .and_then(|c| c["id"].as_i64())
        .context("category")?;
    println!("bench requests: POST /api/v1/requests for {seconds} s per concurrency, SQLite, synchronous=FULL");
    for &n in clients {
        let deadline = Instant::now() + Duration::from_secs(seconds);
        let mut tasks = Vec::new();
        for c in 0..n {
            let (client, base, token) = (client.clone(), base.clone(), token.clone());
            tasks.push(tokio::spawn(async move {
                let mut out = Vec::new();
                while Instant::now() < deadline {
                    let body = serde_json::json!({"category_id": category, "description": format!("基准诉求 {c}"), "channel": "phone", "location": "广场"});
                    let t = Instant::now();
                    let res = client.post(format!("{base}/api/v1/requests")).bearer_auth(&token).json(&body).send().await?;
                    anyhow::ensure!(res.status() == reqwest::StatusCode::CREATED, "creation failed: {}", res.status());
                    let _ = res.bytes().await?;
                    out.push(t.elapsed());
                }
                Ok::<_, anyhow::Error>(out)
            }));
        }
        let start = Instant::now();
        let mut all = Vec::new();
        for t in tasks {
            all.extend(t.await??);
        }
        let elapsed = start.elapsed();
        all.sort();
        println!(
            "  {n:>3} clients  {:>7.0} creations/s   p50 {:>7.2} ms   p99 {:>7.2} ms",
            all.len() as f64 / elapsed.as_secs_f64(),
            percentile(&all, 0.50),
            percentile(&all, 0.99)
        );
    }
    server.stop().await;
    Ok(())
}

/// A JPEG of about `bytes` bytes whose picture data is random: every photo is different, as on a real patrol.
fn random_jpeg(rng: &mut impl Rng, bytes: usize) -> Vec<u8> {
    let mut j = vec![0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10, b'J', b'F', b'I', b'F', 0, 1, 1, 0, 0, 1, 0, 1, 0, 0];
    j.extend([0xFF, 0xDB, 0x00, 0x04, 0x01, 0x02, 0xFF, 0xDA, 0x00, 0x02]);
    // Entropy-coded data never holds a bare 0xFF.
    j.extend((0..bytes).map(|_| rng.random_range(0u8..0xFF)));
    j.extend([0xFF, 0xD9]);
    j
}

/// Findings with two 2 MB photos at `clients` concurrent clients, then the board over `history` findings.
pub async fn patrol(clients: usize, findings: usize, history: usize) -> Result<()> {
    let server = DemoServer::start("patrol", clients).await?;
    let (client, base, token) = (&server.client, server.base.clone(), server.token.clone());
    let households: serde_json::Value = client
        .get(format!("{base}/api/v1/households"))
        .query(&[("q", "琉璃井路3号院"), ("limit", "200")])
        .bearer_auth(&token)
        .send()
        .await?
        .json()
        .await?;
    let households: Vec<i64> =
        households.as_array().context("households")?.iter().filter_map(|h| h["household_id"].as_i64()).collect();
    anyhow::ensure!(!households.is_empty(), "no households to patrol");
    println!(
        "bench patrol: POST /api/v1/patrol/findings with two 2 MB photos, {clients} clients, {findings} findings, SQLite"
    );
    let per_client = findings.div_ceil(clients);
    let households = Arc::new(households);
    let started = Instant::now();
    let mut tasks = Vec::new();
    for c in 0..clients {
        let (client, base, token, households) = (client.clone(), base.clone(), token.clone(), households.clone());
        tasks.push(tokio::spawn(async move {
            let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(c as u64 + 100);
            let mut out = Vec::with_capacity(per_client);
            for i in 0..per_client {
                let photos = [random_jpeg(&mut rng, 2_000_000), random_jpeg(&mut rng, 2_000_000)];
                let mut form = reqwest::multipart::Form::new()
                    .text("kind", if i % 5 == 0 { "window_guard" } else { "corridor_clutter" })
                    .text("household_id", households[rng.random_range(0..households.len())].to_string())
                    .text("fixed_on_spot", if i % 5 == 0 { "false" } else { "true" })
                    .text("client_id", format!("bench-{c}-{i}"));
                for p in photos {
                    form = form.part("photo", reqwest::multipart::Part::bytes(p).file_name("p.jpg"));
                }
                let t = Instant::now();
                let res = client
                    .post(format!("{base}/api/v1/patrol/findings"))
                    .bearer_auth(&token)
                    .multipart(form)
                    .send()
                    .await?;
                anyhow::ensure!(res.status() == reqwest::StatusCode::CREATED, "finding refused: {}", res.status());
                let _ = res.bytes().await?;
                out.push(t.elapsed());
            }
            Ok::<_, anyhow::Error>(out)
        }));
    }
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await??);
    }
    let elapsed = started.elapsed();
    all.sort();
    println!(
        "  record a finding          {:>7.1} findings/s ({:.0} MB/s of photos)   p50 {:>7.2} ms   p99 {:>7.2} ms",
        all.len() as f64 / elapsed.as_secs_f64(),
        all.len() as f64 * 4.0 / elapsed.as_secs_f64(),
        percentile(&all, 0.50),
        percentile(&all, 0.99)
    );

    // A long history: three years of findings across the community; the 5% not fixed on the spot stay open as
    // cases, a pessimistic board (a real community closes nearly all of them).
    let communities = server.store.communities().await?;
    let community = communities.first().context("no community")?;
    let mut buildings = Vec::new();
    for c in server.store.compounds(community.id).await? {
        buildings.extend(server.store.buildings(c.id).await?);
    }
    let staff = server.store.user_by_username("zhangli").await?.context("no staff account")?;
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(11);
    let now = wujia_web::Clock::now(&wujia_web::SystemClock);
    let kinds = [
        "corridor_clutter",
        "laundry",
        "ebike_charging",
        "fire_lane",
        "damaged_facility",
        "window_guard",
        "illegal_construction",
    ];
    let started = Instant::now();
    let mut done = 0;
    while done < history {
        let n = (history - done).min(5_000);
        let items: Vec<_> = (0..n)
            .map(|_| {
                let b = &buildings[rng.random_range(0..buildings.len())];
                let kind = kinds[rng.random_range(0..kinds.len())];
                let place = wujia_core::patrol::Place::Building { building: b.id };
                let at = now - chrono::Duration::minutes(rng.random_range(60..3 * 365 * 24 * 60));
                let new = wujia_store::NewFinding {
                    community_id: community.id,
                    zone_id: b.zone_id,
                    round_id: None,
                    kind: kind.into(),
                    illegal: matches!(kind, "window_guard" | "illegal_construction"),
                    place_kind: place.kind().into(),
                    place_key: format!("{}:{}", place.key(), rng.random_range(0..50)),
                    place_text: format!("{}{}号楼", b.compound_name, b.number),
                    building_id: Some(b.id),
                    unit_id: None,
                    household_id: None,
                    note: String::new(),
                    fixed_on_spot: rng.random_range(0..20) != 0,
                    client_id: None,
                    photos: vec![],
                    community_code: community.code.clone(),
                };
                (
                    new,
                    Change {
                        at,
                        actor_id: Some(staff.id),
                        community_id: Some(community.id),
                        ..change("finding.import")
                    },
                )
            })
            .collect();
        server.store.record_findings(&items).await?;
        done += n;
    }
    let took = started.elapsed();
    println!(
        "  history                   {history} findings recorded in {:.1} s ({:.0}/s); {} cases open",
        took.as_secs_f64(),
        history as f64 / took.as_secs_f64(),
        server.store.case_counts(community.id).await?.values().sum::<i64>()
    );
    let board_requests = 2_000;
    let per = board_requests / clients.max(1);
    let mut tasks = Vec::new();
    for _ in 0..clients {
        let (client, base, token) = (client.clone(), base.clone(), token.clone());
        tasks.push(tokio::spawn(async move {
            let mut out = Vec::with_capacity(per);
            for _ in 0..per {
                let t = Instant::now();
                let res = client.get(format!("{base}/api/v1/patrol/board")).bearer_auth(&token).send().await?;
                anyhow::ensure!(res.status().is_success(), "board failed: {}", res.status());
                let _ = res.bytes().await?;
                out.push(t.elapsed());
            }
            Ok::<_, anyhow::Error>(out)
        }));
    }
    let started = Instant::now();
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await??);
    }
    let elapsed = started.elapsed();
    all.sort();
    println!(
        "  GET /api/v1/patrol/board  {:>7.0} req/s   p50 {:>7.2} ms   p99 {:>7.2} ms  ({clients} clients)",
        all.len() as f64 / elapsed.as_secs_f64(),
        percentile(&all, 0.50),
        percentile(&all, 0.99)
    );
    server.stop().await;
    Ok(())
}

/// The proactive detector on synthetic histories: precision, recall and days to detection per pattern.
pub fn detector(runs: u64) -> Result<()> {
    use wujia_core::proactive::{detect, score, synthetic_history};
    println!(
        "bench detector: two-year synthetic histories (~3,000 requests, 36 buildings) with 10 planted patterns each"
    );
    let mut totals = (0.0, 0.0, 0.0, 0usize, std::time::Duration::ZERO);
    for seed in 1..=runs {
        let (signals, planted) = synthetic_history(seed);
        let started = Instant::now();
        let found = detect(&signals);
        let took = started.elapsed();
        let s = score(&found, &planted);
        println!(
            "  seed {seed}: {} requests, {} detections, precision {:.2}, recall {:.2}, {:.1} days to detection, {:.0} ms",
            signals.len(),
            s.detections,
            s.precision,
            s.recall,
            s.mean_days_to_detection,
            took.as_secs_f64() * 1000.0
        );
        totals = (
            totals.0 + s.precision,
            totals.1 + s.recall,
            totals.2 + s.mean_days_to_detection,
            totals.3 + signals.len(),
            totals.4 + took,
        );
    }
    let n = runs.max(1) as f64;
    println!(
        "  mean over {runs} histories: precision {:.2}, recall {:.2}, {:.1} days to detection, {:.0} requests/ms",
        totals.0 / n,
        totals.1 / n,
        totals.2 / n,
        totals.3 as f64 / totals.4.as_secs_f64().max(1e-9) / 1000.0
    );
    // A street's worth: 330 histories side by side (each its own buildings and households), about a million requests.
    let mut street = Vec::new();
    for seed in 0..330u64 {
        let (signals, _) = synthetic_history(1_000 + seed);
        let offset = seed as i64 * 100;
        street.extend(signals.into_iter().map(|mut s| {
            s.building = s.building.map(|b| b + offset);
            s.household = s.household.map(|h| h + offset * 1_000);
            s
        }));
    }
    let started = Instant::now();
    let found = detect(&street);
    println!(
        "  a street's history: {} requests over two years, {} detections in {:.2} s",
        street.len(),
        found.len(),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// What residents ask about, for the descriptions of laid-down requests.
const PROBLEMS: [&str; 24] = [
    "楼道灯不亮",
    "电梯异响停在三楼",
    "下水道堵塞返味",
    "暖气不热屋里冷",
    "屋顶漏水墙皮脱落",
    "楼上装修噪音扰民",
    "消防通道停车",
    "垃圾清运不及时",
    "孩子入学咨询",
    "老人买菜不方便需要助餐",
    "闻到燃气味",
    "地下车库水管爆裂",
    "门禁卡失灵",
    "小区路灯坏了",
    "绿化带堆放杂物",
    "窗户护栏松动",
    "停电两个小时",
    "自来水发黄",
    "快递柜占用通道",
    "楼道堆放电动车充电",
    "宠物狗夜里叫",
    "健身器材损坏",
    "雨后地库积水",
    "高空抛物",
];

/// Who the laid-down requests are from and for: leaf categories, (household, building) pairs and lead handlers.
#[derive(Clone, Copy)]
struct Population<'a> {
    categories: &'a [i64],
    homes: &'a [(i64, i64)],
    leads: &'a [i64],
}

/// Lays down `n` requests for `community` received over the three years before `now`: the old ones answered,
/// resolved and followed up, the last days' still in hand, as in a working community.
async fn lay_down_requests(
    store: &Store,
    (community, prefix, n): (i64, &str, usize),
    people: &Population<'_>,
    now: chrono::DateTime<chrono::Utc>,
    rng: &mut impl Rng,
) -> Result<()> {
    let Population { categories, homes, leads } = *people;
    use chrono::Duration as D;
    let channels = ["portal", "phone", "walk_in", "wechat", "hotline_12345", "reception_day", "patrol"];
    let mut batch = Vec::with_capacity(20_000);
    for i in 0..n {
        let received = now - D::minutes(rng.random_range(1..3 * 365 * 24 * 60));
        let (respond_due, resolve_due) = (received + D::hours(24), received + D::days(7));
        let age = now - received;
        let (household, building) = homes[rng.random_range(0..homes.len())];
        let answered = age > D::hours(rng.random_range(1..30));
        let slowest = if rng.random_bool(0.95) { 1_400 } else { 3_000 };
        let responded = answered.then(|| received + D::minutes(rng.random_range(5..slowest)));
        let resolved = (age > D::days(rng.random_range(1..9))).then(|| received + D::hours(rng.random_range(2..170)));
        let followup = (resolved.is_some() && age > D::days(10)).then(|| {
            let solved =
                ["solved", "solved", "solved", "solved", "partly_solved", "not_solved"][rng.random_range(0..6)];
            let satisfied =
                ["satisfied", "satisfied", "satisfied", "basically_satisfied", "dissatisfied"][rng.random_range(0..5)];
            (solved.to_string(), satisfied.to_string())
        });
        let status = match (responded, resolved, &followup) {
            (_, Some(_), Some(_)) => "closed",
            (_, Some(_), None) => "resolved",
            (Some(_), None, _) => "in_progress",
            (None, None, _) => "received",
        };
        batch.push(wujia_store::BenchRequest {
            community_id: community,
            number: format!("{prefix}-{i:07}"),
            category_id: categories[rng.random_range(0..categories.len())],
            channel: channels[rng.random_range(0..channels.len())].into(),
            status: status.into(),
            description: format!(
                "{}号楼{}单元{}，{}",
                building % 100,
                rng.random_range(1..5),
                PROBLEMS[rng.random_range(0..PROBLEMS.len())],
                PROBLEMS[rng.random_range(0..PROBLEMS.len())]
            ),
            household_id: Some(household),
            building_id: Some(building),
            location: String::new(),
            lead_id: Some(leads[rng.random_range(0..leads.len())]),
            received_at: received,
            respond_due,
            resolve_due,
            responded_at: responded,
            resolved_at: resolved,
            followup,
        });
        if batch.len() == 20_000 || i + 1 == n {
            store.insert_bench_requests(&batch).await?;
            batch.clear();
        }
    }
    Ok(())
}

/// GETs `paths` in turn from `clients` concurrent clients, `total` times in all; latencies sorted.
async fn measure(
    server: &DemoServer,
    token: &str,
    paths: &[String],
    clients: usize,
    total: usize,
) -> Result<Vec<Duration>> {
    let per = total.div_ceil(clients);
    let mut tasks = Vec::new();
    for c in 0..clients {
        let (client, base, token, paths) =
            (server.client.clone(), server.base.clone(), token.to_string(), paths.to_vec());
        tasks.push(tokio::spawn(async move {
            let mut out = Vec::with_capacity(per);
            for i in 0..per {
                let path = &paths[(c + i) % paths.len()];
                let t = Instant::now();
                let res = client.get(format!("{base}{path}")).bearer_auth(&token).send().await?;
                anyhow::ensure!(res.status().is_success(), "GET {path}: {}", res.status());
                let _ = res.bytes().await?;
                out.push(t.elapsed());
            }
            Ok::<_, anyhow::Error>(out)
        }));
    }
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await??);
    }
    all.sort();
    Ok(all)
}

fn report_latencies(what: &str, clients: usize, all: &[Duration], elapsed: Duration) {
    println!(
        "  {what:<44} {clients:>2} clients {:>7.0} req/s   p50 {:>7.2} ms   p95 {:>7.2} ms   p99 {:>7.2} ms",
        all.len() as f64 / elapsed.as_secs_f64(),
        percentile(all, 0.50),
        percentile(all, 0.95),
        percentile(all, 0.99)
    );
}

/// The staff queue and the three rates for a year with `n` requests stored in one community (SQLite).
pub async fn queue(n: usize) -> Result<()> {
    let server = DemoServer::start("queue", 16).await?;
    let store = &server.store;
    let community = store.communities().await?.first().context("no community")?.id;
    let categories: Vec<i64> = store.categories().await?.into_iter().filter(|c| c.is_leaf()).map(|c| c.id).collect();
    let homes: Vec<(i64, i64)> =
        store.household_buildings(community).await?.into_iter().map(|(h, b, _)| (h, b)).collect();
    let leads: Vec<i64> = store
        .users()
        .await?
        .into_iter()
        .filter(|u| matches!(u.role, Role::Staff | Role::SocialWorker | Role::Property))
        .map(|u| u.id)
        .collect();
    let now = wujia_web::Clock::now(&wujia_web::SystemClock);
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
    println!("bench queue: {n} requests over three years in one community, SQLite");
    let started = Instant::now();
    let people = Population { categories: &categories, homes: &homes, leads: &leads };
    lay_down_requests(store, (community, "BQ", n), &people, now, &mut rng).await?;
    let took = started.elapsed();
    println!(
        "  laid down in {:.1} s ({:.0} requests/s, tallies kept by the triggers)",
        took.as_secs_f64(),
        n as f64 / took.as_secs_f64()
    );
    let today = (now + chrono::Duration::hours(8)).date_naive();
    let year_ago = today - chrono::Duration::days(365);
    let cases: Vec<(&str, Vec<String>)> = vec![
        ("GET /requests (the staff queue page)", vec!["/requests".into()]),
        ("GET /api/v1/requests (queue, 50)", vec!["/api/v1/requests?limit=50".into()]),
        (
            "GET /api/v1/requests?status=… (filtered)",
            vec![
                "/api/v1/requests?status=in_progress&limit=50".into(),
                "/api/v1/requests?channel=phone&limit=50".into(),
            ],
        ),
        (
            "GET /api/v1/requests/summary (a year)",
            vec![format!("/api/v1/requests/summary?from={year_ago}&to={}", today + chrono::Duration::days(1))],
        ),
        ("GET /requests/figures (a year, page)", vec![format!("/requests/figures?from={year_ago}&to={today}")]),
    ];
    for (what, paths) in &cases {
        for clients in [1, 16] {
            let _ = measure(&server, &server.token, paths, clients, 32).await?; // warm
            let started = Instant::now();
            let all = measure(&server, &server.token, paths, clients, 800).await?;
            report_latencies(what, clients, &all, started.elapsed());
        }
    }
    server.stop().await;
    Ok(())
}

/// The dashboard of a street office over `communities` communities holding `n` requests between them (SQLite).
pub async fn street(communities: usize, n: usize) -> Result<()> {
    let server = DemoServer::start("street", 16).await?;
    let store = &server.store;
    let first = store.communities().await?.first().context("no community")?.clone();
    let categories: Vec<i64> = store.categories().await?.into_iter().filter(|c| c.is_leaf()).map(|c| c.id).collect();
    let homes: Vec<(i64, i64)> =
        store.household_buildings(first.id).await?.into_iter().map(|(h, b, _)| (h, b)).collect();
    let staff = store.user_by_username("zhangli").await?.context("zhangli")?;
    let mut ids = vec![first.id];
    for k in 1..communities {
        let id = store
            .create_community(
                &format!("基准社区{k}"),
                &format!("BENCH{k}"),
                &first.street,
                &first.district,
                &["甲", "乙"],
                change("community.create"),
            )
            .await?;
        ids.push(id);
    }
    let hash = wujia_core::accounts::hash_password("bench-password-1", &[3; 16]).map_err(|e| anyhow::anyhow!("{e}"))?;
    store
        .create_user(
            &wujia_store::NewUser {
                username: "bench_street".into(),
                display_name: "街道(基准)".into(),
                password_hash: hash,
                role: wujia_core::accounts::Role::Street,
                organization: None,
                household_id: None,
                communities: ids.clone(),
                must_change_password: false,
            },
            change("user.create"),
        )
        .await?;
    let now = wujia_web::Clock::now(&wujia_web::SystemClock);
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(11);
    println!("bench street: {n} requests over three years in {communities} communities of one street, SQLite");
    let started = Instant::now();
    for (k, id) in ids.iter().enumerate() {
        // The other communities' requests carry the demo's households for their addresses: only the counts matter.
        let people = Population { categories: &categories, homes: &homes, leads: &[staff.id] };
        lay_down_requests(store, (*id, &format!("BS{k}"), n / communities), &people, now, &mut rng).await?;
    }
    let took = started.elapsed();
    println!("  laid down in {:.1} s ({:.0} requests/s)", took.as_secs_f64(), n as f64 / took.as_secs_f64());
    let login: serde_json::Value = server
        .client
        .post(format!("{}/api/v1/sessions", server.base))
        .json(&serde_json::json!({"username": "bench_street", "password": "bench-password-1"}))
        .send()
        .await?
        .json()
        .await?;
    let token = login["token"].as_str().context("street login")?.to_string();
    let one: Vec<String> = ids.iter().map(|id| format!("/api/v1/dashboard?community_id={id}")).collect();
    let cases: Vec<(&str, Vec<String>)> = vec![
        ("GET /api/v1/dashboard (one community, a year)", one),
        ("GET /dashboard (street page, 20 side by side)", vec!["/dashboard".into()]),
    ];
    for (what, paths) in &cases {
        for clients in [1, 16] {
            let _ = measure(&server, &token, paths, clients, 16).await?;
            let total = if what.contains("street page") { 160 } else { 800 };
            let started = Instant::now();
            let all = measure(&server, &token, paths, clients, total).await?;
            report_latencies(what, clients, &all, started.elapsed());
        }
    }
    server.stop().await;
    Ok(())
}

/// Chinese full-text search over `n` requests: the rate of `wujia reindex` and query latency through the API.
pub async fn search(n: usize) -> Result<()> {
    let server = DemoServer::start("search", 16).await?;
    let store = &server.store;
    let community = store.communities().await?.first().context("no community")?.id;
    let categories: Vec<i64> = store.categories().await?.into_iter().filter(|c| c.is_leaf()).map(|c| c.id).collect();
    let homes: Vec<(i64, i64)> =
        store.household_buildings(community).await?.into_iter().map(|(h, b, _)| (h, b)).collect();
    let staff = store.user_by_username("zhangli").await?.context("zhangli")?;
    let now = wujia_web::Clock::now(&wujia_web::SystemClock);
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(13);
    println!("bench search: {n} requests, jieba + tantivy index in memory, SQLite");
    let people = Population { categories: &categories, homes: &homes, leads: &[staff.id] };
    lay_down_requests(store, (community, "SR", n), &people, now, &mut rng).await?;
    let started = Instant::now();
    let indexed = server.state.search.rebuild(store).await.map_err(|e| anyhow::anyhow!("reindex: {e:?}"))?;
    let took = started.elapsed();
    println!(
        "  reindex (wujia reindex)   {indexed} documents in {:.1} s ({:.0} documents/s)",
        took.as_secs_f64(),
        indexed as f64 / took.as_secs_f64()
    );
    let queries = ["电梯", "漏水", "暖气 不热", "燃气味", "入学", "地库 积水", "噪音", "护栏松动", "助餐", "停车"];
    let paths: Vec<String> = queries.iter().map(|q| format!("/api/v1/search?q={}", wujia_web::urlencode(q))).collect();
    let building: Vec<String> = queries
        .iter()
        .map(|q| format!("/api/v1/search?q={}&building_id={}&status=closed", wujia_web::urlencode(q), homes[0].1))
        .collect();
    for (what, paths) in
        [("GET /api/v1/search?q=… (20 best of 1M)", &paths), ("… with building and status filters", &building)]
    {
        for clients in [1, 16] {
            let _ = measure(&server, &server.token, paths, clients, 32).await?;
            let started = Instant::now();
            let all = measure(&server, &server.token, paths, clients, 800).await?;
            report_latencies(what, clients, &all, started.elapsed());
        }
    }
    server.stop().await;
    Ok(())
}
