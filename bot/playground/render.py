"""What the page is sent: emulator and sandbox objects as plain JSON.

The page renders a message from its plain text and Telegram's entities (already parsed
from the bot's HTML by the emulator, as Telegram does), never from the HTML itself, so
nothing the bot or a user typed can become markup in the page.
"""

from __future__ import annotations

from typing import Any

from bot.catalog import Catalog
from bot.sandbox.provider import (
    FINAL_STATES,
    ProviderSandbox,
    SandboxActivation,
    SandboxCall,
    mask_key,
)
from bot.sandbox.telegram import EmuChat, EmuMessage, EmuUser, TelegramEmulator

JSON = dict[str, Any]

# Entity types the page knows how to draw; others are shown as plain text.
ENTITY_TYPES = frozenset({
    "bold", "italic", "underline", "strikethrough", "spoiler", "code", "pre", "text_link",
    "url", "blockquote", "expandable_blockquote", "bot_command", "mention",
})
SNIPPET = 90  # characters of a replied-to message shown above a reply


def person(user: EmuUser) -> JSON:
    return {"id": user.id, "name": user.first_name, "username": user.username}


def chat_info(chat: EmuChat) -> JSON:
    if chat.type == "private" and chat.user is not None:
        return {"id": chat.id, "type": "private", "title": chat.user.first_name,
                "owner": chat.user.id}
    admins = {u.id for u in chat.admins}
    members = [{**person(u), "admin": u.id in admins} for u in [*chat.admins, *chat.members]]
    return {"id": chat.id, "type": chat.type, "title": chat.title or "", "members": members,
            "bot_admin": chat.bot_admin}


def _buttons(msg: EmuMessage) -> list[list[JSON]]:
    rows: list[list[JSON]] = []
    for row in (msg.reply_markup or {}).get("inline_keyboard", []):
        out: list[JSON] = []
        for button in row:
            item: JSON = {"text": str(button.get("text", ""))}
            if "callback_data" in button:
                item.update(kind="callback", data=str(button["callback_data"]))
            elif "url" in button:
                item.update(kind="url", url=str(button["url"]))
            elif "copy_text" in button:
                item.update(kind="copy", copy=str(button["copy_text"].get("text", "")))
            else:
                item.update(kind="other")
            out.append(item)
        rows.append(out)
    return rows


def _sender(msg: EmuMessage) -> JSON:
    return {"id": msg.sender.get("id"), "name": str(msg.sender.get("first_name", "")),
            "bot": msg.from_bot}


def _service_text(msg: EmuMessage) -> str | None:
    """A line for a service message (someone joined, a topic was created...)."""
    media = msg.media or {}
    actor = str(msg.sender.get("first_name", ""))
    if "new_chat_members" in media:
        names = ", ".join(str(u.get("first_name", "")) for u in media["new_chat_members"])
        return f"{actor} joined" if names == actor else f"{actor} added {names}"
    if "left_chat_member" in media:
        return f"{media['left_chat_member'].get('first_name', '')} left the group"
    if "forum_topic_created" in media:
        return f"{actor} created the topic “{media['forum_topic_created'].get('name', '')}”"
    if "migrate_to_chat_id" in media or "migrate_from_chat_id" in media:
        return "The group was upgraded to a supergroup"
    if media and not msg.text:
        return f"[{', '.join(media)}]"
    return None


def message(msg: EmuMessage) -> JSON:
    data: JSON = {
        "chat_id": msg.chat.id, "id": msg.message_id, "date": msg.date,
        "order": msg.created_seq, "from": _sender(msg), "text": msg.text,
        "entities": [e for e in msg.entities if e.get("type") in ENTITY_TYPES],
        "buttons": _buttons(msg), "edited": bool(msg.edits), "thread": msg.thread_id,
    }
    service = _service_text(msg)
    if service is not None:
        data["service"] = service
    if msg.reply_to is not None and msg.reply_to != msg.thread_id:
        replied = msg.chat.message(msg.reply_to)
        if replied is not None:
            text = replied.text or (replied.document.filename if replied.document else "")
            data["reply"] = {"id": replied.message_id, "name": _sender(replied)["name"],
                             "text": text[:SNIPPET], "deleted": replied.deleted}
    if msg.document is not None:
        data["document"] = {"name": msg.document.filename, "size": len(msg.document.data),
                            "url": f"/file/{msg.document.file_id}"}
    return data


def _scopes(chat: EmuChat, user: EmuUser) -> list[JSON]:
    """Telegram's order for choosing a command menu, most specific scope first."""
    if chat.type == "private":
        return [{"type": "chat", "chat_id": chat.id}, {"type": "all_private_chats"},
                {"type": "default"}]
    admin = any(a.id == user.id for a in chat.admins)
    scopes: list[JSON] = [{"type": "chat_member", "chat_id": chat.id, "user_id": user.id}]
    if admin:
        scopes += [{"type": "chat_administrators", "chat_id": chat.id},
                   {"type": "chat", "chat_id": chat.id},
                   {"type": "all_chat_administrators"}]
    else:
        scopes.append({"type": "chat", "chat_id": chat.id})
    return [*scopes, {"type": "all_group_chats"}, {"type": "default"}]


def command_menu(tg: TelegramEmulator, chat: EmuChat, user: EmuUser) -> list[JSON]:
    """The commands `user` sees in `chat`, as setMyCommands published them."""
    for scope in _scopes(chat, user):
        for lang in (user.language_code or "", ""):
            found = tg.commands(scope, lang)
            if found:
                return [{"command": str(c.get("command", "")),
                         "description": str(c.get("description", ""))} for c in found]
    return []


def activation(act: SandboxActivation, catalog: Catalog) -> JSON:
    return {
        "id": act.id, "service": catalog.service_name(act.service),
        "country": catalog.country_label(act.country), "phone": f"+{act.phone}",
        "cost": act.cost, "status": act.status, "codes": act.codes,
        "final": act.status in FINAL_STATES, "key_hint": mask_key(act.api_key),
    }


def accounts(provider: ProviderSandbox, shown_keys: set[str]) -> list[JSON]:
    """Accounts and balances; only the keys in `shown_keys` (the demo key) in full."""
    state = provider.state()
    balances = state["accounts"]
    assert isinstance(balances, dict)
    return [{"key": key if key in shown_keys else None, "key_hint": mask_key(key),
             "balance": round(float(balance), 2)} for key, balance in balances.items()]


# Answers that mean "nothing to report", not a refusal.
QUIET_ANSWERS = frozenset({"ok", "NO_ACTIVATIONS"})


def call(entry: SandboxCall) -> JSON:
    """A provider call for the live log; `level` as in the bot's metrics: ok, refused (an
    error answer such as NO_NUMBERS) or failed (no usable answer)."""
    outcome = entry.outcome
    if outcome in QUIET_ANSWERS:
        level = "ok"
    elif outcome.startswith("HTTP") or outcome in ("not the API", "connection dropped"):
        level = "failed"
    else:
        level = "refused"
    return {"action": entry.action or "(none)", "key_hint": entry.key_hint,
            "outcome": outcome, "level": level, "at": entry.at}
