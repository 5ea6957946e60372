// Small DOM helpers: elements, avatars, times, toasts, the alert dialog, the clipboard.
import { $ } from "./state.js";

export function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, v);
  for (const c of children) if (c !== null && c !== undefined) node.append(c);
  return node;
}

export function button(label, onclick, kind) {
  const b = el("button", { type: "button", class: "btn " + (kind || "") }, label);
  b.onclick = onclick;
  return b;
}

const COLORS = ["#e17076", "#7bc862", "#65aadd", "#a695e7", "#ee7aae", "#6ec9cb", "#faa774"];

export function avatar(name, id) {
  const a = el("span", { class: "ava" }, (name || "?").slice(0, 1).toUpperCase());
  a.style.background = COLORS[Math.abs(Number(id) || 0) % COLORS.length];
  return a;
}

export function botAvatar() {
  return el("span", { class: "ava bot-ava" }, "🐨");
}

export function formatTime(seconds, withSeconds) {
  const opts = { hour: "2-digit", minute: "2-digit", hour12: false };
  if (withSeconds) opts.second = "2-digit";
  return new Date(seconds * 1000).toLocaleTimeString([], opts);
}

export function formatSize(n) {
  return n < 1024 ? `${n} B` : `${(n / 1024).toFixed(1)} KB`;
}

export function nearBottom() {
  const list = $("messages");
  return list.scrollHeight - list.scrollTop - list.clientHeight < 120;
}

export function scrollToBottom() {
  const list = $("messages");
  list.scrollTop = list.scrollHeight;
}

export function flash(id) {
  const node = document.querySelector(`[data-mid="${id}"]`);
  if (!node) return;
  node.scrollIntoView({ block: "center", behavior: "smooth" });
  node.classList.add("flash");
  setTimeout(() => node.classList.remove("flash"), 1200);
}

let toastTimer = null;
export function toast(text, error) {
  const t = $("toast");
  t.textContent = text;
  t.classList.toggle("error", !!error);
  t.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => { t.hidden = true; }, 2600);
}

export function alertBox(title, text) {
  $("modal-title").textContent = title;
  $("modal-text").textContent = text;
  $("modal").hidden = false;
  $("modal-ok").focus();
}

export async function copy(text, done) {
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
