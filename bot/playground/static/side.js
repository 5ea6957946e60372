// The side panel: the sandbox accounts, the numbers bought (deliver an SMS), the provider
// faults, the provider calls, live.
import { $, state, hooks, personById, privateChatOf } from "./state.js";
import { el, button, copy, formatTime } from "./dom.js";

export function renderSide() {
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
        hooks.openChat(privateChatOf(state.me).id);
        hooks.sendText(`/key ${a.key}`);
      }, "primary");
      sendKey.dataset.action = "send-key";
      // A bare key, for when the bot asks for one (the group's key, after /setkey's link).
      const typeKey = button("Type it in the chat", () => {
        $("text").value = a.key;
        $("text").focus();
      });
      typeKey.dataset.action = "type-key";
      buttons.append(sendKey, typeKey, button("Copy key", () => copy(a.key, "Demo key copied")));
    }
    buttons.append(button("+100 ₽", () => hooks.send({ type: "topup", key_hint: a.key_hint })));
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
      const go = button("Deliver SMS", () => hooks.send({ type: "sms", activation_id: a.id, code: code.value, text: text.value }), "primary");
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
    const b = button(labels[kind] || kind, () => hooks.send({ type: "fault", kind }), active.has(kind) ? "danger on" : "");
    b.title = what;
    b.dataset.fault = kind;
    buttons.append(b);
  }
  if (active.size) buttons.append(button("Clear faults", () => hooks.send({ type: "clear_faults" }), "clear"));
  box.append(buttons);
  box.append(el("p", { class: "muted small" }, active.size
    ? "Now: " + [...active].map((k) => state.faults[k]).join("; ") + "."
    : "The provider answers normally. A fault lasts until you clear it."));
}

// The poller asks for the same thing every tick: repeats fold into one line with a count.
const sameCall = (a, b) => a && a.action === b.action && a.key_hint === b.key_hint && a.outcome === b.outcome;

export function addCall(call) {
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

export function renderCalls() {
  const list = $("calls");
  list.replaceChildren();
  if (!state.calls.length) list.append(el("li", { class: "muted none" }, "No calls yet."));
  for (const c of state.calls) {
    list.append(el("li", { class: c.level, title: `${c.action} with key ${c.key_hint}: ${c.outcome}` },
      el("span", { class: "call-time" }, formatTime(c.at, true)),
      el("span", { class: "call-action" }, c.action, c.times ? el("span", { class: "call-times" }, ` ×${c.times}`) : null,
        el("span", { class: "call-key" }, " " + c.key_hint)),
      el("span", { class: "call-outcome" }, c.outcome)));
  }
}
