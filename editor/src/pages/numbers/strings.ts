import type { Strings } from "../../i18n";

export const NUMBERS: Strings<
  | "title" | "intro" | "numbers" | "number" | "scenario" | "version" | "latest" | "bind" | "unbind"
  | "replace" | "noNumbers" | "lines" | "line" | "lineNumber" | "calledRules" | "callerRules" | "tableRules"
  | "saveLine" | "deleteLine" | "newLine" | "noLines" | "edit" | "default" | "defaultNone" | "save"
  | "rulesHint" | "rulesIntro" | "ownRules" | "try" | "tryIntro" | "called" | "caller" | "anyLine"
  | "resolve" | "normalised" | "goesTo" | "refused" | "why" | "via_number" | "via_line" | "via_default"
  | "via_none" | "rulesTitle" | "saved" | "adminOnly" | "actions" | "none" | "pinned" | "notPublished"
> = {
  en: {
    title: "Numbers and lines",
    intro: "Which scenario a call runs: its number first, then its line, then the default. Each line rewrites the numbers it sends before that.",
    numbers: "Numbers", number: "Number", scenario: "Scenario", version: "Version", latest: "latest",
    bind: "Bind", unbind: "Unbind", replace: "take it from the scenario holding it",
    noNumbers: "No number is bound.",
    lines: "Lines", line: "Line", lineNumber: "Number of the line", calledRules: "Dialled number rules",
    callerRules: "Caller number rules", tableRules: "the table's rules", saveLine: "Save line",
    deleteLine: "Delete", newLine: "New line", noLines: "No line is configured.", edit: "Edit",
    default: "Default scenario", defaultNone: "none: refuse calls nothing routes", save: "Save",
    rulesHint: "One rule a line: 8XXXXXXXXXX -> +7XXXXXXXXXX, or {\"regex\": \"...\", \"to\": \"...\"}",
    rulesIntro: "Rules for calls on lines without their own rules. The first rule that matches the whole number rewrites it.",
    ownRules: "own rules (empty box: none at all)",
    try: "Try a number", tryIntro: "Type a number as the line sends it: see it normalised and where the call goes now.",
    called: "Dialled number", caller: "Caller", anyLine: "no line", resolve: "Resolve",
    normalised: "Normalised", goesTo: "Goes to", refused: "Refused: nothing routes it", why: "Why",
    via_number: "by its number", via_line: "by its line", via_default: "by the default", via_none: "nowhere", rulesTitle: "Normalisation rules",
    saved: "Saved", adminOnly: "Only an admin can change the routing.", actions: "Actions", none: "—",
    pinned: "v{n}", notPublished: "not published",
  },
  ru: {
    title: "Номера и линии",
    intro: "Какой сценарий выполнит звонок: сначала по номеру, потом по линии, потом сценарий по умолчанию. Перед этим линия приводит номера к единому виду.",
    numbers: "Номера", number: "Номер", scenario: "Сценарий", version: "Версия", latest: "последняя",
    bind: "Привязать", unbind: "Отвязать", replace: "забрать у сценария, за которым он закреплён",
    noNumbers: "Ни один номер не привязан.",
    lines: "Линии", line: "Линия", lineNumber: "Номер линии", calledRules: "Правила для набранного номера",
    callerRules: "Правила для номера звонящего", tableRules: "общие правила", saveLine: "Сохранить линию",
    deleteLine: "Удалить", newLine: "Новая линия", noLines: "Линии не настроены.", edit: "Изменить",
    default: "Сценарий по умолчанию", defaultNone: "нет: отклонять звонки без маршрута", save: "Сохранить",
    rulesHint: "Одно правило в строке: 8XXXXXXXXXX -> +7XXXXXXXXXX или {\"regex\": \"...\", \"to\": \"...\"}",
    rulesIntro: "Правила для звонков по линиям без собственных правил. Номер переписывает первое правило, совпавшее с ним целиком.",
    ownRules: "свои правила (пустое поле: никаких)",
    try: "Проверить номер", tryIntro: "Введите номер так, как его присылает линия: увидите нормализованный номер и куда пойдёт звонок.",
    called: "Набранный номер", caller: "Звонящий", anyLine: "без линии", resolve: "Проверить",
    normalised: "После нормализации", goesTo: "Куда", refused: "Отклонён: маршрута нет", why: "Почему",
    via_number: "по номеру", via_line: "по линии", via_default: "по умолчанию", via_none: "никуда", rulesTitle: "Правила нормализации",
    saved: "Сохранено", adminOnly: "Менять маршрутизацию может только администратор.", actions: "Действия", none: "—",
    pinned: "в{n}", notPublished: "не опубликован",
  },
};
