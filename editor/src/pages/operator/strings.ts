import type { Strings } from "../../i18n";

export const OPERATOR: Strings<
  | "title" | "chooseOperator" | "noOperatorId" | "myStatus" | "inStatus" | "setAvailable" | "setNotAvailable"
  | "startBreak" | "breakReason" | "breakReasonHint" | "otherStatuses" | "reasonNeeded" | "statusSaved"
  | "state" | "idle" | "ringing" | "talking" | "wrap_up" | "noCall" | "incoming" | "onCall" | "wrapUp"
  | "caller" | "called" | "queue" | "scenario" | "waited" | "variables" | "noVariables" | "screen"
  | "history" | "noHistory" | "when" | "result" | "operator" | "talk" | "callsToday" | "noCallsToday"
  | "answeredToday" | "talkToday" | "live" | "reconnecting" | "lunch" | "training" | "meeting" | "firstCall"
  | "callActions" | "hold" | "resume" | "onHold" | "transferTo" | "transferHint" | "transfer" | "handedOn"
  | "targetNeeded" | "unknownTarget" | "dialBlocked" | "noCallNow"
> = {
  en: {
    title: "Operator", chooseOperator: "Operator", noOperatorId: "Your user is not linked to an operator: ask an admin to set your operator id.",
    myStatus: "My status", inStatus: "for {t}", setAvailable: "Available", setNotAvailable: "Not available",
    startBreak: "Take a break", breakReason: "Break reason", breakReasonHint: "lunch, training…", otherStatuses: "Other statuses",
    reasonNeeded: "Give the reason for the break", statusSaved: "Status set: {s}",
    state: "State", idle: "Idle: waiting for a call", ringing: "Ringing", talking: "Talking", wrap_up: "Wrap-up",
    noCall: "No call right now", incoming: "Incoming call", onCall: "On a call", wrapUp: "After-call work",
    caller: "Caller", called: "Dialled", queue: "Queue", scenario: "Scenario", waited: "Waited",
    variables: "Call data", noVariables: "The scenario set no variables", screen: "Messages",
    history: "Caller's earlier calls", noHistory: "No earlier calls from this number", when: "When", result: "Result",
    operator: "Operator", talk: "Talk", callsToday: "My calls today", noCallsToday: "No calls yet today",
    answeredToday: "Answered", talkToday: "Talk time", live: "Live", reconnecting: "Reconnecting…",
    lunch: "Lunch", training: "Training", meeting: "Meeting", firstCall: "first call",
    callActions: "Call actions", hold: "Hold", resume: "Resume", onHold: "The caller is on hold and hears music",
    transferTo: "Transfer to", transferHint: "operator, queue or number", transfer: "Transfer",
    handedOn: "The caller is handed on to {target}", targetNeeded: "Give an operator, a queue or a number",
    unknownTarget: "“{target}” is no operator, queue or number of the centre", dialBlocked: "The centre may not dial {target}",
    noCallNow: "You are in no conversation now",
  },
  ru: {
    title: "Оператор", chooseOperator: "Оператор", noOperatorId: "Ваш пользователь не связан с оператором: попросите администратора указать номер оператора.",
    myStatus: "Мой статус", inStatus: "уже {t}", setAvailable: "Доступен", setNotAvailable: "Недоступен",
    startBreak: "Уйти на перерыв", breakReason: "Причина перерыва", breakReasonHint: "обед, обучение…", otherStatuses: "Другие статусы",
    reasonNeeded: "Укажите причину перерыва", statusSaved: "Статус: {s}",
    state: "Состояние", idle: "Свободен: жду звонка", ringing: "Звонок", talking: "Разговор", wrap_up: "Обработка",
    noCall: "Сейчас звонка нет", incoming: "Входящий звонок", onCall: "Идёт разговор", wrapUp: "Обработка после звонка",
    caller: "Звонящий", called: "Набранный номер", queue: "Очередь", scenario: "Сценарий", waited: "Ждал",
    variables: "Данные звонка", noVariables: "Сценарий не задал переменных", screen: "Сообщения",
    history: "Прошлые звонки клиента", noHistory: "С этого номера ещё не звонили", when: "Когда", result: "Итог",
    operator: "Оператор", talk: "Разговор", callsToday: "Мои звонки сегодня", noCallsToday: "Сегодня звонков ещё не было",
    answeredToday: "Отвечено", talkToday: "Время разговоров", live: "В эфире", reconnecting: "Переподключение…",
    lunch: "Обед", training: "Обучение", meeting: "Совещание", firstCall: "первый звонок",
    callActions: "Действия со звонком", hold: "Удержание", resume: "Снять с удержания", onHold: "Клиент на удержании и слышит музыку",
    transferTo: "Перевести на", transferHint: "оператор, очередь или номер", transfer: "Перевести",
    handedOn: "Звонок переведён: {target}", targetNeeded: "Укажите оператора, очередь или номер",
    unknownTarget: "«{target}» — не оператор, не очередь и не номер центра", dialBlocked: "Центру запрещено звонить на {target}",
    noCallNow: "Сейчас у вас нет разговора",
  },
};
