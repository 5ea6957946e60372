// What the page knows of the world, shared by its modules; `hooks` are app.js's actions that
// the other modules call (set once at start).
export const $ = (id) => document.getElementById(id);
export const state = {
  bot: { name: "KoalaBot", username: "" },
  people: [], chats: [], messages: new Map(), menus: {}, side: null, calls: [], faults: {},
  me: null, current: null, unread: new Map(), busy: new Set(), ws: null, retry: 0,
};
export const hooks = { send: null, openChat: null, sendText: null, openUrl: null };
export const personById = (id) => state.people.find((p) => p.id === id);
export const privateChatOf = (userId) =>
  state.chats.find((c) => c.type === "private" && c.owner === userId);
