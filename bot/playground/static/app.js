// The playground page: a small Telegram client for the emulated world, plus the side panel.
// Messages are drawn from plain text + Telegram entities with DOM nodes (textContent), never
// from HTML strings, so nothing typed by the bot or a person can become markup here.
"use strict";

const $ = (id) => document.getElementById(id);
const state = {
  bot: { name: "KoalaBot", username: "" },
  people: [], chats: [], messages: new Map(), menus: {}, side: null, calls: [], faults: {},
  me: null, current: null, unread: new Map(), busy: new Set(), ws: null, retry: 0,
};

// ---------------------------------------------------------------- connection

function connect() {
  const ws = new WebSocket(`${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/ws`);
  state.ws = ws;
  ws.onopen = () => { state.retry = 0; setStatus(""); };
  ws.onmessage = (e) => handle(JSON.parse(e.data));
  ws.onclose = () => {
    setStatus("Disconnected: is `python -m bot --playground` still running? Retrying…");
    state.retry = Math.min(state.retry + 1, 5);
    setTimeout(connect, 500 * state.retry);
  };
}

function send(action) {
  if (state.ws && state.ws.readyState === WebSocket.OPEN) {
    state.ws.send(JSON.stringify(action));
  } else {
    toast("Not connected to the playground");
  }
}

function setStatus(text) {
  $("status").textContent = text;
  $("status").hidden = !text;
}

function handle(ev) {
  switch (ev.type) {
    case "hello": return hello(ev);
    case "message": return upsert(ev.message, true);
    case "delete": return remove(ev.chat_id, ev.id);
    case "menus": state.menus = ev.menus; return renderCommands();
    case "side": state.side = ev.side; return renderSide();
    case "call": return addCall(ev.call);
    case "answer": return answered(ev);
    case "open_chat": return openChat(ev.chat_id);
    case "toast": return toast(ev.text);
    case "error": return toast(ev.text, true);
  }
}

function hello(ev) {
  state.bot = ev.bot;
  state.people = ev.people;
  state.chats = ev.chats;
  state.menus = ev.menus;
  state.side = ev.side;
  state.calls = [];
  for (const c of ev.calls) addCall(c);
  state.faults = ev.faults;
  state.messages = new Map(state.chats.map((c) => [c.id, new Map()]));
  state.busy.clear();
  for (const m of ev.messages) upsert(m, false);
  if (!state.me || !state.people.some((p) => p.id === state.me)) state.me = state.people[0].id;
  if (!state.current || !visibleChats().some((c) => c.id === state.current)) {
    state.current = privateChatOf(state.me).id;
  }
  renderPeople();
  renderChatList();
  renderChat();
  renderSide();
  renderCalls();
}

// ---------------------------------------------------------------- people and chats

const chatById = (id) => state.chats.find((c) => c.id === id);
const personById = (id) => state.people.find((p) => p.id === id);
const privateChatOf = (userId) => state.chats.find((c) => c.type === "private" && c.owner === userId);
const visibleChats = () => state.chats.filter((c) =>
  c.type === "private" ? c.owner === state.me : c.members.some((m) => m.id === state.me));

function actAs(userId) {
  const current = chatById(state.current);
  state.me = userId;
  if (!current || current.type === "private" || !visibleChats().includes(current)) {
    state.current = privateChatOf(userId).id;
  }
  renderPeople();
  renderChatList();
  renderChat();
}

function openChat(chatId) {
  const chat = chatById(chatId);
  if (!chat) return;
  if (chat.type === "private" && chat.owner !== state.me) state.me = chat.owner;
  state.current = chatId;
  state.unread.delete(unreadKey(chatId));
  renderPeople();
  renderChatList();
  renderChat();
  $("text").focus();
}

const unreadKey = (chatId) => `${chatId}:${state.me}`;

function renderPeople() {
  const box = $("people");
  box.replaceChildren();
  for (const p of state.people) {
    const b = el("button", { class: "who" + (p.id === state.me ? " active" : ""), type: "button",
      role: "tab", "aria-selected": String(p.id === state.me), "data-person": p.name });
    b.append(avatar(p.name, p.id), el("span", {}, p.name));
    b.onclick = () => actAs(p.id);
    box.append(b);
  }
}

function chatTitle(chat) {
  return chat.type === "private" ? state.bot.name : chat.title;
}

function renderChatList() {
  const list = $("chatlist");
  list.replaceChildren();
  for (const chat of visibleChats()) {
    const last = lastMessage(chat.id);
    const li = el("li", { class: "chatitem" + (chat.id === state.current ? " active" : ""),
      "data-chat": chatTitle(chat), tabindex: "0" });
    const snippet = last ? `${last.from.bot ? "" : last.from.name + ": "}${last.service || last.text || (last.document ? "📄 " + last.document.name : "")}` : "";
    const names = el("div", { class: "chatitem-names" },
      el("div", { class: "chatitem-title" }, chatTitle(chat),
        chat.type === "private" ? el("span", { class: "tag" }, "bot") : el("span", { class: "tag" }, "group")),
      el("div", { class: "chatitem-last" }, snippet.split("\n")[0]));
    li.append(chat.type === "private" ? botAvatar() : avatar(chat.title, chat.id), names);
    const count = state.unread.get(`${chat.id}:${state.me}`);
    if (count) li.append(el("span", { class: "badge" }, String(count)));
    li.onclick = () => openChat(chat.id);
    li.onkeydown = (e) => { if (e.key === "Enter") openChat(chat.id); };
    list.append(li);
  }
}

function lastMessage(chatId) {
  const msgs = [...(state.messages.get(chatId) || new Map()).values()];
  return msgs.sort((a, b) => a.order - b.order).at(-1);
}

// ---------------------------------------------------------------- messages

function upsert(msg, live) {
  let box = state.messages.get(msg.chat_id);
  if (!box) { box = new Map(); state.messages.set(msg.chat_id, box); }
  const isNew = !box.has(msg.id);
  box.set(msg.id, msg);
  state.busy.delete(`${msg.chat_id}:${msg.id}`);  // an edit ends the press's spinner
  if (!live) return;
  if (isNew) countUnread(msg);
  if (msg.chat_id === state.current) {
    const node = document.querySelector(`[data-mid="${msg.id}"]`);
    const wasNear = nearBottom();
    if (node && !isNew) {
      node.replaceWith(messageNode(msg));
    } else {
      renderChat(wasNear || msg.from.id === state.me);
    }
  }
  renderChatList();
}

function countUnread(msg) {
  const chat = chatById(msg.chat_id);
  if (!chat) return;
  const viewers = chat.type === "private" ? [chat.owner] : chat.members.map((m) => m.id);
  for (const viewer of viewers) {
    if (viewer === msg.from.id) continue;
    if (viewer === state.me && msg.chat_id === state.current) continue;
    const key = `${msg.chat_id}:${viewer}`;
    state.unread.set(key, (state.unread.get(key) || 0) + 1);
  }
}

function remove(chatId, id) {
  const box = state.messages.get(chatId);
  if (!box || !box.delete(id)) return;
  const node = document.querySelector(`[data-mid="${id}"]`);
  if (node && chatId === state.current) {
    node.classList.add("vanish");
    setTimeout(() => node.remove(), 250);
  }
  renderChatList();
}

function renderChat(toBottom = true) {
  const chat = chatById(state.current);
  if (!chat) return;
  state.unread.delete(unreadKey(chat.id));
  $("chat-title").textContent = chatTitle(chat);
  $("chat-avatar").replaceChildren(chat.type === "private" ? botAvatar() : avatar(chat.title, chat.id));
  if (chat.type === "private") {
    $("chat-sub").textContent = `bot · @${state.bot.username} · you are ${personById(state.me).name}`;
  } else {
    const people = chat.members.map((m) => m.name + (m.admin ? " (admin)" : "")).join(", ");
    $("chat-sub").textContent = `${chat.members.length + 1} members: ${people}, ${state.bot.name} (bot)`;
  }
  const list = $("messages");
  const keep = list.scrollTop;
  list.replaceChildren();
  const msgs = [...(state.messages.get(chat.id) || new Map()).values()].sort((a, b) => a.order - b.order);
  let lastDay = "";
  for (const m of msgs) {
    const day = new Date(m.date * 1000).toLocaleDateString(undefined, { month: "long", day: "numeric" });
    if (day !== lastDay) { list.append(el("div", { class: "day" }, el("span", {}, day))); lastDay = day; }
    list.append(messageNode(m));
  }
  if (!msgs.length && chat.type === "private") {
    list.append(el("div", { class: "empty" },
      el("div", { class: "empty-title" }, `${state.bot.name}`),
      el("p", {}, "Buys temporary phone numbers on your KoalaSMS account and brings the codes here."),
      el("p", {}, "Press Start to begin.")));
  }
  const empty = !msgs.length && chat.type === "private";
  $("start").hidden = !empty;
  $("composer").hidden = empty;
  renderCommands();
  if (toBottom) scrollToBottom(); else list.scrollTop = keep;
}

function messageNode(m) {
  if (m.service) {
    return el("div", { class: "service", "data-mid": m.id }, el("span", {}, m.service));
  }
  const chat = chatById(m.chat_id);
  const mine = !m.from.bot && m.from.id === state.me;
  const wide = m.buttons && m.buttons.some((r) => r.length > 1);
  const row = el("div", { class: "row " + (mine ? "out" : "in") + (wide ? " wide" : ""), "data-mid": m.id });
  const bubble = el("div", { class: "bubble" + (m.from.bot ? " from-bot" : "") });
  if (chat && chat.type !== "private" && !mine) {
    bubble.append(el("div", { class: "sender" + (m.from.bot ? " bot" : "") }, m.from.name));
  }
  if (m.reply) {
    const quote = el("div", { class: "reply-quote" },
      el("div", { class: "reply-name" }, m.reply.name),
      el("div", { class: "reply-text" }, m.reply.deleted ? "Deleted message" : m.reply.text.split("\n")[0]));
    quote.onclick = () => flash(m.reply.id);
    bubble.append(quote);
  }
  if (m.document) {
    const link = el("a", { class: "doc", href: m.document.url, download: m.document.name },
      el("span", { class: "doc-icon" }, "⬇"),
      el("span", { class: "doc-names" }, el("span", { class: "doc-name" }, m.document.name),
        el("span", { class: "doc-size" }, `${formatSize(m.document.size)} · download`)));
    bubble.append(link);
  }
  if (m.text) {
    const text = el("div", { class: "text" });
    text.append(renderEntities(m.text, m.entities));
    bubble.append(text);
  }
  const meta = el("span", { class: "meta" }, (m.edited ? "edited " : "") + formatTime(m.date));
  bubble.append(meta);
  row.append(bubble);
  if (m.buttons && m.buttons.length) row.append(keyboard(m));
  return row;
}

function keyboard(m) {
  const kb = el("div", { class: "keyboard" });
  const busy = state.busy.has(`${m.chat_id}:${m.id}`);
  for (const r of m.buttons) {
    const row = el("div", { class: "kb-row" });
    for (const b of r) {
      const btn = el("button", { type: "button", class: "kb " + b.kind }, b.text);
      if (b.kind === "url") btn.append(el("span", { class: "kb-corner", "aria-hidden": "true" }, "↗"));
      if (busy) btn.disabled = true;
      btn.onclick = () => pressButton(m, b, btn);
      row.append(btn);
    }
    kb.append(row);
  }
  return kb;
}

function pressButton(m, b, btn) {
  if (b.kind === "callback") {
    state.busy.add(`${m.chat_id}:${m.id}`);
    btn.classList.add("pressed");
    btn.closest(".keyboard").querySelectorAll("button").forEach((x) => { x.disabled = true; });
    send({ type: "press", chat_id: m.chat_id, user_id: state.me, message_id: m.id, data: b.data });
  } else if (b.kind === "url") {
    openUrl(b.url);
  } else if (b.kind === "copy") {
    copy(b.copy, "Copied to clipboard");
  } else {
    toast("This kind of button does nothing in the playground");
  }
}

function answered(ev) {
  const key = `${ev.chat_id}:${ev.message_id}`;
  if (state.busy.delete(key) && ev.chat_id === state.current) {
    const m = (state.messages.get(ev.chat_id) || new Map()).get(ev.message_id);
    const node = document.querySelector(`[data-mid="${ev.message_id}"]`);
    if (m && node) node.replaceWith(messageNode(m));
  }
  if (ev.show_alert && ev.text) alertBox(ev.text);
  else if (ev.text) toast(ev.text);
  if (ev.url) openUrl(ev.url);
}

// A t.me link to this bot opens the person's private chat with /start <payload>, as the
// Telegram apps do; other links open in a new tab.
function isBotLink(url) {
  try {
    const u = new URL(url);
    return ["t.me", "telegram.me"].includes(u.host) &&
      u.pathname.replace(/\//g, "").toLowerCase() === state.bot.username.toLowerCase();
  } catch (_) { return false; }
}

function openUrl(url) {
  if (isBotLink(url)) {
    send({ type: "open_link", user_id: state.me, url });
  } else if (/^https?:\/\//i.test(url)) {
    window.open(url, "_blank", "noopener");
  } else {
    toast(`Link: ${url}`);
  }
}

// ---------------------------------------------------------------- formatted text

const TAGS = { bold: "b", italic: "i", underline: "u", strikethrough: "s", code: "code",
  pre: "pre", blockquote: "blockquote", expandable_blockquote: "blockquote", spoiler: "span",
  text_link: "a", url: "a", bot_command: "a", mention: "span" };

function renderEntities(text, entities) {
  const root = document.createDocumentFragment();
  const sorted = (entities || []).slice().sort((a, b) => a.offset - b.offset || b.length - a.length);
  build(root, text, 0, text.length, sorted);
  return root;
}

function build(parent, text, start, end, list) {
  let pos = start;
  let i = 0;
  while (i < list.length) {
    const e = list[i];
    if (e.offset < pos || e.offset >= end) { i++; continue; }
    if (e.offset > pos) parent.append(text.slice(pos, e.offset));
    const stop = Math.min(e.offset + e.length, end);
    const inner = [];
    let j = i + 1;
    while (j < list.length && list[j].offset < stop) {
      if (list[j].offset + list[j].length <= stop) inner.push(list[j]);
      j++;
    }
    const node = entityNode(e, text.slice(e.offset, stop));
    build(node, text, e.offset, stop, inner);
    parent.append(node);
    pos = stop;
    i = j;
  }
  if (pos < end) parent.append(text.slice(pos, end));
}

function entityNode(e, content) {
  const node = document.createElement(TAGS[e.type] || "span");
  if (e.type === "code" || e.type === "pre") {
    node.classList.add("copyable");
    node.title = "Click to copy";
    node.onclick = () => copy(content, "Copied to clipboard");
  } else if (e.type === "spoiler") {
    node.classList.add("spoiler");
    node.onclick = () => node.classList.add("shown");
  } else if (e.type === "text_link" || e.type === "url") {
    const href = e.type === "url" ? (/^[a-z]+:\/\//i.test(content) ? content : `https://${content}`) : e.url;
    if (/^(https?|tg):/i.test(href || "")) {
      node.href = href;
      node.rel = "noopener noreferrer";
      node.target = "_blank";
      node.onclick = (ev) => { ev.preventDefault(); openUrl(href); };
    }
  } else if (e.type === "bot_command") {
    node.href = "#";
    node.classList.add("command");
    node.onclick = (ev) => { ev.preventDefault(); sendText(content.split("@")[0]); };
  } else if (e.type === "mention") {
    node.classList.add("mention");
  } else if (e.type === "expandable_blockquote") {
    node.classList.add("expandable");
    node.onclick = () => node.classList.toggle("open");
  }
  return node;
}

// ---------------------------------------------------------------- composing

function sendText(text) {
  const chat = chatById(state.current);
  if (!chat || !text.trim()) return;
  send({ type: "send", chat_id: chat.id, user_id: state.me, text });
  hideCommands();
}

function currentMenu() {
  return state.menus[`${state.current}:${state.me}`] || [];
}

function renderCommands(filter) {
  const box = $("commands");
  if (box.hidden) return;
  const typed = filter !== undefined ? filter : $("text").value;
  const prefix = typed.startsWith("/") ? typed.slice(1).toLowerCase() : "";
  const items = currentMenu().filter((c) => c.command.startsWith(prefix));
  box.replaceChildren();
  if (!items.length) { box.hidden = true; return; }
  for (const c of items) {
    const item = el("button", { type: "button", class: "cmd-item", "data-command": c.command },
      el("span", { class: "cmd-name" }, "/" + c.command), el("span", { class: "cmd-desc" }, c.description));
    item.onclick = () => { $("text").value = ""; sendText("/" + c.command); };
    box.append(item);
  }
}

function showCommands() { $("commands").hidden = false; renderCommands(); }
function hideCommands() { $("commands").hidden = true; }

// ---------------------------------------------------------------- side panel

function renderSide() {
  if (!state.side) return;
  renderAccounts();
  renderActivations();
  renderFaults();
}

function renderAccounts() {
  const box = $("accounts");
  box.replaceChildren();
  for (const a of state.side.accounts) {
    const card = el("div", { class: "card account" });
    card.append(el("div", { class: "account-top" },
      el("span", { class: "balance" }, `${a.balance.toFixed(2)} ₽`),
      el("code", { class: "key", title: a.key ? "The demo API key" : "" }, a.key || a.key_hint)));
    const buttons = el("div", { class: "buttons" });
    if (a.key) {
      const sendKey = button(`Send /key as ${personById(state.me).name}`, () => {
        openChat(privateChatOf(state.me).id);
        sendText(`/key ${a.key}`);
      }, "primary");
      sendKey.dataset.action = "send-key";
      buttons.append(sendKey, button("Copy key", () => copy(a.key, "Demo key copied")));
    }
    buttons.append(button("+100 ₽", () => send({ type: "topup", key_hint: a.key_hint })));
    card.append(buttons);
    box.append(card);
  }
}

const STATUS = { wait_code: "waiting for SMS", got_code: "code received", wait_retry: "waiting for another SMS",
  completed: "completed", cancelled: "cancelled" };

function renderActivations() {
  const box = $("activations");
  const focused = document.activeElement && box.contains(document.activeElement) ? document.activeElement : null;
  if (focused && focused.tagName === "INPUT") return;  // don't wipe what is being typed
  box.replaceChildren();
  if (!state.side.activations.length) {
    box.append(el("p", { class: "muted" }, "None yet: buy a number in a chat, it shows up here."));
    return;
  }
  for (const a of state.side.activations) {
    const card = el("div", { class: "card act" + (a.final ? " final" : ""), "data-activation": String(a.id) });
    card.append(el("div", { class: "act-top" },
      el("b", {}, `${a.service}`), el("span", { class: "muted" }, ` · ${a.country}`),
      el("span", { class: "pill " + a.status }, STATUS[a.status] || a.status)));
    card.append(el("div", { class: "act-line" },
      el("span", { class: "mono" }, a.phone), el("span", { class: "muted" }, ` · ${a.cost} ₽ · #${a.id}`)));
    if (a.codes.length) card.append(el("div", { class: "act-line muted" }, "codes: " + a.codes.join(", ")));
    if (!a.final) {
      const code = el("input", { class: "sms-code", placeholder: "code (random)", maxlength: "32", "aria-label": "SMS code" });
      const text = el("input", { class: "sms-text", placeholder: "full SMS text (optional)", maxlength: "1000", "aria-label": "SMS text" });
      const go = button("Deliver SMS", () => send({ type: "sms", activation_id: a.id, code: code.value, text: text.value }), "primary");
      go.dataset.action = "deliver";
      card.append(el("div", { class: "sms" }, el("div", { class: "sms-row" }, code, go), text));
    }
    box.append(card);
  }
}

function renderFaults() {
  const box = $("faults");
  box.replaceChildren();
  const active = new Set(state.side.faults);
  const labels = { slow: "Slow", "5xx": "5xx", garbage: "Garbage", no_numbers: "NO_NUMBERS" };
  const buttons = el("div", { class: "buttons" });
  for (const [kind, what] of Object.entries(state.faults)) {
    const b = button(labels[kind] || kind, () => send({ type: "fault", kind }), active.has(kind) ? "danger on" : "");
    b.title = what;
    b.dataset.fault = kind;
    buttons.append(b);
  }
  if (active.size) buttons.append(button("Clear faults", () => send({ type: "clear_faults" }), "clear"));
  box.append(buttons);
  box.append(el("p", { class: "muted small" }, active.size
    ? "Now: " + [...active].map((k) => state.faults[k]).join("; ") + "."
    : "The provider answers normally. A fault lasts until you clear it."));
}

// The poller asks for the same thing every tick: repeats fold into one line with a count.
const sameCall = (a, b) => a && a.action === b.action && a.key_hint === b.key_hint && a.outcome === b.outcome;

function addCall(call) {
  const top = state.calls[0];
  if (sameCall(top, call)) {
    top.at = call.at;
    top.times = (top.times || 1) + 1;
    return renderCalls();
  }
  state.calls.unshift(call);
  state.calls.length = Math.min(state.calls.length, 60);
  renderCalls();
}

function renderCalls() {
  const list = $("calls");
  list.replaceChildren();
  if (!state.calls.length) list.append(el("li", { class: "muted" }, "No calls yet."));
  for (const c of state.calls) {
    list.append(el("li", { class: c.level, title: `${c.action} with key ${c.key_hint}: ${c.outcome}` },
      el("span", { class: "call-time" }, formatTime(c.at, true)),
      el("span", { class: "call-action" }, c.action, c.times ? el("span", { class: "call-times" }, ` ×${c.times}`) : null,
        el("span", { class: "call-key" }, " " + c.key_hint)),
      el("span", { class: "call-outcome" }, c.outcome)));
  }
}

// ---------------------------------------------------------------- small things

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, v);
  for (const c of children) if (c !== null && c !== undefined) node.append(c);
  return node;
}

function button(label, onclick, kind) {
  const b = el("button", { type: "button", class: "btn " + (kind || "") }, label);
  b.onclick = onclick;
  return b;
}

const COLORS = ["#e17076", "#7bc862", "#65aadd", "#a695e7", "#ee7aae", "#6ec9cb", "#faa774"];

function avatar(name, id) {
  const a = el("span", { class: "ava" }, (name || "?").slice(0, 1).toUpperCase());
  a.style.background = COLORS[Math.abs(Number(id) || 0) % COLORS.length];
  return a;
}

function botAvatar() {
  return el("span", { class: "ava bot-ava" }, "🐨");
}

function formatTime(seconds, withSeconds) {
  const opts = { hour: "2-digit", minute: "2-digit", hour12: false };
  if (withSeconds) opts.second = "2-digit";
  return new Date(seconds * 1000).toLocaleTimeString([], opts);
}

function formatSize(n) {
  return n < 1024 ? `${n} B` : `${(n / 1024).toFixed(1)} KB`;
}

function nearBottom() {
  const list = $("messages");
  return list.scrollHeight - list.scrollTop - list.clientHeight < 120;
}

function scrollToBottom() {
  const list = $("messages");
  list.scrollTop = list.scrollHeight;
}

function flash(id) {
  const node = document.querySelector(`[data-mid="${id}"]`);
  if (!node) return;
  node.scrollIntoView({ block: "center", behavior: "smooth" });
  node.classList.add("flash");
  setTimeout(() => node.classList.remove("flash"), 1200);
}

let toastTimer = null;
function toast(text, error) {
  const t = $("toast");
  t.textContent = text;
  t.classList.toggle("error", !!error);
  t.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => { t.hidden = true; }, 2600);
}

function alertBox(text) {
  $("modal-title").textContent = state.bot.name;
  $("modal-text").textContent = text;
  $("modal").hidden = false;
  $("modal-ok").focus();
}

async function copy(text, done) {
  try {
    await navigator.clipboard.writeText(text);
  } catch (_) {  // no clipboard permission: the old way still works on a click
    const area = el("textarea", {}, text);
    document.body.append(area);
    area.select();
    document.execCommand("copy");
    area.remove();
  }
  toast(done);
}

// ---------------------------------------------------------------- wiring

function init() {
  $("composer").onsubmit = (e) => {
    e.preventDefault();
    const input = $("text");
    const text = input.value;
    if (!text.trim()) return;
    input.value = "";
    sendText(text);
  };
  $("text").oninput = () => {
    const v = $("text").value;
    if (v.startsWith("/") && !v.includes(" ")) showCommands(); else hideCommands();
  };
  $("text").onkeydown = (e) => { if (e.key === "Escape") hideCommands(); };
  $("menu").onclick = () => { if ($("commands").hidden) showCommands(); else hideCommands(); };
  $("start").onclick = () => sendText("/start");
  $("modal-ok").onclick = () => { $("modal").hidden = true; };
  $("modal").onclick = (e) => { if (e.target === $("modal")) $("modal").hidden = true; };
  document.addEventListener("keydown", (e) => { if (e.key === "Escape") $("modal").hidden = true; });
  connect();
}

init();
