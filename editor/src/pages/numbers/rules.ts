// Normalisation rules as the numbers page edits them: one rule per line,
// "PATTERN -> REPLACEMENT", or a JSON object for a regular-expression rule
// ({"regex": "(?:\\+?7|8)(\\d{10})", "to": "+7\\1"}). The server checks them
// and names a bad one by its place (body.called[1]).

export type Rule = string | { match?: string; regex?: string; to?: string };

export function formatRule(rule: unknown): string {
  if (typeof rule === "string") return rule;
  if (rule && typeof rule === "object") {
    const r = rule as Record<string, unknown>;
    if (typeof r.match === "string" && typeof r.to === "string" && r.regex === undefined) return `${r.match} -> ${r.to}`;
    return JSON.stringify(rule);
  }
  return String(rule);
}

export function formatRules(rules: unknown): string {
  return Array.isArray(rules) ? rules.map(formatRule).join("\n") : "";
}

export class RuleSyntaxError extends Error {
  constructor(readonly line: number, message: string) {
    super(message);
  }
}

/** The rules typed in a text box; a JSON line that does not parse is an error naming its line (1-based). */
export function parseRules(text: string): Rule[] {
  const out: Rule[] = [];
  text.split("\n").forEach((raw, i) => {
    const line = raw.trim();
    if (!line || line.startsWith("#")) return;
    if (line.startsWith("{")) {
      let value: unknown;
      try {
        value = JSON.parse(line);
      } catch (err) {
        throw new RuleSyntaxError(i + 1, `line ${i + 1}: ${(err as Error).message}`);
      }
      if (!value || typeof value !== "object" || Array.isArray(value)) {
        throw new RuleSyntaxError(i + 1, `line ${i + 1}: a rule object is {"regex": ..., "to": ...}`);
      }
      out.push(value as Rule);
      return;
    }
    out.push(line);
  });
  return out;
}
