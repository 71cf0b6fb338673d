import type { Strings } from "../../i18n";

export const HEAT: Strings<
  | "title" | "from" | "to" | "version" | "allVersions" | "show" | "calls" | "hangups" | "none" | "node"
  | "entered" | "hungUp" | "legend" | "fewer" | "more" | "back" | "busiest" | "pinnedNote" | "ended" | "endedKey" | "console" | "diff"
> = {
  en: {
    title: "Heatmap of {id}", from: "From", to: "To (not included)", version: "Version", allVersions: "every version",
    show: "Show", calls: "{n} calls", hangups: "{n} hung up here", none: "No call passed this scenario in the period.",
    node: "Node", entered: "Calls", hungUp: "Hung up here", legend: "Calls through a node", fewer: "fewer", more: "more",
    back: "Back to the scenario", busiest: "Busiest nodes", pinnedNote: "Drawn: version {v}",
    ended: "{n} ended here otherwise (error, transfer…)", endedKey: "ended here otherwise", console: "Test call", diff: "Compare versions",
  },
  ru: {
    title: "Тепловая карта {id}", from: "С", to: "По (не включая)", version: "Версия", allVersions: "все версии",
    show: "Показать", calls: "звонков: {n}", hangups: "положили трубку здесь: {n}", none: "За период ни один звонок не прошёл по сценарию.",
    node: "Узел", entered: "Звонков", hungUp: "Положили трубку", legend: "Звонков через узел", fewer: "меньше", more: "больше",
    back: "К сценарию", busiest: "Самые загруженные узлы", pinnedNote: "Нарисована версия {v}",
    ended: "завершились здесь иначе (ошибка, перевод…): {n}", endedKey: "завершились здесь иначе", console: "Тестовый звонок", diff: "Сравнить версии",
  },
};
