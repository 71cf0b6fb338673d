import type { Strings } from "../../i18n";

export const DIFF: Strings<
  | "title" | "from" | "to" | "compare" | "added" | "removed" | "changed" | "moved" | "exitsAdded"
  | "exitsRemoved" | "exitsChanged" | "noChanges" | "changes" | "node" | "was" | "docFields" | "back"
  | "needTwo" | "version" | "legend" | "swap" | "heatmap" | "console"
> = {
  en: {
    title: "Changes in {id}", from: "From version", to: "To version", compare: "Compare",
    added: "added", removed: "removed", changed: "changed", moved: "moved only",
    exitsAdded: "exits added", exitsRemoved: "exits removed", exitsChanged: "exits re-wired",
    noChanges: "The two versions are the same.", changes: "What changed", node: "Node", was: "was",
    docFields: "Scenario fields changed", back: "Back to the scenario", needTwo: "This scenario has fewer than two published versions.",
    version: "v{n} · {author} · {comment}", legend: "Legend", swap: "Swap", heatmap: "Heatmap", console: "Test call",
  },
  ru: {
    title: "Изменения в {id}", from: "Версия «было»", to: "Версия «стало»", compare: "Сравнить",
    added: "добавлен", removed: "удалён", changed: "изменён", moved: "только перемещён",
    exitsAdded: "выходы добавлены", exitsRemoved: "выходы удалены", exitsChanged: "выходы переподключены",
    noChanges: "Версии одинаковы.", changes: "Что изменилось", node: "Узел", was: "было",
    docFields: "Изменены поля сценария", back: "К сценарию", needTwo: "У сценария меньше двух опубликованных версий.",
    version: "в{n} · {author} · {comment}", legend: "Обозначения", swap: "Поменять", heatmap: "Тепловая карта", console: "Тестовый звонок",
  },
};
