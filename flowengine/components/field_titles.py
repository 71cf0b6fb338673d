"""Russian titles of the built-in components' parameters, by field name.

`GET /api/v1/components` adds them to each params JSON Schema as
``title_ru`` beside the English ``title``, so the web editor's generated
forms speak the UI language. A component package may set its own with
``Field(json_schema_extra={"title_ru": ...})``; a field named nowhere
keeps its English title.
"""

from __future__ import annotations

from typing import Any

FIELD_TITLES_RU: dict[str, str] = {
    "allow": "Разрешено", "announce": "Объявлять", "answer": "Ответить", "assignments": "Присваивания",
    "attempts": "Попыток", "barge_in": "Прерывание клавишей", "beep": "Сигнал", "blind": "Слепой перевод",
    "body": "Тело запроса", "callback_digit": "Клавиша обратного звонка", "cases": "Варианты",
    "cause": "Причина", "channel": "Канал", "choices": "Варианты", "condition": "Условие", "date": "Дата",
    "department": "Отдел", "digits": "Цифры", "duration_variable": "Переменная длительности",
    "entry": "Вход", "equals": "Равно", "exceptions": "Исключения", "exit": "Выход", "file": "Файл",
    "first_timeout": "Ожидание первой цифры", "fri": "Пятница", "greeting": "Приветствие",
    "headers": "Заголовки", "holidays": "Праздники", "hours": "Часы работы", "in": "Одно из",
    "inter_timeout": "Пауза между цифрами", "interval": "Интервал", "invalid_prompt": "Сообщение при ошибке",
    "json": "JSON", "language": "Язык", "level": "Уровень", "manager": "Персональный менеджер",
    "max_digits": "Максимум цифр", "max_length": "Максимальная длина", "max_total_wait": "Общее ожидание, максимум",
    "max_wait": "Максимальное ожидание", "message": "Сообщение", "method": "Метод",
    "min_confidence": "Минимальная уверенность", "min_length": "Минимальная длина", "mode": "Режим",
    "mon": "Понедельник", "music": "Музыка ожидания", "name": "Имя", "no_match_prompt": "Сообщение «не понял»",
    "numbers": "Номера", "on_failure": "При неудаче", "operator": "Оператор",
    "operator_variable": "Переменная оператора", "options": "Варианты", "payload": "Данные",
    "periodic_prompt": "Периодическое сообщение", "phrases": "Фразы", "play": "Проиграть",
    "prefix": "Префикс", "priority": "Приоритет", "prompt": "Сообщение", "queue": "Очередь",
    "range": "Диапазон", "reason_variable": "Переменная причины", "record": "Записывать разговор",
    "regex": "Регулярное выражение", "repeat": "Повторить", "response": "Ответ", "retries": "Повторов",
    "ring_timeout": "Время вызова", "sat": "Суббота", "say": "Произнести", "scenario": "Сценарий",
    "silence_end": "Тишина до конца", "skills": "Навыки", "status_variable": "Переменная статуса",
    "strategy": "Стратегия", "sun": "Воскресенье", "target": "Куда", "terminator": "Завершающая клавиша",
    "terminators": "Завершающие клавиши", "text": "Текст", "thu": "Четверг",
    "timeout": "Тайм-аут", "timeout_prompt": "Сообщение по тайм-ауту", "timezone": "Часовой пояс",
    "title": "Заголовок", "to": "Кому", "total_timeout": "Общий тайм-аут", "tue": "Вторник",
    "url": "URL", "value": "Значение", "variable": "Переменная", "voice": "Голос", "wed": "Среда",
    "weekly": "По дням недели",
}


def add_russian_titles(schema: Any) -> Any:
    """`schema` (a params JSON Schema) with ``title_ru`` on every property
    the glossary knows and that has none of its own; changed in place."""
    if isinstance(schema, dict):
        props = schema.get("properties")
        if isinstance(props, dict):
            for name, prop in props.items():
                if isinstance(prop, dict) and "title_ru" not in prop and name in FIELD_TITLES_RU:
                    prop["title_ru"] = FIELD_TITLES_RU[name]
        for value in schema.values():
            add_russian_titles(value)
    elif isinstance(schema, list):
        for item in schema:
            add_russian_titles(item)
    return schema
