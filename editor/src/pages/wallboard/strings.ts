import type { Strings } from "../../i18n";

export const WALLBOARD: Strings<
  | "title" | "live" | "connecting" | "reconnecting" | "refused" | "fullscreen" | "exitFullscreen"
  | "queues" | "operators" | "alerts" | "noAlerts" | "waiting" | "longestWait" | "offered" | "answered"
  | "abandoned" | "lostOther" | "avgWait" | "avgTalk" | "loggedIn" | "available" | "serviceLevel"
  | "target" | "threshold" | "noCalls" | "nobodyWaits" | "position" | "caller" | "waited"
  | "operator" | "status" | "inStatus" | "state" | "inState" | "lastCall" | "answeredToday"
  | "idle" | "ringing" | "talking" | "wrap_up" | "loggedOut" | "noOperators" | "noQueues"
  | "st_available" | "st_not_available" | "st_break" | "st_available_on_demand" | "ago" | "never"
  | "alertSince" | "gaugeLabel" | "overflow" | "resyncs" | "a_line_silent" | "a_service_level" | "a_long_wait"
  | "phone" | "phoneRegistered" | "phoneUnreachable" | "phoneBindings" | "phoneTitle" | "noSipPhone"
> = {
  en: {
    title: "Wallboard", live: "Live", connecting: "Connecting…", reconnecting: "Connection lost, reconnecting…",
    refused: "The server refused the wallboard: sign in again", fullscreen: "Full screen", exitFullscreen: "Leave full screen",
    queues: "Queues", operators: "Operators", alerts: "Alerts", noAlerts: "No alerts",
    waiting: "Waiting", longestWait: "Longest wait", offered: "Offered", answered: "Answered",
    abandoned: "Abandoned", lostOther: "Lost otherwise", avgWait: "Avg wait", avgTalk: "Avg talk",
    loggedIn: "Logged in", available: "Available", serviceLevel: "Service level",
    target: "target {target}", threshold: "answered within {s} s", noCalls: "no calls yet",
    nobodyWaits: "Nobody is waiting", position: "#", caller: "Caller", waited: "Waiting",
    operator: "Operator", status: "Status", inStatus: "In status", state: "State", inState: "For",
    lastCall: "Last call", answeredToday: "Answered today",
    idle: "Idle", ringing: "Ringing", talking: "Talking", wrap_up: "Wrap-up", loggedOut: "Logged out",
    noOperators: "No operators", noQueues: "No queues",
    st_available: "Available", st_not_available: "Not available", st_break: "Break",
    st_available_on_demand: "For one call", ago: "{t} ago", never: "—",
    alertSince: "since {t}", gaugeLabel: "Service level {value}, target {target}",
    overflow: "Overflow out / in", resyncs: "resynced {n}×",
    a_line_silent: "No calls on line {line} for {minutes} min", a_service_level: "{queue}: service level {level}, below the target {target}",
    a_long_wait: "{queue}: a caller has been waiting {wait}",
    phone: "Phone", phoneRegistered: "Registered", phoneUnreachable: "Unreachable", phoneBindings: "{n} devices",
    phoneTitle: "Since {t}{agent}", noSipPhone: "no SIP phone",
  },
  ru: {
    title: "Табло", live: "В эфире", connecting: "Подключение…", reconnecting: "Связь потеряна, переподключаемся…",
    refused: "Сервер отказал в доступе к табло: войдите снова", fullscreen: "Во весь экран", exitFullscreen: "Выйти из полноэкранного режима",
    queues: "Очереди", operators: "Операторы", alerts: "Тревоги", noAlerts: "Тревог нет",
    waiting: "Ждут", longestWait: "Дольше всех ждёт", offered: "Поступило", answered: "Отвечено",
    abandoned: "Брошено", lostOther: "Потеряно иначе", avgWait: "Ср. ожидание", avgTalk: "Ср. разговор",
    loggedIn: "В системе", available: "Свободны", serviceLevel: "Уровень обслуживания",
    target: "цель {target}", threshold: "ответ за {s} с", noCalls: "звонков ещё не было",
    nobodyWaits: "Никто не ждёт", position: "№", caller: "Звонящий", waited: "Ждёт",
    operator: "Оператор", status: "Статус", inStatus: "В статусе", state: "Состояние", inState: "Время",
    lastCall: "Последний звонок", answeredToday: "Отвечено сегодня",
    idle: "Свободен", ringing: "Звонок", talking: "Разговор", wrap_up: "Обработка", loggedOut: "Не в системе",
    noOperators: "Операторов нет", noQueues: "Очередей нет",
    st_available: "Доступен", st_not_available: "Недоступен", st_break: "Перерыв",
    st_available_on_demand: "На один звонок", ago: "{t} назад", never: "—",
    alertSince: "с {t}", gaugeLabel: "Уровень обслуживания {value}, цель {target}",
    overflow: "Переполнение: ушло / пришло", resyncs: "пересинхронизаций: {n}",
    a_line_silent: "На линии {line} нет звонков уже {minutes} мин", a_service_level: "{queue}: уровень обслуживания {level} ниже цели {target}",
    a_long_wait: "{queue}: клиент ждёт уже {wait}",
    phone: "Телефон", phoneRegistered: "Зарегистрирован", phoneUnreachable: "Недоступен", phoneBindings: "устройств: {n}",
    phoneTitle: "С {t}{agent}", noSipPhone: "нет SIP-телефона",
  },
};
