// The phone page: lays out what the station server says, in the words it sends; no words of its own.
"use strict";
const S = { v: 0, area: "", lang: "", page: null, form: null, problem: "", flash: "", bad: false,
            poll: null, offline: false, duty: false, guests: null };
const app = document.getElementById("app");
// This tab's own word: a tap's answer brings the page, and the server then does not wake this tab's long poll for it.
const PAGE = Math.random().toString(36).slice(2, 12) + Date.now().toString(36);

function el(tag, attrs, ...kids) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === "on") {   // through node._on, so a patched node answers with the newest draw's handlers
      node._on = v;
      for (const ev of Object.keys(v)) node.addEventListener(ev, e => node._on[ev] && node._on[ev](e));
    }
    else if (k === "text") node.textContent = v;   // text from people and the wire: never HTML
    else if (v !== false && v !== null && v !== undefined) node.setAttribute(k, v === true ? "" : v);
  }
  for (const kid of kids.flat(Infinity)) if (kid) node.append(kid);
  return node;
}

async function call(path, body) {
  let r;
  try {
    r = await fetch(path, { method: "POST", headers: { "Content-Type": "application/json" },
                            body: JSON.stringify({ ...(body || {}), p: PAGE }), credentials: "same-origin" });
  } catch (e) {   // the server out of reach: said on the page, not lost in the console (nothing was saved)
    return { status: 0, data: { error: S.page ? S.page.words.offline_page : "" } };
  }
  let data = {};
  try { data = await r.json(); } catch (e) { data = {}; }
  // A tap's answer: the page as it now is (not if the language or area was switched while it came: that page's own).
  if (data.now && data.now.paired && data.now.v > S.v && current(data.now.page)) take(data.now);
  return { status: r.status, data };
}

function take(data) { S.v = data.v; S.page = data.page; S.lang = data.page.lang; S.area = data.page.area; }
function current(page) { return page.lang === S.lang && page.area === S.area; }   // in the language and area shown

// --- the long poll: answered at once when anything changed, else after a while ------------------------
async function follow() {
  const mine = new AbortController();
  if (S.poll) S.poll.abort();
  S.poll = mine;
  while (S.poll === mine) {
    try {
      const q = new URLSearchParams({ v: S.v, area: S.area, lang: S.lang, p: PAGE });
      const r = await fetch("/api/page?" + q, { signal: mine.signal, credentials: "same-origin" });
      const data = await r.json();
      if (S.poll !== mine) return;
      const was = S.offline;
      S.offline = false;
      if (!data.paired) { S.page = null; S.v = 0; pairing(data); return; }
      // What a tap's answer already brought (or the long poll's own time running out): nothing to draw.
      if (!was && S.page && data.v <= S.v && current(data.page)) continue;
      take(data);
      draw();
    } catch (e) {
      if (mine.signal.aborted) return;
      S.offline = true;
      if (S.page) draw();
      await new Promise(ok => setTimeout(ok, 2000));
    }
  }
}

function again() { S.v = 0; follow(); }

// --- pairing ---------------------------------------------------------------------------------------
function pairing(data) {
  S.lang = data.lang;
  const w = data.words;
  const input = el("input", { type: "text", inputmode: "numeric", autocomplete: "one-time-code",
                              maxlength: "12", id: "code", "aria-label": w.prompt });
  const problem = el("p", { class: "problem", role: "alert", text: data.problem || "" });
  const send = async (ev) => {
    if (ev) ev.preventDefault();
    const { data: answer } = await call("/api/pair", { code: input.value, lang: S.lang });
    if (answer.paired) { history.replaceState(null, "", "/"); again(); } else pairing(answer);
  };
  const switcher = el("button", { class: "switch", type: "button", text: data.switch,
                                  on: { click: () => { S.lang = data.other; again(); } } });
  show(
    el("header", {}, el("h1", { text: w.title }), switcher),
    el("form", { class: "pair", on: { submit: send } },
       el("p", { text: w.prompt }), input, el("button", { class: "go", type: "submit", text: w.button })),
    problem, el("p", { text: w.hint }));
  setLang(S.lang);
  const fromQr = /code=(\d{6})/.exec(location.hash);
  if (fromQr && !data.problem) { input.value = fromQr[1]; send(); }
}

// --- the station's page ----------------------------------------------------------------------------
async function tap(action, values) {
  const lang = S.lang;
  const { status, data } = await call("/api/tap", { action: action.id, values: values || {}, area: S.area });
  if (status === 401) { again(); return false; }
  if (S.lang !== lang) { draw(); return !!data.said; }   // switched meanwhile: its line was said in the other language
  S.flash = data.said || data.error || ""; S.bad = !data.said;
  if (data.said) { S.form = null; S.problem = ""; } else if (S.form) { S.problem = data.error || ""; }
  draw();
  return !!data.said;
}

function keyPressed(action) {
  if (action.refused) { S.flash = action.refused; S.bad = true; draw(); return; }
  if (action.opens === "guests") { S.guests = { q: "", lang: S.page.lang }; draw(); lookUp(); return; }
  if (action.fields.length) { S.form = action.id; S.problem = ""; draw(); return; }
  tap(action);
}

function sheet(p, action) {
  const inputs = {};
  const rows = action.fields.map(f => {
    let input;
    if (f.kind === "bool") input = el("input", { type: "checkbox", checked: !!f.default });
    else if (f.kind === "choice") {
      input = el("select", {}, f.choices.map((c, i) =>
        el("option", { value: String(i), selected: c.value === f.default, text: c.label })));
    } else input = el("input", { type: "text", inputmode: f.kind === "int" ? "numeric" : "text",
                                 value: f.default === "" || f.default === null ? "" : String(f.default) });
    input.id = "field-" + f.name;
    inputs[f.name] = [f, input];
    return [el("label", { for: input.id, text: f.label }), input];
  });
  const values = () => Object.fromEntries(Object.entries(inputs).map(([name, [f, input]]) =>
    [name, f.kind === "bool" ? input.checked : f.kind === "choice" ? f.choices[+input.value].value : input.value]));
  const title = [action.title || action.label, action.remind].filter(Boolean).join(" · ");
  return el("form", { class: "sheet", on: { submit: ev => { ev.preventDefault(); tap(action, values()); } } },
    el("h2", { text: title }), rows,
    el("div", { class: "problem", role: "alert", text: S.problem }),
    el("div", { class: "row" },
       el("button", { class: "send", type: "submit", text: p.words.send }),
       el("button", { class: "cancel", type: "button", text: p.words.cancel,
                      on: { click: () => { S.form = null; S.problem = ""; draw(); } } })));
}

// An open form survives the page's redraws (a status change, a new report): what was typed stays.
function keptSheet(p, action) {
  const key = p.lang + "/" + action.id;
  if (!S.sheet || S.sheet.key !== key) {
    S.sheet = { key, node: kept(sheet(p, action)) };
    setTimeout(() => { const first = S.sheet && S.sheet.node.querySelector("input, select"); if (first) first.focus(); });
  }
  S.sheet.node.querySelector(".problem").textContent = S.problem;
  return S.sheet.node;
}

// --- the guest list (the terminal's F7): a search the server answers, each guest a button to check in -------
let asked = 0;
async function lookUp() {
  const g = S.guests;
  if (!g) return;
  const mine = ++asked;
  const r = await fetch("/api/guests?" + new URLSearchParams({ q: g.q }), { credentials: "same-origin" });
  if (r.status === 401) { again(); return; }
  const data = await r.json();
  if (mine !== asked || S.guests !== g) return;   // an answer overtaken by newer typing is dropped
  g.data = data; draw();
}

function guestSheet(p) {
  const g = S.guests;
  if (!g.node || g.lang !== p.lang) {
    const input = el("input", { type: "search", id: "guest-query", placeholder: p.words.guests_search,
                                "aria-label": p.words.guests_search, value: g.q, autocomplete: "off" });
    input.addEventListener("input", () => { g.q = input.value; lookUp(); });
    g.title = el("h2", {}); g.list = el("ol", { class: "list", id: "guests" });
    g.node = kept(el("div", { class: "sheet guests" }, g.title, input, g.list,
      el("div", { class: "row" }, el("button", { class: "cancel", type: "button", text: p.words.cancel,
                                                 on: { click: () => { S.guests = null; draw(); } } }))));
    g.lang = p.lang;
    setTimeout(() => input.focus());
  }
  const d = g.data;
  if (d) {
    g.title.textContent = d.title;
    g.list.replaceChildren(...(d.guests.length ? d.guests.map(x => el("li", { "data-ref": x.ref },
      el("button", { class: "guest", type: "button", on: { click: () => {
        S.guests = null; S.form = x.action; S.problem = ""; draw(); } } },
        x.arrived && el("span", { class: "arrived", text: x.arrived + " " }),
        x.vip && el("span", { class: "vip", text: "VIP " }), x.line)))
      : [el("li", { class: "meta", text: d.empty })]));
  }
  return g.node;
}

// --- service calls (the terminal's calls list): take one routed here, mark one done ------------------------
async function callDo(c, what) {
  const { status, data } = await call("/api/call", { id: c.id, do: what });
  if (status === 401) { again(); return; }
  S.flash = data.said || data.error || ""; S.bad = !data.said; draw();
}

function calls(p) {
  if (!p.calls) return false;
  return [el("h3", { text: p.words.calls }),
    p.calls.length ? el("ol", { class: "list", id: "calls" }, p.calls.map(c => same("c" + c.id, [c, p.words.take, p.words.done], () => el("li", {
        class: "call " + c.status, "data-call": c.id },
      el("span", { class: "state", text: c.status_text }), " ", el("span", { text: c.what }),
      (c.take || c.finish) && el("div", { class: "row" },
        c.take && el("button", { class: "ack take", type: "button", text: p.words.take,
                                 on: { click: () => callDo(c, "take") } }),
        c.finish && el("button", { class: "ack done", type: "button", text: p.words.done,
                                   on: { click: () => callDo(c, "done") } }))))))
      : el("p", { class: "meta", text: p.words.calls_empty })];
}

// --- the plan tasks given to this post (the terminal's banner with D and K): done at once, skip asks why -------
function steps(p) {
  if (!p.steps || !p.steps.length) return false;
  const key = id => p.actions.find(a => a.id === id);
  return [el("h3", { text: p.words.steps }),
    el("ol", { class: "list", id: "steps" }, p.steps.map(t => el("li", { class: "step", "data-step": t.done },
      el("div", { class: "meta", text: t.plan }), el("div", { class: "order", text: t.order }),
      el("div", { class: "row" }, [key(t.done), key(t.skip)].filter(Boolean).map(a => el("button", {
        class: "ack " + (a.id === t.done ? "done" : "skip"), type: "button", "data-action": a.id, text: a.label,
        on: { click: () => keyPressed(a) } }))))))];
}

function keys(actions) {
  return actions.map(a => same("k" + a.id, a, () => el("button", { class: a.refused ? "refused" : "", type: "button",
                                         "data-action": a.id, text: a.label, on: { click: () => keyPressed(a) } })));
}

function show(...parts) {   // the page's parts, nested lists and skipped (false) ones allowed
  patch(app, parts.flat(Infinity).filter(Boolean));
  for (const [key, had] of memo) if (had.gen !== drawn) memo.delete(key);   // gone from the page
  drawn++;
}

// --- a row or key drawn from the same data as last time is last time's node: not built, not compared.
// Most of a draw is unchanged (one row of twenty moved on), and a phone's CPU went to rebuilding and comparing
// the rest (bench/phones.py). Its place in the new draw is held by a stand-in the patch swaps for it.
const memo = new Map();   // key -> { sig, node, gen }
let drawn = 0;
function same(key, data, build) {
  const sig = JSON.stringify(data);
  const had = memo.get(key);
  if (had && had.sig === sig && had.gen !== drawn && had.node.isConnected) {
    had.gen = drawn;
    const stand = document.createComment("");
    stand._stand = had.node;
    return stand;
  }
  const node = build();
  node._memo = { sig, node, gen: drawn };
  memo.set(key, node._memo);
  return node;
}

// A node new to the page takes the live nodes its stand-ins hold.
function settle(node) {
  for (const kid of [...node.childNodes]) {
    if (kid._stand) kid.replaceWith(kid._stand);
    else if (kid.nodeType === 1) settle(kid);
  }
  return node;
}

// --- drawing by patching: the page is built anew each draw, and only what differs is changed on screen.
// A tap wakes every phone of its post two or three times (saved, sent, delivered); rebuilt whole, each
// draw made the phone style, lay out and paint the whole page again for one row's new state. (On one
// machine holding 30 phones' browsers that was most of its CPU: bench/phones.py.)
function keyOf(n) {
  if (n.nodeType !== 1) return "#" + n.nodeType;
  const d = n.dataset;
  return n.tagName + "|" + n.id + "|" + (d.seq || d.call || d.step || d.ref || d.action || "");
}

// Set only when it changes: writing the same value still restyles the whole page (its text's language).
function setLang(lang) {
  const want = lang === "en" ? "en" : "zh-CN";
  if (document.documentElement.lang !== want) document.documentElement.lang = want;
}

function kept(node) { node._kept = true; return node; }

function handlers(n) { return n._on ? Object.keys(n._on).join() : ""; }

function patch(parent, kids) {
  kids = kids.map(k => k._stand || k);
  const spare = new Map();
  for (const old of parent.childNodes) {
    if (old._kept || kids.includes(old)) continue;   // kept nodes are never patched into another
    const k = keyOf(old);
    if (!spare.has(k)) spare.set(k, []);
    spare.get(k).push(old);
  }
  kids.forEach((kid, i) => {
    let node = kid;
    // A node kept across draws (an open form, the guest list: `kept`) goes in whole, never patched into
    // another, since the page holds it and its fields; already in place, it is left where it is.
    if (!kid.isConnected && !kid._kept) {   // a node on the page already (kept, or a stand-in's) goes in as it is
      const old = (spare.get(keyOf(kid)) || []).shift();
      node = old ? morph(old, kid) : settle(kid);
    }
    const here = parent.childNodes[i];
    if (here !== node) parent.insertBefore(node, here || null);
  });
  while (parent.childNodes.length > kids.length) parent.lastChild.remove();
}

function morph(old, nu) {
  // Fields are never patched: what someone typed (or the pairing code just refused) is the draw's to set.
  if (old === nu) return old;
  if (old.nodeName !== nu.nodeName || handlers(old) !== handlers(nu) || /^(INPUT|SELECT|TEXTAREA)$/.test(old.nodeName)) {
    old.replaceWith(settle(nu));
    return nu;
  }
  if (nu._memo) { nu._memo.node = old; old._memo = nu._memo; }   // the next draw finds the node on the page
  if (old.nodeType === 3) {
    if (old.nodeValue !== nu.nodeValue) old.nodeValue = nu.nodeValue;
    return old;
  }
  if (old.nodeType !== 1) return old;
  for (const a of [...old.attributes]) if (!nu.hasAttribute(a.name)) old.removeAttribute(a.name);
  for (const a of nu.attributes) if (old.getAttribute(a.name) !== a.value) old.setAttribute(a.name, a.value);
  old._on = nu._on;
  patch(old, [...nu.childNodes]);
  return old;
}

function draw() {
  const p = S.page;
  if (!p) return;
  if (!S.form) S.sheet = null;
  setLang(p.lang);
  // A form is one of the post's keys (by id) or a guest's check-in (the action the look-up sent).
  const open = S.form && typeof S.form === "object" ? S.form : p.actions.find(a => a.id === S.form);
  const switcher = el("button", { class: "switch", type: "button", text: p.switch, on: { click: async () => {
    await call("/api/lang", { lang: p.other });
    S.lang = p.other; S.flash = ""; S.form = null; S.guests = null; again();   // a line said in the other language goes
  } } });
  const link = S.offline ? { kind: "bad", text: p.words.offline_page } : p.link;
  show(
    el("header", {}, p.drill && el("span", { class: "drill", text: p.drill }),
       el("h1", {}, p.title + " ", el("span", { class: "post", text: p.post })), switcher),
    el("div", { class: "link " + link.kind, id: "link", text: link.text }),
    p.holds.map(h => el("div", { class: "hold", text: h })),
    el("div", { class: "flash" + (S.bad ? " bad" : ""), id: "flash", role: "status", text: S.flash }),
    p.counts.length && el("div", { class: "counts" }, p.counts.map(c => el("span", {
      class: c.selected ? "selected" : "",
      text: c.label + " " + (c.capacity === null ? c.value : c.value + "/" + c.capacity) }))),
    p.areas.length > 1 && el("div", { class: "areas", "aria-label": p.words.area }, p.areas.map(a => el("button", {
      class: a.id === p.area ? "on" : "", type: "button", text: a.label,
      on: { click: () => { S.area = a.id; again(); } } }))),
    S.guests ? guestSheet(p) : open ? keptSheet(p, open) : [
      steps(p),
      el("div", { class: "keys" }, keys(p.actions.filter(a => a.group === "keys"))),
      p.actions.some(a => a.group === "duty") && el("details", { class: "duty", open: S.duty, on: {
        toggle: ev => { S.duty = ev.target.open; } } }, el("summary", { text: p.words.duty }),
        el("div", { class: "keys" }, keys(p.actions.filter(a => a.group === "duty"))))],
    calls(p),
    el("h3", { text: p.words.instructions }),
    p.instructions.length ? el("ol", { class: "list", id: "instructions" }, p.instructions.map(i => same("i" + i.id, [i, p.words.acked, p.words.ack], () => el("li", {},
      el("div", { class: "meta", text: i.time + " #" + i.id }), el("div", { text: i.text }),
      i.ack_required && (i.acked ? el("div", { class: "state", text: p.words.acked })
        : el("button", { class: "ack", type: "button", text: p.words.ack, on: { click: async () => {
            const { data } = await call("/api/ack", { id: i.id });
            S.flash = data.said || data.error || ""; S.bad = !data.said; draw(); } } }))))))
      : el("p", { class: "meta", text: p.words.no_instructions }),
    el("h3", { text: p.words.reports }),
    p.reports.length ? el("ol", { class: "list", id: "reports" }, p.reports.map(r => same("r" + r.seq, r, () => el("li", {
        class: r.state, "data-seq": r.seq },
      el("div", { class: "meta", text: r.time + " #" + r.seq }),
      el("span", { class: "state", text: r.state_text }), " ", el("span", { text: r.what }),
      r.reason && el("div", { class: "reason", text: r.reason })))))
      : el("p", { class: "meta", text: p.words.empty }));
}

follow();
