// Browser journeys in headless Chromium against a real `wujia serve --demo`.
// A missing browser or binary is a failure, never a skip.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';
import { chromium } from 'playwright-core';

const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);
const axeSource = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
const binary = process.env.WUJIA_BIN || join(here, '..', 'target', 'debug', 'wujia');
const shots = join(here, 'screenshots');
mkdirSync(shots, { recursive: true });

let server, base, browser, dataDir;
const logins = {};

function startServer() {
  dataDir = mkdtempSync(join(tmpdir(), 'wujia-e2e-'));
  server = spawn(binary, ['serve', '--demo', '--data-dir', dataDir, '--listen', '127.0.0.1:0'], {
    env: { ...process.env, WUJIA_ADMIN_PASSWORD: 'e2e-lantern-okra-2024', WUJIA_LOG: 'warn' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`server did not start:\n${out}`)), 60000);
    server.on('error', (e) => reject(new Error(`cannot start ${binary}: ${e.message}`)));
    server.on('exit', (code) => reject(new Error(`server exited with ${code}:\n${out}`)));
    server.stdout.on('data', (chunk) => {
      out += chunk;
      for (const m of out.matchAll(/^\s{2}(\S+)\s+(\S+)\s+(\S+)\s/gm)) logins[m[1]] = m[2];
      const url = out.match(/listening on (http:\/\/\S+)/);
      if (url) {
        clearTimeout(timer);
        resolve(url[1]);
      }
    });
  });
}

before(async () => {
  base = await startServer();
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
      '--disable-sync', '--no-first-run', '--disable-quic'],
  });
});

after(async () => {
  await browser?.close();
  server?.kill('SIGTERM');
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

async function newPage(viewport = { width: 1280, height: 900 }) {
  const context = await browser.newContext({ viewport, locale: 'zh-CN' });
  const page = await context.newPage();
  // The pages' own scripts, styles and images must obey their Content-Security-Policy.
  page.cspViolations = [];
  page.on('console', (m) => {
    if (m.type() === 'error' && m.text().includes('Content Security Policy')) page.cspViolations.push(m.text());
  });
  return page;
}

async function login(page, username) {
  await page.goto(`${base}/login`);
  await page.fill('#username', username);
  await page.fill('#password', logins[username] ?? assert.fail(`no demo password for ${username}`));
  await Promise.all([page.waitForNavigation(), page.click('button[type=submit].primary')]);
}

/** Runs axe-core and fails on any serious or critical violation. */
async function assertAccessible(page, label) {
  assert.deepEqual(page.cspViolations ?? [], [], `CSP violations on ${label}`);
  // Evaluated through the DevTools protocol: the pages' CSP (rightly) refuses an injected inline script.
  await page.evaluate(axeSource);
  const result = await page.evaluate(async () => await window.axe.run(document, { resultTypes: ['violations'] }));
  const bad = result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  assert.deepEqual(bad.map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).slice(0, 3).join(', ')}`), [], `axe on ${label}`);
}

test('staff log in, find a household by address, and edit a resident', async () => {
  const page = await newPage();
  await login(page, 'zhangli');
  assert.equal(await page.textContent('h1'), '望坛新苑');
  assert.equal(await page.textContent('#households-count'), '2268');
  await assertAccessible(page, 'console');
  await page.fill('#q', '3号院7号楼1单元102');
  await Promise.all([page.waitForNavigation(), page.press('#q', 'Enter')]);
  await assertAccessible(page, 'search results');
  await Promise.all([page.waitForNavigation(), page.click('text=琉璃井路3号院7号楼1单元102')]);
  assert.equal(await page.textContent('#household-address'), '琉璃井路3号院7号楼1单元102');
  assert.ok((await page.textContent('table.residents')).includes('胡桂兰'));
  await assertAccessible(page, 'household');
  await page.screenshot({ path: join(shots, 'household.png'), fullPage: true });
  await Promise.all([page.waitForNavigation(), page.click('a.button:has-text("编辑")')]);
  await page.fill('#phone', '13698765432');
  await Promise.all([page.waitForNavigation(), page.click('button[type=submit].primary')]);
  assert.ok((await page.textContent('table.residents')).includes('13698765432'));
});

test('a bad ID number is refused with the field marked', async () => {
  const page = await newPage();
  await login(page, 'zhangli');
  await page.goto(`${base}/search?q=${encodeURIComponent('6号院1号楼2单元501')}`);
  await Promise.all([page.waitForNavigation(), page.click('.results a')]);
  await Promise.all([page.waitForNavigation(), page.click('a.button:has-text("编辑")')]);
  await page.fill('#id_card', '110105194912310021');
  await page.click('button[type=submit].primary');
  await page.waitForSelector('#form-errors');
  assert.equal(await page.getAttribute('#id_card', 'aria-invalid'), 'true');
  assert.match(await page.textContent('#id_card-error'), /身份证号无效/);
  await assertAccessible(page, 'form with errors');
  await page.screenshot({ path: join(shots, 'form-error.png'), fullPage: true });
});

test('language switch and large-text mode', async () => {
  const page = await newPage();
  await login(page, 'zhangli');
  await Promise.all([page.waitForNavigation(), page.click('a[lang=en]')]);
  assert.equal(await page.getAttribute('html', 'lang'), 'en');
  assert.ok((await page.textContent('#figures')).includes('At a glance'));
  await Promise.all([page.waitForNavigation(), page.click('#a11y-toggle')]);
  assert.equal(await page.getAttribute('body', 'class'), 'large');
  const size = await page.evaluate(() => parseFloat(getComputedStyle(document.body).fontSize));
  assert.ok(size >= 24, `large text is at least 24px, got ${size}`);
  await assertAccessible(page, 'large English console');
  await page.screenshot({ path: join(shots, 'large-en.png'), fullPage: true });
  await Promise.all([page.waitForNavigation(), page.click('a[lang=zh-CN]')]);
  assert.equal(await page.getAttribute('html', 'lang'), 'zh-CN');
});

test('a resident on a phone sees their home and their building social worker', async () => {
  const page = await newPage({ width: 375, height: 740 });
  await login(page, 'jumin_hu');
  assert.equal(new URL(page.url()).pathname, '/portal');
  assert.ok((await page.textContent('main')).includes('琉璃井路3号院7号楼1单元102'));
  assert.ok((await page.textContent('main')).includes('陈静'));
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth > window.innerWidth);
  assert.equal(overflow, false, 'no sideways scrolling on a phone');
  await assertAccessible(page, 'portal');
  await page.screenshot({ path: join(shots, 'portal-phone.png'), fullPage: true });
});

test('the login page is accessible and says what went wrong', async () => {
  const page = await newPage({ width: 375, height: 740 });
  await page.goto(`${base}/login`);
  await assertAccessible(page, 'login');
  await page.fill('#username', 'zhangli');
  await page.fill('#password', 'not-the-password-1');
  await page.click('button[type=submit].primary');
  await page.waitForSelector('#login-error');
  assert.match(await page.textContent('#login-error'), /用户名或密码错误/);
});

test('a resident reports a burst pipe from a phone and staff dispatch it', async () => {
  const phone = await newPage({ width: 375, height: 740 });
  await login(phone, 'jumin_hu');
  await Promise.all([phone.waitForNavigation(), phone.click('a.button.primary:has-text("登记诉求")')]);
  await phone.selectOption('#category_id', { label: '物业服务 › 设施维修 › 水管爆裂、漏水' });
  await phone.fill('#description', '楼道水管爆裂,水流到楼梯间');
  await Promise.all([phone.waitForNavigation(), phone.click('button[type=submit].primary')]);
  assert.match(await phone.textContent('h1'), /WT-\d{4}-\d{6}/);
  assert.equal(await phone.textContent('#request-status'), '已受理');
  await assertAccessible(phone, 'request seen by its resident');
  const overflow = await phone.evaluate(() => document.documentElement.scrollWidth > window.innerWidth);
  assert.equal(overflow, false, 'no sideways scrolling on a phone');
  const number = (await phone.textContent('h1')).split(' ')[0];

  const desk = await newPage();
  await login(desk, 'zhangli');
  await desk.goto(`${base}/requests`);
  await assertAccessible(desk, 'queue');
  await Promise.all([desk.waitForNavigation(), desk.click(`text=${number}`)]);
  await desk.fill('#respond-note', '已电话联系,物业维修工 5 分钟到');
  await Promise.all([desk.waitForNavigation(), desk.click('button:has-text("响应(首次联系居民)")')]);
  assert.equal(await desk.textContent('#request-status'), '已响应');
  await desk.selectOption('#dispatch-lead', { label: '京城物业 望坛项目部 · 物业公司' });
  await Promise.all([desk.waitForNavigation(), desk.click('form:has(input[value=dispatch]) button')]);
  assert.equal(await desk.textContent('#request-status'), '已派单');
  assert.equal(await desk.textContent('#request-lead'), '京城物业 望坛项目部');
  assert.ok((await desk.textContent('#timeline')).includes('派单'));
  await assertAccessible(desk, 'request with actions');
  await desk.screenshot({ path: join(shots, 'request.png'), fullPage: true });
  // The property company's handler resolves it from a phone, with a photo of the repaired pipe.
  const handler = await newPage({ width: 375, height: 740 });
  await login(handler, 'wuye');
  await handler.goto(desk.url());
  await handler.fill('#resolve-resolution', '关闭总阀，更换爆裂的喷淋管段，地库积水已清理');
  await handler.setInputFiles('#resolve-photos', { name: 'pipe.png', mimeType: 'image/png', buffer: tinyPng });
  await Promise.all([handler.waitForNavigation(), handler.click('#resolve-form button')]);
  assert.equal(await handler.textContent('#request-status'), '已办结');
  assert.equal((await handler.$$('#photos img')).length, 1, 'the photo of what was done');
  await assertAccessible(handler, 'resolved request on a phone');
  await desk.goto(`${base}/requests/figures`);
  await assertAccessible(desk, 'figures');
});

async function api(token, method, path, body) {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: body ? JSON.stringify(body) : undefined,
  });
  assert.ok(res.ok, `${method} ${path}: ${res.status} ${await res.clone().text()}`);
  return res.status === 204 ? null : res.json();
}

async function apiToken(username) {
  const res = await fetch(`${base}/api/v1/sessions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username, password: logins[username] }),
  });
  return (await res.json()).token;
}

// A 1×1 PNG, as a phone camera would hand over a photo.
const tinyPng = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==', 'base64');

test('a patrol member checks in and records a finding offline on a phone; it arrives when back online', async () => {
  // A round that starts now (Beijing time), so the journey does not depend on the hour it runs.
  const staff = await apiToken('zhangli');
  const beijing = new Date(Date.now() + 8 * 3600 * 1000);
  const hhmm = `${String(beijing.getUTCHours()).padStart(2, '0')}:${String(beijing.getUTCMinutes()).padStart(2, '0')}`;
  const zone = (await api(staff, 'GET', '/api/v1/zones')).find((z) => z.name === '第二片区');
  await api(staff, 'POST', '/api/v1/patrol/plans', { zone_id: zone.id, name: '临时加巡', times: [hhmm], window_minutes: 120 });

  const phone = await newPage({ width: 390, height: 844 });
  await login(phone, 'patrol_ma');
  assert.equal(new URL(phone.url()).pathname, '/patrol', 'squad members land on today\'s rounds');
  await assertAccessible(phone, 'today\'s rounds');
  await Promise.all([phone.waitForNavigation(), phone.click('#rounds a:has-text("临时加巡")')]);
  await assertAccessible(phone, 'round');
  await Promise.all([phone.waitForNavigation(), phone.click('form.checkin button[type=submit]')]);
  assert.match(await phone.textContent('p.notice'), /已签到/);
  const overflow = await phone.evaluate(() => document.documentElement.scrollWidth > window.innerWidth);
  assert.equal(overflow, false, 'no sideways scrolling on a phone');

  // The connection drops in the stairwell: the finding is kept on the phone.
  await phone.context().setOffline(true);
  await phone.selectOption('#kind', 'corridor_clutter');
  await phone.fill('#place_text', '3号院7号楼2单元楼道');
  await phone.fill('#note', '楼道堆放纸箱（离线记录）');
  await phone.setInputFiles('#photos', { name: 'clutter.png', mimeType: 'image/png', buffer: tinyPng });
  await phone.click('#finding-form button[type=submit]');
  await phone.waitForSelector('#outbox:not([hidden])');
  assert.match(await phone.textContent('#outbox'), /1 条问题已保存在手机上/);
  await phone.screenshot({ path: join(shots, 'patrol-offline.png'), fullPage: true });
  const before = await api(staff, 'GET', '/api/v1/patrol/findings?kind=corridor_clutter&limit=200');
  assert.ok(!before.some((f) => f.note === '楼道堆放纸箱（离线记录）'));

  // Back online: it is sent by itself, once.
  await phone.context().setOffline(false);
  await phone.waitForSelector('#outbox', { state: 'hidden', timeout: 15000 });
  const after = await api(staff, 'GET', '/api/v1/patrol/findings?kind=corridor_clutter&limit=200');
  const sent = after.filter((f) => f.note === '楼道堆放纸箱（离线记录）');
  assert.equal(sent.length, 1);
  assert.equal(sent[0].photos.length, 1);
  await phone.reload();
  assert.ok((await phone.textContent('#findings')).includes('楼道堆物'));
});

test('staff follow the zero board, a case, the joint meetings and the figures', async () => {
  const desk = await newPage();
  await login(desk, 'zhangli');
  await desk.goto(`${base}/patrol/board`);
  assert.equal(await desk.textContent('#open-illegal'), '0', 'the demo community holds zero illegal construction');
  assert.ok(await desk.$('figure.chart svg'));
  await assertAccessible(desk, 'zero board');
  await desk.screenshot({ path: join(shots, 'patrol-board.png'), fullPage: true });
  await Promise.all([desk.waitForNavigation(), desk.click('#cases a')]);
  assert.ok((await desk.textContent('#steps')).includes('告知'));
  await assertAccessible(desk, 'case');
  await desk.goto(`${base}/patrol/meetings`);
  await assertAccessible(desk, 'joint meetings');
  await Promise.all([desk.waitForNavigation(), desk.click('#meetings a:has-text("2023年5月三方联席会")')]);
  assert.ok((await desk.textContent('#minutes')).includes('外扩护栏'));
  await assertAccessible(desk, 'held meeting');
  await desk.goto(`${base}/patrol/figures?from=2024-01-29&to=2024-02-25`);
  assert.ok((await desk.textContent('#patrol-figures')).includes('99.6%'));
  await assertAccessible(desk, 'patrol figures');
});

test('a resident books a reception slot on a phone; the desk registers her and answers on a tablet', async () => {
  const staff = await apiToken('zhangli');
  // A reception day tomorrow, Beijing time.
  const tomorrow = new Date(Date.now() + 8 * 3600 * 1000 + 24 * 3600 * 1000).toISOString().slice(0, 10);
  const day = await api(staff, 'POST', '/api/v1/reception_days', {
    title: '浏览器测试接待日', kind: 'regular', starts_at: `${tomorrow}T09:00`, ends_at: `${tomorrow}T11:00`, slot_minutes: 20, slot_capacity: 2,
  });
  const phone = await newPage({ width: 390, height: 844 });
  await login(phone, 'jumin_hu');
  await Promise.all([phone.waitForNavigation(), phone.click('a.button:has-text("居民接待日")')]);
  await assertAccessible(phone, 'reception days for a resident');
  const card = phone.locator('#days li', { hasText: '浏览器测试接待日' });
  await card.locator('select').selectOption({ index: 1 });
  await card.locator('input[name=topic]').fill('楼道堆物想反映一下');
  await Promise.all([phone.waitForNavigation(), card.locator('button[type=submit]').click()]);
  assert.match(await phone.textContent('p.notice'), /预约成功/);
  assert.ok((await phone.textContent('#my-bookings')).includes('浏览器测试接待日'));
  const overflow = await phone.evaluate(() => document.documentElement.scrollWidth > window.innerWidth);
  assert.equal(overflow, false, 'no sideways scrolling on a phone');

  const tablet = await newPage({ width: 1024, height: 768 });
  await login(tablet, 'zhangli');
  await tablet.goto(`${base}/reception/${day.id}`);
  await assertAccessible(tablet, 'reception desk');
  await tablet.selectOption('#booking_id', { index: 1 });
  await tablet.fill('#demand0', '楼道堆物');
  await tablet.selectOption('#party0', 'property');
  await Promise.all([tablet.waitForNavigation(), tablet.click('#desk button[type=submit]')]);
  assert.ok((await tablet.textContent('#visits')).includes('胡桂兰'));
  await tablet.locator('#visits input[name=answer]').first().fill('物业当天清理');
  await Promise.all([tablet.waitForNavigation(), tablet.locator('#visits form.inline-form button').first().click()]);
  assert.ok((await tablet.textContent('#visits')).includes('诉求均已答复'));
  await tablet.screenshot({ path: join(shots, 'reception-desk.png'), fullPage: true });
  await tablet.goto(`${base}/reception/figures?from=2023-06-01&to=2023-12-31`);
  assert.ok((await tablet.textContent('#reception-figures')).includes('8 (6 / 2)'));
  await assertAccessible(tablet, 'reception figures');
  await tablet.goto(`${base}/volunteers`);
  await assertAccessible(tablet, 'volunteer team');
  assert.ok((await tablet.textContent('#board')).includes('王志刚'));
});

test('a resident registers for an activity on a phone and is checked in by the code at the desk', async () => {
  const staff = await apiToken('zhangli');
  const tomorrow = new Date(Date.now() + 8 * 3600 * 1000 + 24 * 3600 * 1000).toISOString().slice(0, 10);
  const activity = await api(staff, 'POST', '/api/v1/activities', {
    title: '浏览器测试健康讲座', series: '健康讲座', place: '社区活动室', starts_at: `${tomorrow}T09:00`, ends_at: `${tomorrow}T10:00`,
    capacity: 20, min_age: 60,
  });
  const phone = await newPage({ width: 390, height: 844 });
  await login(phone, 'jumin_hu');
  await Promise.all([phone.waitForNavigation(), phone.click('a.button:has-text("社区活动")')]);
  assert.ok((await phone.textContent('#recommended')).includes('浏览器测试健康讲座'), 'recommended for her age');
  await assertAccessible(phone, 'activities for a resident');
  const card = phone.locator('#calendar li', { hasText: '浏览器测试健康讲座' });
  await Promise.all([phone.waitForNavigation(), card.locator('button[type=submit]').click()]);
  await Promise.all([phone.waitForNavigation(), phone.click('#my-registrations a:has-text("浏览器测试健康讲座")')]);
  assert.ok(await phone.$('figure.qr svg'), 'her check-in QR code');
  const code = (await phone.textContent('section.card code')).trim();
  await assertAccessible(phone, 'activity with a check-in code');

  const desk = await newPage({ width: 1024, height: 768 });
  await login(desk, 'zhangli');
  await desk.goto(`${base}/activities/${activity.id}`);
  await desk.fill('#code', code);
  await Promise.all([desk.waitForNavigation(), desk.click('#checkin-form button[type=submit]')]);
  assert.ok((await desk.textContent('#registrations')).includes('已参加'));
  await desk.fill('#code', code);
  await desk.click('#checkin-form button[type=submit]');
  await desk.waitForSelector('p.error');
  assert.match(await desk.textContent('p.error'), /已签到/);
  await assertAccessible(desk, 'activity desk');
  await desk.goto(`${base}/activities/figures?from=2023-07-01&to=2024-03-01`);
  assert.ok((await desk.textContent('#definition')).includes('1 − Σ'));
  await assertAccessible(desk, 'integration figures');
  await desk.screenshot({ path: join(shots, 'integration.png'), fullPage: true });
});

test('residents propose and support a topic and vote on a phone; a volunteer signs up for a shift', async () => {
  const phone = await newPage({ width: 390, height: 844 });
  await login(phone, 'jumin_hu');
  await phone.goto(`${base}/topics`);
  await assertAccessible(phone, 'topics');
  await phone.fill('#title', '浏览器测试：增设休息座椅');
  await phone.fill('#body', '在3号院中心花园增设几把休息座椅，方便老人歇脚。');
  await Promise.all([phone.waitForNavigation(), phone.click('#propose-form button[type=submit]')]);
  assert.match(await phone.textContent('#topic-status'), /征集附议/);
  const topicUrl = phone.url();
  await assertAccessible(phone, 'topic');

  // Staff put it to a vote once it is tabled: here the volunteer's household supports it.
  const wang = await newPage({ width: 390, height: 844 });
  await login(wang, 'vol_wang');
  await wang.goto(topicUrl);
  const staff = await apiToken('zhangli');
  const id = topicUrl.split('/').pop();
  const topic = await api(staff, 'GET', `/api/v1/topics/${id}`);
  await api(staff, 'PATCH', `/api/v1/communities/${topic.community_id}/settings`, { topic_threshold: 2 });
  await Promise.all([wang.waitForNavigation(), wang.click('button:has-text("本户附议")')]);
  assert.match(await wang.textContent('#topic-status'), /议事中/);
  const now = await api(staff, 'GET', `/api/v1/topics/${id}`);
  const closes = new Date(Date.now() + 8 * 3600 * 1000 + 3 * 24 * 3600 * 1000).toISOString().slice(0, 16);
  await api(staff, 'POST', `/api/v1/topics/${id}/actions`, { action: 'open_vote', mode: 'per_household', options: ['同意', '不同意'], quorum: 2, closes_at: closes, version: now.version });
  await phone.goto(topicUrl);
  await phone.check('input[name=choice][value="同意"]');
  await Promise.all([phone.waitForNavigation(), phone.click('#vote button[type=submit]')]);
  assert.match(await phone.textContent('#vote'), /本户已投票/);
  await assertAccessible(phone, 'topic after voting');

  // 王先生, a volunteer, signs up for a shift and sees his record.
  const start = new Date(Date.now() + 8 * 3600 * 1000 + 2 * 24 * 3600 * 1000).toISOString().slice(0, 10);
  await api(staff, 'POST', '/api/v1/shifts', { title: '浏览器测试晚巡查', kind: 'patrol', starts_at: `${start}T19:00`, ends_at: `${start}T21:00`, capacity: 3 });
  await wang.goto(`${base}/volunteer`);
  await assertAccessible(wang, 'volunteering');
  const card = wang.locator('#shifts li', { hasText: '浏览器测试晚巡查' });
  await Promise.all([wang.waitForNavigation(), card.locator('button:has-text("报名")').click()]);
  assert.ok((await wang.locator('#shifts li', { hasText: '浏览器测试晚巡查' }).textContent()).includes('签到'));
  const overflow = await wang.evaluate(() => document.documentElement.scrollWidth > window.innerWidth);
  assert.equal(overflow, false, 'no sideways scrolling on a phone');
});

test('staff read the governance dashboard by building, the report against the article, search, and act before the complaint', async () => {
  const desk = await newPage();
  await login(desk, 'zhangli');
  await desk.goto(`${base}/dashboard?from=2023-05-01&to=2024-02-29`);
  assert.ok((await desk.$$('figure.chart svg')).length >= 2, 'charts drawn on the server');
  await assertAccessible(desk, 'dashboard');
  // Narrow to one compound, then one building of it.
  await desk.selectOption('#compound_id', { label: '琉璃井路3号院' });
  await Promise.all([desk.waitForNavigation(), desk.click('form.filters button[type=submit]')]);
  assert.ok(await desk.$('#scope-note'));
  await desk.selectOption('#building_id', { label: '7号楼' });
  await Promise.all([desk.waitForNavigation(), desk.click('form.filters button[type=submit]')]);
  assert.ok(desk.url().includes('building_id='));
  await assertAccessible(desk, 'dashboard of one building');
  await desk.screenshot({ path: join(shots, 'dashboard-building.png'), fullPage: true });
  // The report reproduces the article's figures from the records.
  await desk.goto(`${base}/reports?from=2023-05-01&to=2024-02-29`);
  const article = await desk.textContent('#report-article');
  assert.ok(article.includes('2268') && article.includes('21') && !article.includes('✗'), article);
  await assertAccessible(desk, 'report');
  // The search box on every staff page finds records in Chinese.
  await desk.fill('form.search input[name=q]', '护栏');
  await Promise.all([desk.waitForNavigation(), desk.click('form.search button')]);
  assert.ok((await desk.textContent('#records')).includes('护栏'));
  await assertAccessible(desk, 'search');
  // 未诉先办: the detector's proposals with their evidence; staff take one on.
  await desk.goto(`${base}/dashboard`);
  await Promise.all([desk.waitForNavigation(), desk.click('a[href="/proposals"]')]);
  const first = desk.locator('#proposals li').first();
  assert.ok((await first.textContent()).includes('依据'));
  await first.locator('textarea').fill('请包楼社工本周上门，问清需要');
  await Promise.all([desk.waitForNavigation(), first.locator('button[value=accept]').click()]);
  await desk.goto(`${base}/proposals?status=accepted`);
  assert.ok((await desk.textContent('#proposals')).includes('请包楼社工本周上门'));
  await assertAccessible(desk, 'proposals');
});
