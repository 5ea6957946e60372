// Telegram-formatted text: plain text + entities (UTF-16 offsets, as JavaScript strings
// count) drawn as DOM nodes. Only Telegram's own formatting exists here; every character of
// the text stays text.
import { hooks } from "./state.js";
import { copy } from "./dom.js";

const TAGS = { bold: "b", italic: "i", underline: "u", strikethrough: "s", code: "code",
  pre: "pre", blockquote: "blockquote", expandable_blockquote: "blockquote", spoiler: "span",
  text_link: "a", url: "a", bot_command: "a", mention: "span" };

export function renderEntities(text, entities) {
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
      node.onclick = (ev) => { ev.preventDefault(); hooks.openUrl(href); };
    }
  } else if (e.type === "bot_command") {
    node.href = "#";
    node.classList.add("command");
    node.onclick = (ev) => { ev.preventDefault(); hooks.sendText(content.split("@")[0]); };
  } else if (e.type === "mention") {
    node.classList.add("mention");
  } else if (e.type === "expandable_blockquote") {
    node.classList.add("expandable");
    node.onclick = () => node.classList.toggle("open");
  }
  return node;
}
