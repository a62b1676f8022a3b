/* The API Gateway console: Custom APIs (runtime routes) of an environment,
 * their editor, the API keys of the store (a new key shown once), and the
 * live operations view, all through the admin API's GraphQL endpoint
 * (<admin>/graphql, relative to this page).
 *
 * Plain ES2020, no dependency. The page's Content-Security-Policy allows
 * no inline code: every element is built with createElement and
 * textContent (never an HTML string), so nothing the API returns can become
 * markup. Views are chosen by the URL's fragment: #apis, #new,
 * #edit/ID, #apikeys, #operations. */
'use strict';

(() => {
  const GQL_URL = new URL('graphql', document.baseURI).href;
  const METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS'];
  const OPS_EVERY_MS = 3000;

  const $ = (id) => document.getElementById(id);

  /* ---------------------------------------------------------- DOM */

  /* h('td', {class: 'x', text: 'y', 'aria-label': 'z'}, child...) */
  function h(tag, attrs, ...children) {
    const el = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === null || v === undefined || v === false) continue;
      if (k === 'class') el.className = v;
      else if (k === 'text') el.textContent = v;
      else if (k === 'dataset') Object.assign(el.dataset, v);
      else if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
      else el.setAttribute(k, v === true ? '' : String(v));
    }
    for (const c of children.flat()) {
      if (c === null || c === undefined || c === false) continue;
      el.append(c instanceof Node ? c : String(c));
    }
    return el;
  }

  function storageGet(key) {
    try { return window.sessionStorage.getItem(key); } catch (e) { return null; }
  }

  function storageSet(key, value) {
    try { window.sessionStorage.setItem(key, value); } catch (e) { /* private mode */ }
  }

  function fmtTime(iso) {
    if (!iso) return '';
    const d = new Date(iso);
    if (Number.isNaN(d.getTime())) return iso;
    const today = new Date();
    return d.toDateString() === today.toDateString()
      ? d.toLocaleTimeString()
      : d.toLocaleString();
  }

  /* text with a line-break opportunity after each '/' (paths, URLs) */
  function breakable(text) {
    const frag = document.createDocumentFragment();
    String(text).split(/(?<=\/)/).forEach((part, i) => {
      if (i) frag.append(document.createElement('wbr'));
      frag.append(part);
    });
    return frag;
  }

  function timeEl(iso) {
    return iso ? h('time', {datetime: iso, title: iso, text: fmtTime(iso)}) : '\u2014';
  }

  function fmtCount(n) {
    return typeof n === 'number' ? n.toLocaleString() : String(n ?? '\u2014');
  }

  /* ---------------------------------------------------------- GraphQL */

  class GqlError extends Error {
    constructor(errors, status) {
      super(errors.map((e) => e.message).join('\n'));
      this.errors = errors;
      this.status = status;
    }
  }

  async function gql(query, variables) {
    let res;
    try {
      res = await fetch(GQL_URL, {
        method: 'POST',
        credentials: 'same-origin',
        cache: 'no-store',
        headers: {
          'Content-Type': 'application/json',
          'Accept': 'application/graphql-response+json, application/json',
        },
        body: JSON.stringify({query, variables: variables || {}}),
      });
    } catch (e) {
      throw new GqlError([{message: 'The gateway did not answer (' + e.message + ').'}], 0);
    }
    let body = null;
    try { body = await res.json(); } catch (e) { body = null; }
    if (body && Array.isArray(body.errors) && body.errors.length) {
      throw new GqlError(body.errors, res.status);
    }
    if (!res.ok || !body || !body.data) {
      let msg = 'The admin API answered ' + res.status + ' ' + res.statusText + '.';
      if (res.status === 401 || res.status === 403) msg = 'The admin API refused access (' + res.status + '): sign in again.';
      throw new GqlError([{message: msg}], res.status);
    }
    return body.data;
  }

  const ROUTE_FIELDS = `fragment RouteFields on Route {
  id environment path targetUrl methods enabled createdAt updatedAt
  cors { allowOrigins allowMethods allowHeaders exposeHeaders allowCredentials maxAgeSeconds }
  rateLimit { average period burst by }
  requestHeaders { action name value }
  responseHeaders { action name value }
  pathRewrite { type value replacement }
  queryPolicy { mode names }
  bodyLimits { requestBytes responseBytes }
  timeoutSeconds
  circuitBreaker { preset expression checkSeconds fallbackSeconds recoverySeconds }
  cacheTtlSeconds
}`;

  const Q = {
    environments: 'query Environments { environments { name } }',
    routes: 'query Routes($environment: String!) { routes(environment: $environment) { ...RouteFields } }\n' + ROUTE_FIELDS,
    route: 'query Route($id: ID!) { route(id: $id) { ...RouteFields } }\n' + ROUTE_FIELDS,
    register: 'mutation RegisterRoute($input: RegisterRouteInput!) { registerRoute(input: $input) { ...RouteFields } }\n' + ROUTE_FIELDS,
    update: 'mutation UpdateRoute($id: ID!, $input: UpdateRouteInput!) { updateRoute(id: $id, input: $input) { ...RouteFields } }\n' + ROUTE_FIELDS,
    setEnabled: 'mutation SetRouteEnabled($id: ID!, $enabled: Boolean!) { setRouteEnabled(id: $id, enabled: $enabled) { id enabled } }',
    deleteRoute: 'mutation DeleteRoute($id: ID!) { deleteRoute(id: $id) { deletedCount } }',
    createEnv: 'mutation CreateEnvironment($input: CreateEnvironmentInput!) { createEnvironment(input: $input) { name copiedRoutes } }',
    deleteEnv: 'mutation DeleteEnvironment($name: String!) { deleteEnvironment(name: $name) { deletedCount } }',
    operations: `query Operations { operations { time
  pools { name lbmethod members { pool name state suspendedSince suspendedUntil reason suspensions retries } }
  breakers { id section backend expression state since trips window { requests networkErrors status5xx status4xx } }
  rateLimits { section policy admitted rejected delayed } } }`,
    resume: 'mutation ResumeMember($pool: String!, $member: String!) { resumeMember(pool: $pool, member: $member) { pool name state } }',
    resetBreaker: 'mutation ResetBreaker($id: String!) { resetBreaker(id: $id) { id state } }',
    apiKeys: 'query ApiKeys { apiKeys { name roles createdAt } }',
    createApiKey: 'mutation CreateApiKey($name: String!, $roles: [String!]) { createApiKey(name: $name, roles: $roles) { name roles createdAt key } }',
    revokeApiKey: 'mutation RevokeApiKey($name: String!) { revokeApiKey(name: $name) }',
  };

  /* ---------------------------------------------------------- banner, status */

  function showBanner(message) {
    $('banner-text').textContent = message;
    $('banner').hidden = false;
  }

  let keepBanner = false;        /* across the next view change */

  function hideBanner() {
    if (keepBanner) { keepBanner = false; return; }
    $('banner').hidden = true;
    $('banner-text').textContent = '';
  }

  function bannerFrom(err) {
    showBanner(err instanceof GqlError ? err.message : 'Unexpected error: ' + (err && err.message));
  }

  let statusTimer = 0;
  function showStatus(message) {
    const el = $('status');
    el.textContent = message;
    clearTimeout(statusTimer);
    statusTimer = setTimeout(() => { el.textContent = ''; }, 4000);
  }

  /* ---------------------------------------------------------- dialogs */

  /* Shows dlg (modal) until onSubmit calls its argument or the user
   * cancels (the Cancel button, Escape): then onCancel. Not the dialog's
   * close event: it comes a task later, when the next opening may have
   * begun. */
  function openDialog(dlg, onSubmit, onCancel) {
    const ctl = new AbortController();
    const finish = () => { ctl.abort(); if (dlg.open) dlg.close(); };
    const cancel = (ev) => {
      if (ev) ev.preventDefault();
      finish();
      if (onCancel) onCancel();
    };
    dlg.querySelector('form').addEventListener('submit', (ev) => {
      ev.preventDefault();
      onSubmit(finish);
    }, {signal: ctl.signal});
    dlg.querySelector('button.quiet').addEventListener('click', cancel, {signal: ctl.signal});
    dlg.addEventListener('cancel', cancel, {signal: ctl.signal});
    dlg.showModal();
  }

  /* Resolves true when the user confirms. */
  function confirmDialog(title, text, okLabel) {
    const dlg = $('confirm-dialog');
    $('confirm-title').textContent = title;
    $('confirm-text').textContent = text;
    $('confirm-ok').textContent = okLabel || 'Delete';
    return new Promise((resolve) => {
      openDialog(dlg, (finish) => { finish(); resolve(true); }, () => resolve(false));
      $('confirm-cancel').focus();
    });
  }

  /* ---------------------------------------------------------- state, views */

  const state = {
    env: storageGet('apigw.console.env') || 'default',
    envs: [],
    routes: [],
    shownEnv: undefined,    /* the environment whose rows the table shows */
    editing: null,          /* the route being edited, null when adding */
    opsTimer: 0,
    opsLoading: false,
    view: null,
  };

  const VIEWS = {apis: 'view-apis', editor: 'view-editor', keys: 'view-keys', ops: 'view-ops'};
  const NAV = {apis: 'nav-apis', editor: 'nav-apis', keys: 'nav-keys', ops: 'nav-ops'};

  function setView(name, title, focusHeading) {
    if (state.view === 'ops' && name !== 'ops') stopOps();
    if (state.view === 'keys' && name !== 'keys') forgetCreatedKey();
    state.view = name;
    for (const [key, id] of Object.entries(VIEWS)) $(id).hidden = key !== name;
    const navTarget = NAV[name];
    for (const id of ['nav-apis', 'nav-keys', 'nav-ops']) {
      if (id === navTarget) $(id).setAttribute('aria-current', 'page');
      else $(id).removeAttribute('aria-current');
    }
    document.title = title + ' \u2014 API Gateway console';
    if (focusHeading) {
      const h1 = $(VIEWS[name]).querySelector('h1');
      h1.tabIndex = -1;
      h1.focus({preventScroll: false});
    }
  }

  let firstRoute = true;
  function dispatch() {
    let hash = location.hash.replace(/^#\/?/, '');
    try {
      hash = decodeURIComponent(hash);
    } catch (e) {
      hash = '';                 // a malformed %: the dashboard
    }
    const focus = !firstRoute;
    firstRoute = false;
    hideBanner();
    if (hash === 'operations') showOps(focus);
    else if (hash === 'apikeys') showKeys(focus);
    else if (hash === 'new') showEditor(null, focus);
    else if (hash.startsWith('edit/')) showEditor(hash.slice(5), focus);
    else showApis(focus);
  }

  /* ---------------------------------------------------------- dashboard */

  async function loadEnvironments() {
    const data = await gql(Q.environments);
    const names = data.environments.map((e) => e.name);
    if (!names.includes('default')) names.unshift('default');
    state.envs = names;
    if (!names.includes(state.env)) state.env = 'default';
    renderEnvSelect();
  }

  function renderEnvSelect() {
    const sel = $('env-select');
    sel.replaceChildren(...state.envs.map((n) => h('option', {value: n, text: n})));
    sel.value = state.env;
    $('env-delete').disabled = state.env === 'default';
    $('env-delete').title = state.env === 'default' ? 'The default environment cannot be deleted' : '';
    if (state.shownEnv !== undefined && state.shownEnv !== state.env) clearRoutesFor(state.env);
  }

  /* Another environment's rows never stay under this one's name while its
   * routes load: the table empties and says what it waits for. */
  function clearRoutesFor(env) {
    $('routes-body').replaceChildren();
    $('routes-caption').textContent = 'Loading the Custom APIs of ' + env + '\u2026';
    $('routes-table').hidden = true;
    $('routes-empty').hidden = true;
  }

  async function loadRoutes() {
    const env = state.env;
    if (state.shownEnv !== env) clearRoutesFor(env);
    const data = await gql(Q.routes, {environment: env});
    if (env !== state.env) return;       /* switched meanwhile */
    state.routes = data.routes;
    renderRoutes();
  }

  async function showApis(focus) {
    setView('apis', 'Custom APIs', focus);
    try {
      await loadEnvironments();
      await loadRoutes();
    } catch (e) {
      bannerFrom(e);
    }
  }

  function policyBadges(r) {
    const p = [];
    if (r.cors) p.push('CORS');
    if (r.rateLimit) p.push('Rate limit ' + r.rateLimit.average + '/' + r.rateLimit.period);
    if ((r.requestHeaders && r.requestHeaders.length) || (r.responseHeaders && r.responseHeaders.length)) p.push('Headers');
    if (r.pathRewrite) p.push('Rewrite');
    if (r.queryPolicy && r.queryPolicy.mode !== 'all') p.push('Query ' + r.queryPolicy.mode);
    if (r.bodyLimits && (r.bodyLimits.requestBytes != null || r.bodyLimits.responseBytes != null)) p.push('Body limit');
    if (r.timeoutSeconds != null) p.push('Timeout ' + r.timeoutSeconds + 's');
    if (r.circuitBreaker) p.push('Breaker');
    if (r.cacheTtlSeconds != null) p.push('Cache ' + r.cacheTtlSeconds + 's');
    return p;
  }

  function renderRoutes() {
    const body = $('routes-body');
    state.shownEnv = state.env;
    $('routes-caption').textContent = 'Custom APIs of ' + state.env;
    const rows = state.routes.map((r) => {
      const badges = policyBadges(r);
      const toggle = h('button', {
        type: 'button', role: 'switch', class: 'switch',
        'aria-checked': r.enabled ? 'true' : 'false',
        'aria-label': 'Enabled: ' + r.path,
        'data-testid': 'toggle-enabled',
        onclick: () => toggleRoute(r, toggle),
      });
      return h('tr', {'data-testid': 'route-row', dataset: {routeId: r.id, path: r.path}},
        h('td', {class: 'path', 'data-label': 'Path', 'data-testid': 'route-path'}, breakable(r.path)),
        h('td', {class: 'target', 'data-label': 'Target', title: r.targetUrl}, breakable(r.targetUrl)),
        h('td', {'data-label': 'Methods'},
          h('span', {class: 'badges'}, r.methods.map((m) => h('span', {class: 'badge method', text: m})))),
        h('td', {'data-label': 'Policies'},
          badges.length ? h('span', {class: 'badges'}, badges.map((b) => h('span', {class: 'badge policy', text: b})))
                        : h('span', {class: 'note', text: '\u2014'})),
        h('td', {'data-label': 'Enabled'},
          h('span', {class: 'switch-wrap'}, toggle,
            h('span', {class: 'switch-text', 'aria-hidden': 'true', text: r.enabled ? 'On' : 'Off'}))),
        h('td', {class: 'actions'},
          h('button', {type: 'button', class: 'small', 'aria-label': 'Edit ' + r.path, 'data-testid': 'edit',
                       onclick: () => { location.hash = '#edit/' + encodeURIComponent(r.id); }}, 'Edit'),
          h('button', {type: 'button', class: 'small danger-quiet', 'aria-label': 'Delete ' + r.path, 'data-testid': 'delete',
                       onclick: () => deleteRoute(r)}, 'Delete')));
    });
    body.replaceChildren(...rows);
    $('routes-table').hidden = rows.length === 0;
    $('routes-empty').hidden = rows.length !== 0;
  }

  async function toggleRoute(r, button) {
    const want = !r.enabled;
    button.disabled = true;
    button.setAttribute('aria-checked', String(want));
    try {
      const data = await gql(Q.setEnabled, {id: r.id, enabled: want});
      r.enabled = data.setRouteEnabled.enabled;
      showStatus(r.path + (r.enabled ? ' is on' : ' is off: it answers 404'));
    } catch (e) {
      bannerFrom(e);
    }
    button.setAttribute('aria-checked', String(r.enabled));
    button.nextElementSibling.textContent = r.enabled ? 'On' : 'Off';
    button.disabled = false;
    button.focus();
  }

  async function deleteRoute(r) {
    const ok = await confirmDialog('Delete this Custom API?',
      r.path + ' \u2192 ' + r.targetUrl + ' will stop being served at once (environment ' + r.environment + ').');
    if (!ok) return;
    try {
      await gql(Q.deleteRoute, {id: r.id});
      showStatus('Deleted ' + r.path);
      await loadRoutes();
      $('add-route').focus();
    } catch (e) {
      bannerFrom(e);
    }
  }

  async function switchEnv(name) {
    state.env = name;
    storageSet('apigw.console.env', name);
    renderEnvSelect();
    hideBanner();
    try {
      await loadRoutes();
    } catch (e) {
      bannerFrom(e);
    }
  }

  function branchEnv() {
    const dlg = $('branch-dialog');
    const name = $('branch-name');
    name.value = '';
    clearErrorsIn(dlg);
    $('branch-error').textContent = '';
    $('branch-from').textContent = state.env;
    $('branch-copy').checked = true;
    openDialog(dlg, async (done) => {
      clearErrorsIn(dlg);
      $('branch-error').textContent = '';
      const input = {name: name.value.trim(), from: state.env, copyRoutes: $('branch-copy').checked};
      if (!input.name) {
        attachError(name, 'Give the new environment a name.');
        name.focus();
        return;
      }
      const button = $('branch-create');
      button.disabled = true;
      try {
        const data = await gql(Q.createEnv, {input});
        done();
        const env = data.createEnvironment;
        showStatus('Environment ' + env.name + ' created' +
                   (input.copyRoutes ? ' with ' + (env.copiedRoutes || 0) + ' copied Custom APIs' : ''));
        state.env = env.name;
        storageSet('apigw.console.env', env.name);
        await loadEnvironments();
        await loadRoutes();
        $('env-select').focus();
      } catch (e) {
        if (!(e instanceof GqlError)) throw e;
        const rest = [];
        for (const err of e.errors) {
          const f = err.extensions && err.extensions.field;
          const el = f && dlg.querySelector('[data-field="' + CSS.escape(f) + '"]');
          if (el) attachError(el, err.message);
          else rest.push(err.message);
        }
        $('branch-error').textContent = rest.join('\n');
        const bad = dlg.querySelector('[aria-invalid="true"]');
        if (bad) bad.focus();
      } finally {
        button.disabled = false;
      }
    });
    name.focus();
  }

  async function deleteEnv() {
    const env = state.env;
    if (env === 'default') return;
    const ok = await confirmDialog('Delete environment ' + env + '?',
      'The environment and all its Custom APIs (' + state.routes.length + ') are deleted.', 'Delete environment');
    if (!ok) return;
    try {
      const data = await gql(Q.deleteEnv, {name: env});
      showStatus('Environment ' + env + ' deleted (' + data.deleteEnvironment.deletedCount + ')');
      state.env = 'default';
      storageSet('apigw.console.env', 'default');
      await loadEnvironments();
      await loadRoutes();
      $('env-select').focus();
    } catch (e) {
      bannerFrom(e);
    }
  }

  /* ---------------------------------------------------------- editor: tabs */

  const form = $('route-form');
  const tabs = Array.from(document.querySelectorAll('#editor-tabs [role="tab"]'));

  function selectTab(tab, focus) {
    for (const t of tabs) {
      const on = t === tab;
      t.setAttribute('aria-selected', String(on));
      t.tabIndex = on ? 0 : -1;
      $(t.getAttribute('aria-controls')).hidden = !on;
    }
    if (focus) tab.focus();
  }

  function tabsKeydown(ev) {
    const i = tabs.indexOf(document.activeElement);
    if (i < 0) return;
    let next = null;
    if (ev.key === 'ArrowRight') next = tabs[(i + 1) % tabs.length];
    else if (ev.key === 'ArrowLeft') next = tabs[(i - 1 + tabs.length) % tabs.length];
    else if (ev.key === 'Home') next = tabs[0];
    else if (ev.key === 'End') next = tabs[tabs.length - 1];
    if (next) {
      ev.preventDefault();
      selectTab(next, true);
    }
  }

  /* ---------------------------------------------------------- editor: errors */

  let errorSeq = 0;

  function errorHost(el) {
    if (el.matches('.field, fieldset, .rules, .rule, .grid')) return el;
    return el.closest('.field, fieldset, .rule') || el.parentElement;
  }

  function attachError(el, message) {
    const host = errorHost(el);
    const p = h('p', {class: 'field-error', id: 'field-error-' + (++errorSeq), 'data-testid': 'field-error',
                      'data-for': el.getAttribute('data-field') || el.id || ''}, message);
    host.append(p);
    el.setAttribute('aria-invalid', 'true');
    const described = (el.getAttribute('aria-describedby') || '').split(' ').filter(Boolean);
    el.dataset.describedBefore = described.join(' ');
    el.setAttribute('aria-describedby', described.concat(p.id).join(' '));
  }

  function clearErrorsIn(root) {
    for (const p of root.querySelectorAll('.field-error')) p.remove();
    for (const el of root.querySelectorAll('[aria-invalid="true"]')) {
      el.removeAttribute('aria-invalid');
      if (el.dataset.describedBefore !== undefined) {
        if (el.dataset.describedBefore) el.setAttribute('aria-describedby', el.dataset.describedBefore);
        else el.removeAttribute('aria-describedby');
        delete el.dataset.describedBefore;
      }
    }
  }

  function clearFormErrors() {
    clearErrorsIn(form);
    for (const t of tabs) t.classList.remove('has-error');
    $('form-summary').textContent = '';
  }

  /* Not inside a hidden part of the form (a tab panel not shown is fine:
   * showing an error selects its tab). */
  function visible(el) {
    for (let n = el; n && n !== form; n = n.parentElement) {
      if (n.hidden && n.getAttribute('role') !== 'tabpanel') return false;
    }
    return true;
  }

  /* The element of a field path (input.cors.allowOrigins[2]): the
   * longest leading part of the path that names one, and the list index
   * cut off on the way (2 here), or null. */
  function fieldElement(path) {
    let p = path;
    let index = null;
    while (p) {
      const all = Array.from(form.querySelectorAll('[data-field="' + CSS.escape(p) + '"]')).filter(visible);
      if (all.length) return {el: all[all.length - 1], index};
      const m = /(\[(\d+)\]|\.[^.[\]]+)$/.exec(p);
      if (!m) break;
      if (m[2] !== undefined && index === null) index = Number(m[2]);
      p = p.slice(0, m.index);
    }
    return null;
  }

  /* GraphQL errors (or local ones, same shape) beside their fields. */
  function showFormErrors(errors) {
    clearFormErrors();
    const general = [];
    let first = null;
    for (const err of errors) {
      const field = err.extensions && err.extensions.field;
      const found = field ? fieldElement(field) : null;
      if (!found) {
        general.push(err.message);
        continue;
      }
      let msg = err.message;
      if (found.index !== null && found.el.matches('textarea')) msg = 'Line ' + (found.index + 1) + ': ' + msg;
      else if (found.index !== null && found.el.matches('input[type="text"]')) msg = 'Item ' + (found.index + 1) + ': ' + msg;
      attachError(found.el, msg);
      const panel = found.el.closest('[role="tabpanel"]');
      if (panel) {
        const tab = tabs.find((t) => t.getAttribute('aria-controls') === panel.id);
        if (tab) tab.classList.add('has-error');
      }
      if (!first) first = found.el;
    }
    if (general.length) showBanner(general.join('\n'));
    const n = errors.length - general.length;
    const summary = [];
    if (general.length) summary.push('Not saved: ' + general.join(' '));
    if (n) summary.push(n === 1 ? 'One field needs attention.' : n + ' fields need attention.');
    $('form-summary').textContent = summary.join(' ');
    if (first) {
      const panel = first.closest('[role="tabpanel"]');
      const tab = panel && tabs.find((t) => t.getAttribute('aria-controls') === panel.id);
      if (tab) selectTab(tab, false);
      const target = first.matches('input, select, textarea, button')
        ? first : first.querySelector('input:not([disabled]), select:not([disabled]), textarea:not([disabled]), button:not([disabled])');
      if (target) target.focus();
    }
  }

  /* ---------------------------------------------------------- editor: rows */

  let ruleSeq = 0;

  function addRule(container, rule) {
    const node = $('rule-template').content.firstElementChild.cloneNode(true);
    const n = ++ruleSeq;
    const parts = [['rule-action', 'Action'], ['rule-name', 'Name'], ['rule-value', 'Value']];
    const labels = node.querySelectorAll('.rule-label');
    parts.forEach(([cls, label], i) => {
      const input = node.querySelector('.' + cls);
      input.id = 'rule-' + n + '-' + cls.slice(5);
      labels[i].setAttribute('for', input.id);
      labels[i].textContent = label;
    });
    const action = node.querySelector('.rule-action');
    const value = node.querySelector('.rule-value');
    action.value = (rule && rule.action) || 'set';
    node.querySelector('.rule-name').value = (rule && rule.name) || '';
    value.value = (rule && rule.value) || '';
    const sync = () => { value.disabled = action.value === 'unset'; };
    action.addEventListener('change', sync);
    sync();
    node.querySelector('.rule-remove').addEventListener('click', () => {
      const next = node.nextElementSibling || node.previousElementSibling;
      node.remove();
      renumberRules(container);
      const focusTo = next ? next.querySelector('.rule-remove') : $(container.id + '-add');
      focusTo.focus();
    });
    container.append(node);
    renumberRules(container);
    return node;
  }

  function renumberRules(container) {
    const group = container.dataset.rules;
    const title = group === 'requestHeaders' ? 'request header' : 'response header';
    Array.from(container.children).forEach((row, i) => {
      row.dataset.field = 'input.' + group + '[' + i + ']';
      row.setAttribute('role', 'group');
      row.setAttribute('aria-label', 'Rule ' + (i + 1) + ' of the ' + title + 's');
      row.querySelector('.rule-action').dataset.field = 'input.' + group + '[' + i + '].action';
      row.querySelector('.rule-name').dataset.field = 'input.' + group + '[' + i + '].name';
      row.querySelector('.rule-value').dataset.field = 'input.' + group + '[' + i + '].value';
      row.querySelector('.rule-remove').setAttribute('aria-label', 'Remove ' + title + ' rule ' + (i + 1));
    });
  }

  function readRules(container) {
    return Array.from(container.children).map((row) => {
      const rule = {
        action: row.querySelector('.rule-action').value,
        name: row.querySelector('.rule-name').value.trim(),
      };
      if (rule.action !== 'unset') rule.value = row.querySelector('.rule-value').value;
      return rule;
    });
  }

  /* ---------------------------------------------------------- editor: fill */

  function methodChecks(containerId, prefix) {
    const box = $(containerId);
    box.replaceChildren(...METHODS.map((m) =>
      h('label', {class: 'check method'},
        h('input', {type: 'checkbox', id: prefix + m, value: m}), m)));
  }

  function setChecked(prefix, list) {
    for (const m of METHODS) $(prefix + m).checked = !!list && list.includes(m);
  }

  function checkedOf(prefix) {
    return METHODS.filter((m) => $(prefix + m).checked);
  }

  function setValue(id, v) {
    $(id).value = v === null || v === undefined ? '' : String(v);
  }

  function joinList(list) {
    return list && list.length ? list.join(', ') : '';
  }

  function splitList(text, sep) {
    return text.split(sep).map((s) => s.trim()).filter(Boolean);
  }

  function setBytes(id, bytes) {
    const unit = $(id + '-unit');
    if (bytes === null || bytes === undefined) {
      $(id).value = '';
      unit.value = '1048576';
      return;
    }
    for (const u of [1048576, 1024, 1]) {
      if (bytes % u === 0) {
        $(id).value = String(bytes / u);
        unit.value = String(u);
        return;
      }
    }
  }

  function fillForm(r) {
    form.reset();
    setValue('f-path', r ? r.path : '');
    setValue('f-target', r ? r.targetUrl : '');
    setChecked('f-method-', r ? r.methods : ['GET']);
    $('f-enabled').checked = r ? r.enabled : true;

    const c = r && r.cors;
    $('f-cors-on').checked = !!c;
    const anyOrigin = !c || !c.allowOrigins || c.allowOrigins.includes('*');
    $('f-cors-any').checked = anyOrigin;
    $('f-cors-listed').checked = !anyOrigin;
    setValue('f-cors-origins', anyOrigin ? '' : c.allowOrigins.join('\n'));
    setChecked('f-cors-method-', c && c.allowMethods);
    setValue('f-cors-headers', joinList(c && c.allowHeaders));
    setValue('f-cors-expose', joinList(c && c.exposeHeaders));
    setValue('f-cors-maxage', c && c.maxAgeSeconds);
    $('f-cors-credentials').checked = !!(c && c.allowCredentials);

    const rl = r && r.rateLimit;
    $('f-rl-on').checked = !!rl;
    setValue('f-rl-average', rl && rl.average);
    setValue('f-rl-period', rl ? rl.period : '1s');
    setValue('f-rl-burst', rl && rl.burst);
    const by = (rl && rl.by) || 'endpoint';
    const colon = by.indexOf(':');
    const kind = colon > 0 ? by.slice(0, colon) : by;
    $('f-rl-by').value = ['endpoint', 'ip', 'header', 'cookie', 'env', 'expr'].includes(kind) ? kind : 'endpoint';
    setValue('f-rl-by-value', colon > 0 ? by.slice(colon + 1) : '');

    for (const [id, list] of [['f-reqh', r && r.requestHeaders], ['f-resh', r && r.responseHeaders]]) {
      $(id).replaceChildren();
      for (const rule of list || []) addRule($(id), rule);
    }

    const rw = r && r.pathRewrite;
    $('f-rw-type').value = rw ? rw.type : '';
    setValue('f-rw-value', rw && rw.value);
    setValue('f-rw-replacement', rw && rw.replacement);

    const q = r && r.queryPolicy;
    const mode = q ? q.mode : 'all';
    for (const m of ['all', 'allow', 'deny']) $('f-q-' + m).checked = m === mode;
    setValue('f-q-names', joinList(q && q.names));

    const b = r && r.bodyLimits;
    setBytes('f-body-req', b && b.requestBytes);
    setBytes('f-body-res', b && b.responseBytes);

    setValue('f-timeout', r && r.timeoutSeconds);
    setValue('f-cache-ttl', r && r.cacheTtlSeconds);

    const cb = r && r.circuitBreaker;
    $('f-cb-on').checked = !!cb;
    const exprMode = !!(cb && cb.expression);
    $('f-cb-mode-preset').checked = !exprMode;
    $('f-cb-mode-expr').checked = exprMode;
    $('f-cb-preset').value = (cb && cb.preset) || 'errors-50';
    setValue('f-cb-expression', cb && cb.expression);
    setValue('f-cb-check', cb && cb.checkSeconds);
    setValue('f-cb-fallback', cb && cb.fallbackSeconds);
    setValue('f-cb-recovery', cb && cb.recoverySeconds);
    syncForm();
  }

  /* Enables and shows the fields the current choices use. */
  function syncForm() {
    $('cors-fields').disabled = !$('f-cors-on').checked;
    $('f-cors-origins').disabled = !$('f-cors-listed').checked;
    $('rl-fields').disabled = !$('f-rl-on').checked;
    const by = $('f-rl-by').value;
    const byLabel = {header: 'Header name', cookie: 'Cookie name', env: 'Variable name', expr: 'Expression'}[by];
    $('f-rl-by-value-field').hidden = !byLabel;
    if (byLabel) $('f-rl-by-value-label').textContent = byLabel;
    const rw = $('f-rw-type').value;
    $('f-rw-value-field').hidden = !rw;
    $('f-rw-replacement-field').hidden = rw !== 'regex';
    $('f-rw-value-label').textContent = rw === 'regex' ? 'Pattern' : 'Prefix';
    $('f-rw-value').placeholder = rw === 'regex' ? '^/v1/(.*)$' : '/v1';
    $('f-q-names').disabled = $('f-q-all').checked;
    $('cb-fields').disabled = !$('f-cb-on').checked;
    const expr = $('f-cb-mode-expr').checked;
    $('f-cb-preset-field').hidden = expr;
    $('f-cb-expression-field').hidden = !expr;
  }

  /* ---------------------------------------------------------- editor: read */

  /* The form as a RegisterRouteInput (null for groups not set) and the
   * local errors (numbers that are not). */
  function readForm() {
    const errors = [];
    const local = (field, message) => errors.push({message, extensions: {code: 'BAD_USER_INPUT', field}});
    const num = (id, field, opts) => {
      const text = $(id).value.trim();
      if (text === '') {
        if (opts && opts.required) local(field, 'Required.');
        return null;
      }
      const n = Number(text);
      if (!Number.isFinite(n) || $(id).validity.badInput) {
        local(field, 'Not a number.');
        return null;
      }
      if (!(opts && opts.float) && !Number.isInteger(n)) {
        local(field, 'Give a whole number.');
        return null;
      }
      return n;
    };

    const input = {
      path: $('f-path').value.trim(),
      targetUrl: $('f-target').value.trim(),
      methods: checkedOf('f-method-'),
      enabled: $('f-enabled').checked,
      cors: null,
      rateLimit: null,
      requestHeaders: null,
      responseHeaders: null,
      pathRewrite: null,
      queryPolicy: null,
      bodyLimits: null,
      timeoutSeconds: null,
      circuitBreaker: null,
      cacheTtlSeconds: null,
    };

    if ($('f-cors-on').checked) {
      const c = {
        allowOrigins: $('f-cors-listed').checked ? splitList($('f-cors-origins').value, /\r?\n/) : ['*'],
        allowCredentials: $('f-cors-credentials').checked,
      };
      const methods = checkedOf('f-cors-method-');
      if (methods.length) c.allowMethods = methods;
      const headers = splitList($('f-cors-headers').value, ',');
      if (headers.length) c.allowHeaders = headers;
      const expose = splitList($('f-cors-expose').value, ',');
      if (expose.length) c.exposeHeaders = expose;
      const maxAge = num('f-cors-maxage', 'input.cors.maxAgeSeconds');
      if (maxAge !== null) c.maxAgeSeconds = maxAge;
      input.cors = c;
    }

    if ($('f-rl-on').checked) {
      const rl = {
        average: num('f-rl-average', 'input.rateLimit.average', {required: true}),
        period: $('f-rl-period').value.trim(),
      };
      const burst = num('f-rl-burst', 'input.rateLimit.burst');
      if (burst !== null) rl.burst = burst;
      const kind = $('f-rl-by').value;
      if (kind === 'ip') rl.by = 'ip';
      else if (kind !== 'endpoint') rl.by = kind + ':' + $('f-rl-by-value').value.trim();
      input.rateLimit = rl;
    }

    const req = readRules($('f-reqh'));
    if (req.length) input.requestHeaders = req;
    const res = readRules($('f-resh'));
    if (res.length) input.responseHeaders = res;

    const rwType = $('f-rw-type').value;
    if (rwType) {
      input.pathRewrite = {type: rwType, value: $('f-rw-value').value.trim()};
      if (rwType === 'regex') input.pathRewrite.replacement = $('f-rw-replacement').value;
    }

    const qmode = ['all', 'allow', 'deny'].find((m) => $('f-q-' + m).checked) || 'all';
    if (qmode !== 'all') input.queryPolicy = {mode: qmode, names: splitList($('f-q-names').value, ',')};

    const reqBytes = num('f-body-req', 'input.bodyLimits.requestBytes');
    const resBytes = num('f-body-res', 'input.bodyLimits.responseBytes');
    if (reqBytes !== null || resBytes !== null) {
      input.bodyLimits = {};
      if (reqBytes !== null) input.bodyLimits.requestBytes = reqBytes * Number($('f-body-req-unit').value);
      if (resBytes !== null) input.bodyLimits.responseBytes = resBytes * Number($('f-body-res-unit').value);
    }

    input.timeoutSeconds = num('f-timeout', 'input.timeoutSeconds');
    input.cacheTtlSeconds = num('f-cache-ttl', 'input.cacheTtlSeconds');

    if ($('f-cb-on').checked) {
      const cb = {};
      if ($('f-cb-mode-expr').checked) cb.expression = $('f-cb-expression').value.trim();
      else cb.preset = $('f-cb-preset').value;
      for (const [id, key] of [['f-cb-check', 'checkSeconds'], ['f-cb-fallback', 'fallbackSeconds'], ['f-cb-recovery', 'recoverySeconds']]) {
        const v = num(id, 'input.circuitBreaker.' + key, {float: true});
        if (v !== null) cb[key] = v;
      }
      input.circuitBreaker = cb;
    }
    return {input, errors};
  }

  const OPTIONAL = ['cors', 'rateLimit', 'requestHeaders', 'responseHeaders', 'pathRewrite', 'queryPolicy',
                    'bodyLimits', 'timeoutSeconds', 'circuitBreaker', 'cacheTtlSeconds'];

  /* Register: the groups set. Update: those too, and null for the groups
   * the route had that the user cleared. */
  function mutationInput(input, original) {
    const out = {};
    for (const [k, v] of Object.entries(input)) {
      if (v !== null) out[k] = v;
      else if (original && OPTIONAL.includes(k) && original[k] !== null && original[k] !== undefined) out[k] = null;
    }
    return out;
  }

  /* ---------------------------------------------------------- editor: show, save */

  async function showEditor(id, focus) {
    setView('editor', id ? 'Edit Custom API' : 'Add Custom API', false);
    clearFormErrors();
    selectTab(tabs[0], false);
    let r = null;
    if (id) {
      r = state.routes.find((x) => x.id === id) || null;
      if (!r) {
        try {
          r = (await gql(Q.route, {id})).route;
        } catch (e) {
          bannerFrom(e);
        }
        if (!r) {
          showBanner('There is no Custom API with id ' + id + ' (deleted meanwhile?).');
          keepBanner = true;
          location.replace('#apis');
          return;
        }
      }
    }
    state.editing = r;
    $('editor-title').textContent = r ? 'Edit Custom API' : 'Add Custom API';
    $('editor-env').textContent = 'Environment ' + (r ? r.environment : state.env);
    $('route-save').textContent = r ? 'Save changes' : 'Add Custom API';
    fillForm(r);
    if (focus) $('f-path').focus();
  }

  let saving = false;
  async function saveRoute(ev) {
    ev.preventDefault();
    if (saving) return;
    hideBanner();
    clearFormErrors();
    const {input, errors} = readForm();
    if (errors.length) {
      showFormErrors(errors);
      return;
    }
    const original = state.editing;
    saving = true;
    $('route-save').disabled = true;
    try {
      let saved;
      if (original) {
        saved = (await gql(Q.update, {id: original.id, input: mutationInput(input, original)})).updateRoute;
      } else {
        const body = mutationInput(input, null);
        body.environment = state.env;
        saved = (await gql(Q.register, {input: body})).registerRoute;
      }
      showStatus((original ? 'Saved ' : 'Added ') + saved.path);
      state.editing = null;
      location.hash = '#apis';
    } catch (e) {
      if (e instanceof GqlError) showFormErrors(e.errors);
      else bannerFrom(e);
    } finally {
      saving = false;
      $('route-save').disabled = false;
    }
  }

  /* ---------------------------------------------------------- API keys */

  async function loadKeys() {
    const data = await gql(Q.apiKeys);
    if (state.view === 'keys') renderKeys(data.apiKeys);
  }

  async function showKeys(focus) {
    setView('keys', 'API keys', focus);
    try {
      await loadKeys();
    } catch (e) {
      bannerFrom(e);
    }
  }

  function renderKeys(keys) {
    const rows = keys.map((k) => h('tr', {'data-testid': 'key-row', dataset: {name: k.name}},
      h('td', {class: 'key-name', 'data-label': 'Name', 'data-testid': 'key-name', text: k.name}),
      h('td', {'data-label': 'Roles'},
        k.roles.length ? h('span', {class: 'badges'}, k.roles.map((r) => h('span', {class: 'badge policy', text: r})))
                       : h('span', {class: 'note', text: 'No role'})),
      h('td', {'data-label': 'Created'}, timeEl(k.createdAt)),
      h('td', {class: 'actions'},
        h('button', {type: 'button', class: 'small danger-quiet', 'aria-label': 'Revoke ' + k.name,
                     'data-testid': 'revoke', onclick: () => revokeKey(k)}, 'Revoke'))));
    $('keys-body').replaceChildren(...rows);
    $('keys-table').hidden = rows.length === 0;
    $('keys-empty').hidden = rows.length !== 0;
  }

  /* The key shown once: gone from the page when it is dismissed, when
   * the view is left, or when the key is revoked. */
  function forgetCreatedKey() {
    $('key-created-value').value = '';
    $('key-created-name').textContent = '';
    $('key-created').hidden = true;
  }

  function showCreatedKey(k) {
    $('key-created-name').textContent = k.name;
    $('key-created-value').value = k.key;
    $('key-created').hidden = false;
    const input = $('key-created-value');
    input.focus();
    input.select();
  }

  async function copyCreatedKey() {
    const input = $('key-created-value');
    try {
      await navigator.clipboard.writeText(input.value);
      showStatus('Key copied');
    } catch (e) {
      input.focus();
      input.select();
      showStatus('Selected: copy it with Ctrl+C (\u2318C)');
    }
  }

  /* The server's errors (or local ones, same shape) beside name or roles
   * (roles[N]: the roles field). */
  function showKeyErrors(errors) {
    const form = $('key-form');
    const rest = [];
    let first = null;
    clearErrorsIn(form);
    for (const err of errors) {
      const f = ((err.extensions && err.extensions.field) || '').replace(/\[\d+\]$/, '');
      const el = f && form.querySelector('[data-field="' + CSS.escape(f) + '"]');
      if (el) {
        attachError(el, err.message);
        if (!first) first = el;
      } else {
        rest.push(err.message);
      }
    }
    $('key-form-summary').textContent = rest.length ? 'Not created: ' + rest.join(' ') : '';
    if (first) first.focus();
  }

  let creatingKey = false;
  async function createKey(ev) {
    ev.preventDefault();
    if (creatingKey) return;
    hideBanner();
    forgetCreatedKey();
    clearErrorsIn($('key-form'));
    $('key-form-summary').textContent = '';
    const name = $('k-name').value.trim();
    const roles = splitList($('k-roles').value, ',');
    if (!name) {
      showKeyErrors([{message: 'Give the key a name.', extensions: {field: 'name'}}]);
      return;
    }
    creatingKey = true;
    $('key-create').disabled = true;
    try {
      const k = (await gql(Q.createApiKey, {name, roles})).createApiKey;
      $('key-form').reset();
      showCreatedKey(k);
      showStatus('Key ' + k.name + ' created');
      await loadKeys();
    } catch (e) {
      if (e instanceof GqlError) showKeyErrors(e.errors);
      else bannerFrom(e);
    } finally {
      creatingKey = false;
      $('key-create').disabled = false;
    }
  }

  async function revokeKey(k) {
    const ok = await confirmDialog('Revoke API key ' + k.name + '?',
      'Requests with this key are refused (401) by the gateway within moments. This cannot be undone.', 'Revoke');
    if (!ok) return;
    try {
      await gql(Q.revokeApiKey, {name: k.name});
      if ($('key-created-name').textContent === k.name) forgetCreatedKey();
      showStatus('Key ' + k.name + ' revoked');
      await loadKeys();
      $('k-name').focus();
    } catch (e) {
      bannerFrom(e);
    }
  }

  /* ---------------------------------------------------------- operations */

  function stopOps() {
    clearTimeout(state.opsTimer);
    state.opsTimer = 0;
  }

  function scheduleOps() {
    stopOps();
    if (state.view === 'ops' && $('ops-auto').checked) {
      state.opsTimer = setTimeout(refreshOps, OPS_EVERY_MS);
    }
  }

  async function refreshOps() {
    if (state.view !== 'ops') return;
    if (document.hidden) { scheduleOps(); return; }
    if (state.opsLoading) return;
    state.opsLoading = true;
    try {
      const data = await gql(Q.operations);
      if (state.view === 'ops') {
        renderOps(data.operations);
        if ($('banner').dataset.from === 'ops') { hideBanner(); delete $('banner').dataset.from; }
      }
    } catch (e) {
      bannerFrom(e);
      $('banner').dataset.from = 'ops';
    } finally {
      state.opsLoading = false;
      scheduleOps();
    }
  }

  function showOps(focus) {
    setView('ops', 'Operations', focus);
    refreshOps();
  }

  function stateClass(s) {
    if (s === 'active' || s === 'closed') return 'good';
    if (s === 'suspended' || s === 'open' || s === 'disabled') return 'bad';
    if (s === 'timeout' || s === 'recovering') return 'warn';
    return 'idle';
  }

  function table(caption, columns, rows, testid) {
    return h('div', {class: 'table-wrap'},
      h('table', {class: 'data reflow', 'data-testid': testid},
        h('caption', {class: 'visually-hidden', text: caption}),
        h('thead', null, h('tr', null, columns.map((c) =>
          h('th', {scope: 'col', class: c.num ? 'num' : null}, c.hidden ? h('span', {class: 'visually-hidden', text: c.label}) : c.label)))),
        h('tbody', null, rows)));
  }

  function cell(label, content, cls) {
    return h('td', {'data-label': label, class: cls || null}, content);
  }

  function unavailable(text) {
    return h('p', {class: 'note', text});
  }

  function renderOps(ops) {
    const active = document.activeElement;
    const focusKey = active && active.dataset ? active.dataset.key : null;
    $('ops-time').textContent = '';
    $('ops-time').append('Updated ', timeEl(ops.time), '.');

    const pools = $('pools');
    if (!ops.pools) pools.replaceChildren(unavailable('Pools are not available: mod_apigw_breaker is not loaded.'));
    else if (!ops.pools.length) pools.replaceChildren(unavailable('No balancer:// pool is configured.'));
    else {
      pools.replaceChildren(...ops.pools.map((pool) => {
        const rows = pool.members.map((m) => {
          const canResume = m.state === 'suspended' || m.state === 'timeout';
          return h('tr', {'data-testid': 'member-row', dataset: {pool: pool.name, member: m.name, state: m.state}},
            cell('Member', breakable(m.name), 'path'),
            cell('State', h('span', {class: 'state ' + stateClass(m.state), 'data-testid': 'member-state', text: m.state})),
            cell('Since', timeEl(m.suspendedSince)),
            cell('Until', timeEl(m.suspendedUntil)),
            cell('Reason', m.reason || '\u2014'),
            cell('Suspensions', fmtCount(m.suspensions), 'num'),
            cell('Retries', fmtCount(m.retries), 'num'),
            h('td', {class: 'actions'}, canResume
              ? h('button', {type: 'button', class: 'small', 'data-testid': 'resume', 'aria-label': 'Resume ' + m.name,
                             dataset: {key: 'resume|' + pool.name + '|' + m.name},
                             onclick: (ev) => resumeMember(pool.name, m.name, ev.currentTarget)}, 'Resume')
              : null));
        });
        return h('div', {class: 'pool', 'data-testid': 'pool', dataset: {pool: pool.name}},
          h('div', {class: 'pool-head'},
            h('h3', {class: 'pool-name', text: pool.name}),
            h('span', {class: 'badge', text: pool.lbmethod})),
          table('Members of ' + pool.name, [
            {label: 'Member'}, {label: 'State'}, {label: 'Suspended since'}, {label: 'Until'},
            {label: 'Reason'}, {label: 'Suspensions', num: true}, {label: 'Retries', num: true},
            {label: 'Actions', hidden: true}], rows, 'members-table'));
      }));
    }

    const breakers = $('breakers');
    if (!ops.breakers) breakers.replaceChildren(unavailable('Circuit breakers are not available: mod_apigw_breaker is not loaded.'));
    else if (!ops.breakers.length) breakers.replaceChildren(unavailable('No circuit breaker.'));
    else {
      breakers.replaceChildren(table('Circuit breakers', [
        {label: 'Section'}, {label: 'Backend'}, {label: 'Expression'}, {label: 'State'}, {label: 'Since'},
        {label: 'Trips', num: true}, {label: 'Window'}, {label: 'Actions', hidden: true}],
      ops.breakers.map((b) => {
        const w = b.window || {};
        return h('tr', {'data-testid': 'breaker-row', dataset: {breakerId: b.id, state: b.state}},
          cell('Section', b.section, 'path'),
          cell('Backend', b.backend ? breakable(b.backend) : '\u2014', 'target'),
          cell('Expression', b.expression ? h('code', {text: b.expression}) : '\u2014'),
          cell('State', h('span', {class: 'state ' + stateClass(b.state), text: b.state})),
          cell('Since', timeEl(b.since)),
          cell('Trips', fmtCount(b.trips), 'num'),
          cell('Window', h('span', {class: 'counter'},
            fmtCount(w.requests) + ' req, ' + fmtCount(w.networkErrors) + ' net err, ' +
            fmtCount(w.status5xx) + ' 5xx, ' + fmtCount(w.status4xx) + ' 4xx')),
          h('td', {class: 'actions'},
            h('button', {type: 'button', class: 'small', 'data-testid': 'reset', 'aria-label': 'Reset breaker ' + b.section,
                         dataset: {key: 'reset|' + b.id},
                         onclick: (ev) => resetBreaker(b, ev.currentTarget)}, 'Reset')));
      }), 'breakers-table'));
    }

    const limits = $('limits');
    if (!ops.rateLimits) limits.replaceChildren(unavailable('Rate limits are not available: mod_apigw_ratelimit is not loaded.'));
    else if (!ops.rateLimits.length) limits.replaceChildren(unavailable('No rate limit.'));
    else {
      limits.replaceChildren(table('Rate limits', [
        {label: 'Section'}, {label: 'Policy'}, {label: 'Admitted', num: true},
        {label: 'Rejected', num: true}, {label: 'Delayed', num: true}],
      ops.rateLimits.map((l) => h('tr', {'data-testid': 'ratelimit-row'},
        cell('Section', l.section, 'path'),
        cell('Policy', l.policy),
        cell('Admitted', fmtCount(l.admitted), 'num'),
        cell('Rejected', fmtCount(l.rejected), 'num'),
        cell('Delayed', fmtCount(l.delayed), 'num'))), 'limits-table'));
    }

    if (focusKey) {
      const again = $('view-ops').querySelector('[data-key="' + CSS.escape(focusKey) + '"]');
      if (again) again.focus();
      else if (!document.activeElement || document.activeElement === document.body) $('ops-refresh').focus();
    }
  }

  async function resumeMember(pool, member, button) {
    button.disabled = true;
    try {
      const data = await gql(Q.resume, {pool, member});
      showStatus(member + ' resumed (' + data.resumeMember.state + ')');
    } catch (e) {
      bannerFrom(e);
      button.disabled = false;
    }
    stopOps();
    await refreshOps();
  }

  async function resetBreaker(b, button) {
    button.disabled = true;
    try {
      const data = await gql(Q.resetBreaker, {id: b.id});
      showStatus('Breaker of ' + b.section + ' reset (' + data.resetBreaker.state + ')');
    } catch (e) {
      bannerFrom(e);
      button.disabled = false;
    }
    stopOps();
    await refreshOps();
  }

  /* ---------------------------------------------------------- wiring */

  function init() {
    methodChecks('f-methods-list', 'f-method-');
    methodChecks('f-cors-methods-list', 'f-cors-method-');

    $('banner-close').addEventListener('click', hideBanner);
    $('add-route').addEventListener('click', () => { location.hash = '#new'; });
    $('routes-refresh').addEventListener('click', () => { hideBanner(); loadRoutes().catch(bannerFrom); });
    $('env-select').addEventListener('change', (ev) => switchEnv(ev.target.value));
    $('env-branch').addEventListener('click', branchEnv);
    $('env-delete').addEventListener('click', deleteEnv);

    for (const t of tabs) t.addEventListener('click', () => selectTab(t, true));
    $('editor-tabs').addEventListener('keydown', tabsKeydown);
    form.addEventListener('submit', saveRoute);
    form.addEventListener('change', syncForm);
    $('f-reqh-add').addEventListener('click', () => addRule($('f-reqh')).querySelector('select').focus());
    $('f-resh-add').addEventListener('click', () => addRule($('f-resh')).querySelector('select').focus());

    $('key-form').addEventListener('submit', createKey);
    $('key-copy').addEventListener('click', copyCreatedKey);
    $('key-created-done').addEventListener('click', () => { forgetCreatedKey(); $('k-name').focus(); });

    $('ops-refresh').addEventListener('click', () => { stopOps(); refreshOps(); });
    $('ops-auto').addEventListener('change', () => { if ($('ops-auto').checked) refreshOps(); else stopOps(); });
    document.addEventListener('visibilitychange', () => {
      if (!document.hidden && state.view === 'ops') { stopOps(); refreshOps(); }
    });

    window.addEventListener('hashchange', dispatch);
    dispatch();
  }

  /* for the browser test: the view shown and whether a request is out */
  window.apigwConsole = {
    get view() { return state.view; },
    get environment() { return state.env; },
  };

  init();
})();
