// The playground page: a small Telegram client for the emulated world (this module: the
// connection, the people and chats, messages, the composer), plus the side panel (side.js).
// Messages are drawn from plain text + Telegram entities (text.js), never from HTML strings,
// so nothing typed by the bot or a person can become markup here.
import { $, state, hooks, personById, privateChatOf } from "./state.js";
import { el, avatar, botAvatar, formatTime, formatSize, nearBottom, scrollToBottom, flash, toast, alertBox, copy } from "./dom.js";
import { renderEntities } from "./text.js";
import { renderSide, addCall, renderCalls } from "./side.js";

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
  renderSide();  // its buttons act as the person chosen
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
  renderSide();
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
  if (ev.show_alert && ev.text) alertBox(state.bot.name, ev.text);
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

// ---------------------------------------------------------------- wiring

function init() {
  Object.assign(hooks, { send, openChat, sendText, openUrl });
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
