import type { Strings } from "../../i18n";

export const REPORTS: Strings<
  | "title" | "filters" | "from" | "to" | "queue" | "department" | "operator" | "all" | "apply"
  | "today" | "yesterday" | "week" | "month" | "badFrom" | "badTo" | "badOrder" | "loading"
  | "offered" | "answered" | "abandoned" | "serviceLevel" | "asa" | "aht" | "lost" | "other"
  | "loadByHour" | "loadByWeekday" | "peak" | "slTrend" | "target" | "overall" | "lostByReason"
  | "lostCalls" | "caller" | "started" | "reason" | "detail" | "transfers" | "target_" | "attempts"
  | "busy" | "noAnswer" | "rejected" | "failed" | "successRate" | "operators" | "missed" | "answerRate"
  | "talkAvg" | "ringAvg" | "vsAvg" | "vsAvgHint" | "csv" | "nothing" | "noTrend" | "mon" | "tue"
  | "wed" | "thu" | "fri" | "sat" | "sun" | "queues" | "calls" | "endedIvr" | "period" | "talkTotal"
  | "r_abandoned" | "r_max_wait" | "r_no_operators" | "r_no_answer" | "r_queue_full" | "r_outside_hours"
  | "r_ivr_hangup" | "r_no_route" | "r_other" | "callBack"
> = {
  en: {
    title: "Reports", filters: "Filters", from: "From", to: "To (included)", queue: "Queue", department: "Department",
    operator: "Operator", all: "All", apply: "Show", today: "Today", yesterday: "Yesterday", week: "7 days",
    month: "30 days", badFrom: "Give the first day", badTo: "Give the last day", badOrder: "The last day is before the first",
    loading: "Counting…", offered: "Offered", answered: "Answered", abandoned: "Abandoned", serviceLevel: "Service level",
    asa: "Avg speed of answer", aht: "Avg handle time", lost: "Lost", other: "Ended in the IVR",
    loadByHour: "Load by hour of day", loadByWeekday: "Load by weekday", peak: "Peak at once",
    slTrend: "Service level trend", target: "target", overall: "All queues", lostByReason: "Lost calls by reason",
    lostCalls: "Lost calls to call back", caller: "Caller", started: "When", reason: "Reason", detail: "Detail",
    transfers: "Transfers", target_: "Target", attempts: "Attempts", busy: "Busy", noAnswer: "No answer",
    rejected: "Rejected", failed: "Failed", successRate: "Success", operators: "Operators",
    missed: "Missed", answerRate: "Answer rate", talkAvg: "Avg talk", ringAvg: "Avg ring", vsAvg: "vs avg",
    vsAvgHint: "difference from the average of the operators shown (choose a department to compare within it)",
    csv: "CSV", nothing: "Nothing in this period", noTrend: "No calls in this period",
    mon: "Mon", tue: "Tue", wed: "Wed", thu: "Thu", fri: "Fri", sat: "Sat", sun: "Sun",
    queues: "Queues", calls: "calls", endedIvr: "Ended in the IVR", period: "Period", talkTotal: "Talk total",
    r_abandoned: "Hung up waiting", r_max_wait: "Waited too long", r_no_operators: "No operators",
    r_no_answer: "Nobody answered", r_queue_full: "Queue full", r_outside_hours: "Outside hours",
    r_ivr_hangup: "Hung up in the IVR", r_no_route: "No route", r_other: "Other", callBack: "call back",
  },
  ru: {
    title: "Отчёты", filters: "Фильтры", from: "С", to: "По (включительно)", queue: "Очередь", department: "Отдел",
    operator: "Оператор", all: "Все", apply: "Показать", today: "Сегодня", yesterday: "Вчера", week: "7 дней",
    month: "30 дней", badFrom: "Укажите первый день", badTo: "Укажите последний день", badOrder: "Последний день раньше первого",
    loading: "Считаем…", offered: "Поступило", answered: "Отвечено", abandoned: "Брошено", serviceLevel: "Уровень обслуживания",
    asa: "Ср. время ответа", aht: "Ср. время обработки", lost: "Потеряно", other: "Завершены в IVR",
    loadByHour: "Нагрузка по часам", loadByWeekday: "Нагрузка по дням недели", peak: "Пик одновременно",
    slTrend: "Уровень обслуживания во времени", target: "цель", overall: "Все очереди", lostByReason: "Потерянные звонки по причинам",
    lostCalls: "Потерянные звонки: перезвонить", caller: "Звонящий", started: "Когда", reason: "Причина", detail: "Подробно",
    transfers: "Переводы", target_: "Куда", attempts: "Попыток", busy: "Занято", noAnswer: "Нет ответа",
    rejected: "Отклонено", failed: "Сбой", successRate: "Успешно", operators: "Операторы",
    missed: "Пропущено", answerRate: "Доля ответов", talkAvg: "Ср. разговор", ringAvg: "Ср. до ответа", vsAvg: "от среднего",
    vsAvgHint: "разница со средним по показанным операторам (выберите отдел, чтобы сравнить внутри него)",
    csv: "CSV", nothing: "За этот период ничего нет", noTrend: "За этот период звонков нет",
    mon: "Пн", tue: "Вт", wed: "Ср", thu: "Чт", fri: "Пт", sat: "Сб", sun: "Вс",
    queues: "Очереди", calls: "звонков", endedIvr: "Завершены в IVR", period: "Период", talkTotal: "Всего разговоров",
    r_abandoned: "Не дождался", r_max_wait: "Превышено ожидание", r_no_operators: "Нет операторов",
    r_no_answer: "Никто не ответил", r_queue_full: "Очередь полна", r_outside_hours: "Нерабочее время",
    r_ivr_hangup: "Положил трубку в IVR", r_no_route: "Нет маршрута", r_other: "Другое", callBack: "перезвонить",
  },
};
