// The component palette: every node type from the API, named in the UI
// language, with its icon, searchable; drag one onto the canvas, or press
// Enter on it to add it in the middle of the view.
import { useMemo, useState, type DragEvent } from "react";
import { DRAG_TYPE } from "../../../canvas/FlowCanvas";
import { iconFor } from "../../../canvas/icons";
import { componentTitle, type ComponentInfo } from "../../../canvas/model";
import { useLang, useStrings } from "../../../i18n";
import { EDITOR_STRINGS } from "./strings";

const ORDER = ["flow", "media", "input", "acd", "data", "integration"];

export function Palette({ components, onAdd }: { components: ComponentInfo[]; onAdd: (type: string) => void }) {
  const t = useStrings(EDITOR_STRINGS);
  const { lang } = useLang();
  const [query, setQuery] = useState("");
  const groups = useMemo(() => {
    const q = query.trim().toLowerCase();
    const shown = components.filter(
      (c) => !q || [c.type, c.title_en, c.title_ru, c.description].some((s) => s.toLowerCase().includes(q)),
    );
    const byCat = new Map<string, ComponentInfo[]>();
    for (const c of shown) byCat.set(c.category, [...(byCat.get(c.category) ?? []), c]);
    return [...byCat.entries()].sort(([a], [b]) => (ORDER.indexOf(a) + 99) % 99 - (ORDER.indexOf(b) + 99) % 99);
  }, [components, query]);

  const onDragStart = (e: DragEvent, type: string) => {
    e.dataTransfer.setData(DRAG_TYPE, type);
    e.dataTransfer.effectAllowed = "copy";
  };

  return (
    <aside className="palette" aria-label={t("palette")}>
      <input type="search" className="palette-search" placeholder={t("search")} aria-label={t("search")}
        value={query} onChange={(e) => setQuery(e.target.value)} />
      {groups.length === 0 && <p className="muted small">{t("nothingFound")}</p>}
      {groups.map(([category, list]) => (
        <section key={category} className="palette-group">
          <h3>{t(`cat_${category}` as "cat_flow")}</h3>
          <ul>
            {list.map((c) => (
              <li key={c.type}>
                <button
                  type="button"
                  draggable
                  className={`palette-item cat-${c.category}`}
                  data-testid={`palette-${c.type}`}
                  title={c.description}
                  onDragStart={(e) => onDragStart(e, c.type)}
                  onClick={() => onAdd(c.type)}
                >
                  <span className="fe-icon" aria-hidden="true">{iconFor(c.icon, c.category)}</span>
                  <span>{componentTitle(c, lang, c.type)}</span>
                </button>
              </li>
            ))}
          </ul>
        </section>
      ))}
    </aside>
  );
}
