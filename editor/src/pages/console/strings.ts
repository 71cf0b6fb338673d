import type { Strings } from "../../i18n";

export const CONSOLE: Strings<
  | "title" | "scenario" | "anyScenario" | "caller" | "called" | "line" | "noLine" | "timeOfDay" | "now"
  | "start" | "starting" | "keypad" | "key" | "say" | "sayPlaceholder" | "hangup" | "prompts" | "noPrompts"
  | "variables" | "noVariables" | "trace" | "seq" | "time" | "event" | "detail" | "live" | "ended" | "idle"
  | "inNode" | "saveCase" | "caseName" | "download" | "downloadScenario" | "caseSaved" | "notRouted"
  | "noNumber" | "newCall" | "play" | "playPrompts" | "route" | "hungUp" | "path" | "canvas" | "heatmap" | "diff"
> = {
  en: {
    title: "Test console", scenario: "Scenario", anyScenario: "any (by number)", caller: "Caller",
    called: "Called number", line: "Line", noLine: "no line", timeOfDay: "Time of day", now: "now",
    start: "Call", starting: "Calling…", keypad: "Keypad", key: "Key {k}", say: "Say", sayPlaceholder: "a phrase the caller says",
    hangup: "Hang up", prompts: "What the caller hears", noPrompts: "No prompt yet.", variables: "Variables",
    noVariables: "No variable set yet.", trace: "Trace", seq: "#", time: "t, s", event: "Event", detail: "Detail",
    live: "Live", ended: "Ended", idle: "No call", inNode: "in {node}", saveCase: "Save as test case",
    caseName: "Case name", download: "Download {file}", downloadScenario: "Download the scenario ({file})",
    caseSaved: "Save both files in one folder and run: flowengine test {file}",
    notRouted: "This call was refused: nothing routes {called}.",
    noNumber: "No number or line routes to this scenario: bind one on the Numbers page, or type a number.",
    newCall: "New call", play: "Play", playPrompts: "Play prompts aloud", route: "Route", hungUp: "Hung up: {cause} ({by})",
    path: "Path", canvas: "Scenario of the call", heatmap: "Heatmap", diff: "Compare versions",
  },
  ru: {
    title: "Тестовый звонок", scenario: "Сценарий", anyScenario: "любой (по номеру)", caller: "Звонящий",
    called: "Набранный номер", line: "Линия", noLine: "без линии", timeOfDay: "Время звонка", now: "сейчас",
    start: "Позвонить", starting: "Звоним…", keypad: "Клавиатура", key: "Клавиша {k}", say: "Сказать", sayPlaceholder: "фраза звонящего",
    hangup: "Положить трубку", prompts: "Что слышит звонящий", noPrompts: "Пока ничего не прозвучало.", variables: "Переменные",
    noVariables: "Переменные ещё не заданы.", trace: "Трасса", seq: "№", time: "t, с", event: "Событие", detail: "Подробности",
    live: "Идёт звонок", ended: "Завершён", idle: "Нет звонка", inNode: "в узле {node}", saveCase: "Сохранить как тест",
    caseName: "Название теста", download: "Скачать {file}", downloadScenario: "Скачать сценарий ({file})",
    caseSaved: "Сохраните оба файла в одну папку и запустите: flowengine test {file}",
    notRouted: "Звонок отклонён: номер {called} никуда не направлен.",
    noNumber: "Ни номер, ни линия не ведут к этому сценарию: привяжите номер на странице «Номера» или введите номер.",
    newCall: "Новый звонок", play: "Прослушать", playPrompts: "Проигрывать подсказки вслух", route: "Маршрут", hungUp: "Завершён: {cause} ({by})",
    path: "Путь", canvas: "Сценарий звонка", heatmap: "Тепловая карта", diff: "Сравнить версии",
  },
};
