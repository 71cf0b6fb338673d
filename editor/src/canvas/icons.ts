// Icon keys (GET /api/v1/components gives each type one) as glyphs. A type
// with no glyph of its own gets its category's. Plain symbols, not emoji:
// they render with the fonts every system has.
const BY_KEY: Record<string, string> = {
  start: "▶",
  hangup: "■",
  return: "↩",
  menu: "☰",
  if: "⋔",
  schedule: "◷",
  subscenario: "⊞",
  assign: "≔",
  say: "❝",
  play: "♪",
  record: "●",
  gather: "⌨",
  recognize: "◎",
  queue: "☷",
  transfer: "☎",
  callback: "↻",
  http: "⇄",
  notify: "✉",
};
const BY_CATEGORY: Record<string, string> = {
  flow: "◆",
  media: "♪",
  input: "⌨",
  data: "≔",
  acd: "☷",
  integration: "⇄",
};

export function iconFor(key: string, category = ""): string {
  return BY_KEY[key] ?? BY_CATEGORY[category] ?? "●";
}
