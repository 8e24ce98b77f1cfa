// Progressive enhancement only: every page works without this file.
(function () {
  // Bring the first error into view and focus, so screen-reader and keyboard users land on it.
  var err = document.querySelector('[aria-invalid="true"]') || document.querySelector('.error[role="alert"]');
  if (err) {
    if (!err.hasAttribute('tabindex') && err.tagName !== 'INPUT' && err.tagName !== 'SELECT') err.setAttribute('tabindex', '-1');
    err.focus();
  }
})();

// Findings typed on a patrol survive a lost connection: a form marked data-offline="finding" is kept in
// IndexedDB when it cannot be sent, and sent by itself when the phone is back online. Each finding carries
// its own client_id, so a retry after a lost answer is recorded once.
(function () {
  var forms = document.querySelectorAll('form[data-offline="finding"]');
  if (!forms.length || !window.indexedDB || !window.fetch || !window.FormData) return;
  var zh = document.documentElement.lang !== 'en';
  var status = document.getElementById('outbox');
  function db() {
    return new Promise(function (ok, fail) {
      var req = indexedDB.open('wujia-outbox', 1);
      req.onupgradeneeded = function () { req.result.createObjectStore('findings', { keyPath: 'id' }); };
      req.onsuccess = function () { ok(req.result); };
      req.onerror = function () { fail(req.error); };
    });
  }
  function store(mode, fn) {
    return db().then(function (d) {
      return new Promise(function (ok, fail) {
        var tx = d.transaction('findings', mode);
        var r = fn(tx.objectStore('findings'));
        tx.oncomplete = function () { ok(r && r.result); };
        tx.onerror = function () { fail(tx.error); };
      });
    });
  }
  function newId() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    return 'f-' + Date.now().toString(36) + '-' + Math.random().toString(36).slice(2);
  }
  function show(text, isError) {
    if (!status) return;
    status.hidden = !text;
    status.textContent = text || '';
    status.className = isError ? 'error' : 'notice';
  }
  function count() {
    return store('readonly', function (s) { return s.count(); });
  }
  function report() {
    return count().then(function (n) {
      if (n > 0) show(zh ? ('有 ' + n + ' 条问题已保存在手机上，联网后自动上传。') : (n + ' findings are saved on this phone and will be sent when online.'));
      else show('');
      var el = document.getElementById('pending');
      if (el) el.textContent = String(n);
    });
  }
  function entries(fd) {
    var out = [];
    fd.forEach(function (v, k) { if (!(v instanceof File) || v.size > 0) out.push([k, v]); });
    return out;
  }
  function send(action, list) {
    var fd = new FormData();
    var csrf = document.querySelector('input[name="csrf"]');
    list.forEach(function (e) { fd.append(e[0], e[0] === 'csrf' && csrf ? csrf.value : e[1]); });
    return fetch(action, { method: 'POST', body: fd, credentials: 'same-origin' });
  }
  var flushing = false;
  function flush() {
    if (flushing || !navigator.onLine) return Promise.resolve();
    flushing = true;
    return store('readonly', function (s) { return s.getAll(); }).then(function (items) {
      var chain = Promise.resolve();
      items.forEach(function (item) {
        chain = chain.then(function () {
          return send(item.action, item.entries).then(function (res) {
            // Sent, or refused for good (a bad field): either way it leaves the queue; refusals are shown.
            if (!res.ok && res.status >= 500) throw new Error('server');
            if (!res.ok) show(zh ? '有一条离线记录未被接受，请重新填写。' : 'A saved finding was refused; please record it again.', true);
            return store('readwrite', function (s) { return s.delete(item.id); });
          });
        });
      });
      return chain;
    }).catch(function () {}).then(function () { flushing = false; return report(); });
  }
  Array.prototype.forEach.call(forms, function (form) {
    form.addEventListener('submit', function (ev) {
      ev.preventDefault();
      var idField = form.querySelector('input[name="client_id"]');
      if (idField && !idField.value) idField.value = newId();
      var list = entries(new FormData(form));
      var item = { id: idField ? idField.value : newId(), action: form.action, entries: list };
      var button = form.querySelector('button[type="submit"]');
      if (button) button.disabled = true;
      var keep = function () {
        return store('readwrite', function (s) { return s.put(item); }).then(function () {
          form.reset();
          if (idField) idField.value = '';
          return report();
        });
      };
      var done = function () { if (button) button.disabled = false; };
      if (!navigator.onLine) { keep().then(done, done); return; }
      send(form.action, list).then(function (res) {
        if (res.ok) { window.location.href = res.url; return; }
        if (res.status >= 500) return keep();
        return res.text().then(function (html) { document.open(); document.write(html); document.close(); });
      }, keep).then(done, done);
    });
  });
  window.addEventListener('online', flush);
  report().then(flush);
})();

// The duty wall updates itself from the server-sent events of /api/v1/duty_wall/stream.
(function () {
  var wall = document.getElementById('duty-wall');
  if (!wall || !window.EventSource) return;
  var minutes = wall.getAttribute('data-minutes') || '';
  function fill(id, items) {
    var list = document.getElementById(id);
    if (!list) return;
    while (list.firstChild) list.removeChild(list.firstChild);
    items.forEach(function (x) {
      var li = document.createElement('li');
      var a = document.createElement('a');
      a.href = '/requests/' + x.id;
      var strong = document.createElement('strong');
      strong.textContent = x.number;
      var span = document.createElement('span');
      span.textContent = x.location + ' · ' + minutes + ' ' + x.minutes_left;
      a.appendChild(strong);
      a.appendChild(document.createTextNode(' ' + x.category));
      a.appendChild(span);
      li.appendChild(a);
      list.appendChild(li);
    });
  }
  var source = new EventSource('/api/v1/duty_wall/stream');
  source.addEventListener('wall', function (ev) {
    var w = JSON.parse(ev.data);
    fill('wall-emergencies', w.emergencies);
    fill('wall-deadlines', w.deadlines);
    var duty = document.getElementById('on-duty');
    if (duty) duty.textContent = w.on_duty.map(function (d) { return d.name; }).join('、');
    wall.setAttribute('data-updated', String(Date.now()));
  });
})();

// Print buttons (the CSP allows no inline handlers).
(function () {
  var buttons = document.querySelectorAll('[data-print]');
  for (var i = 0; i < buttons.length; i++) buttons[i].addEventListener('click', function () { window.print(); });
})();
