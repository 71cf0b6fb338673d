// The scenario document as the editor reads it (docs/scenario-format.md), and
// the node-type catalogue from GET /api/v1/components. Pure: no React here.
import type { Schemas } from "../api/client";

export type ComponentInfo = Schemas["ComponentInfo"];
export type ExitRule = Schemas["ExitRule"];

export type NodeUi = { x?: number; y?: number; [key: string]: unknown };
export type NodeDoc = {
  id: string;
  type: string;
  title?: string | null;
  params?: Record<string, unknown>;
  exits?: Record<string, string>;
  ui?: NodeUi;
};
export type VariableDoc = { name: string; default?: string | number | boolean | null; description?: string };
export type ScenarioDocument = {
  schema: number;
  id: string;
  name?: string;
  nodes: NodeDoc[];
  variables?: VariableDoc[];
  [key: string]: unknown;
};

export const ERROR_EXIT = "error";

function unique(names: string[]): string[] {
  return [...new Set(names)];
}

/** The exits a node's type and params give it (not counting "error"). */
export function declaredExits(node: NodeDoc, component: ComponentInfo | undefined): string[] {
  if (!component) return [];
  const rule = component.exit_rule;
  const params = node.params ?? {};
  if (rule?.list_field) {
    const items = params[rule.list_field];
    const key = rule.item_key ?? "exit";
    const named = Array.isArray(items)
      ? items
          .map((item) => (item && typeof item === "object" ? (item as Record<string, unknown>)[key] : undefined))
          .filter((name): name is string => typeof name === "string" && name.length > 0)
      : [];
    return named.length === 0 ? [...(rule.when_empty ?? [])] : unique([...named, ...(rule.after ?? [])]);
  }
  if (rule?.switch_field) {
    const schema = component.params_schema as { properties?: Record<string, { default?: unknown }> };
    const value = params[rule.switch_field] ?? schema.properties?.[rule.switch_field]?.default;
    const exits = rule.by_value?.[String(value)];
    if (exits) return [...exits];
  }
  return [...component.exits];
}

/**
 * The handles a node shows: its declared exits, then any exit the document
 * wires that the type does not declare (so no edge silently disappears), then
 * "error" (every node may wire it) unless the node is terminal.
 */
export function nodeExits(node: NodeDoc, component: ComponentInfo | undefined): string[] {
  const declared = declaredExits(node, component);
  const wired = Object.keys(node.exits ?? {});
  const names = unique([...declared, ...wired.filter((e) => e !== ERROR_EXIT)]);
  if (!component?.terminal || wired.includes(ERROR_EXIT)) names.push(ERROR_EXIT);
  return names;
}

export function componentTitle(component: ComponentInfo | undefined, lang: "ru" | "en", type: string): string {
  if (!component) return type;
  return lang === "ru" ? component.title_ru : component.title_en;
}

/** A node id not yet used in the document, from a base like "menu". */
export function freshId(base: string, taken: Set<string>): string {
  const clean = base.replace(/[^A-Za-z0-9_.-]/g, "_").replace(/^[^A-Za-z0-9_]/, "n") || "node";
  if (!taken.has(clean)) return clean;
  for (let i = 2; ; i++) {
    const id = `${clean}_${i}`;
    if (!taken.has(id)) return id;
  }
}

export function emptyDocument(id: string, name = ""): ScenarioDocument {
  return {
    schema: 1,
    id,
    name,
    variables: [],
    nodes: [{ id: "start", type: "start", params: {}, exits: {}, ui: { x: 40, y: 120 } }],
  };
}
