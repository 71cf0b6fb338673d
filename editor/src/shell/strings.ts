import type { Strings } from "../i18n";

export const SHELL: Strings<
  | "scenarios" | "numbers" | "console" | "wallboard" | "operator" | "reports"
  | "logout" | "login" | "username" | "password" | "signIn" | "pageFailed" | "retry"
  | "language" | "notFound" | "loading" | "noAccess"
> = {
  en: {
    scenarios: "Scenarios", numbers: "Numbers", console: "Test console", wallboard: "Wallboard",
    operator: "Operator", reports: "Reports", logout: "Sign out", login: "Sign in to flowengine",
    username: "User name", password: "Password", signIn: "Sign in",
    pageFailed: "This page failed", retry: "Try again", language: "Language",
    notFound: "No such page", loading: "Loading…", noAccess: "Your role cannot open this page",
  },
  ru: {
    scenarios: "Сценарии", numbers: "Номера", console: "Тестовый звонок", wallboard: "Табло",
    operator: "Оператор", reports: "Отчёты", logout: "Выйти", login: "Вход в flowengine",
    username: "Имя пользователя", password: "Пароль", signIn: "Войти",
    pageFailed: "Ошибка на странице", retry: "Повторить", language: "Язык",
    notFound: "Нет такой страницы", loading: "Загрузка…", noAccess: "Ваша роль не даёт доступа к этой странице",
  },
};
