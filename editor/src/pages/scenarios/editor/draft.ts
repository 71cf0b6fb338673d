// The unsaved drawing in localStorage, so a reload (or a crash) loses nothing.
import type { ScenarioDocument } from "../../../canvas/model";

export type LocalDraft = { revision: number; document: ScenarioDocument; savedAt: number };
const key = (id: string) => `flowengine.draft.${id}`;

export function readDraft(id: string): LocalDraft | null {
  try {
    const raw = localStorage.getItem(key(id));
    if (!raw) return null;
    const value = JSON.parse(raw) as LocalDraft;
    return value && typeof value === "object" && value.document && Array.isArray(value.document.nodes) ? value : null;
  } catch {
    return null;
  }
}

export function writeDraft(id: string, draft: LocalDraft): void {
  try {
    localStorage.setItem(key(id), JSON.stringify(draft));
  } catch {
    /* storage full or off: the editor still works, only without the safety net */
  }
}

export function dropDraft(id: string): void {
  localStorage.removeItem(key(id));
}

const CLIPBOARD = "flowengine.clipboard";

/** Copied nodes, shared by every scenario open in this browser. */
export function writeClipboard(nodes: unknown[]): void {
  const text = JSON.stringify({ format: "flowengine-nodes", nodes });
  localStorage.setItem(CLIPBOARD, text);
  void navigator.clipboard?.writeText(text).catch(() => undefined);
}

export function readClipboard(): unknown[] {
  try {
    const value = JSON.parse(localStorage.getItem(CLIPBOARD) ?? "null") as { nodes?: unknown[] } | null;
    return Array.isArray(value?.nodes) ? value.nodes : [];
  } catch {
    return [];
  }
}
