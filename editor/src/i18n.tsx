// The UI language (Russian or English), switchable and remembered. Each page
// keeps its own strings beside it: `const t = useStrings(STRINGS)` where
// STRINGS = { en: {...}, ru: {...} } with the same keys.
import { createContext, useCallback, useContext, useMemo, useState, type ReactNode } from "react";

export type Lang = "ru" | "en";
export const LANGS: Lang[] = ["ru", "en"];
const KEY = "flowengine.lang";

type LangState = { lang: Lang; setLang: (lang: Lang) => void };
const LangContext = createContext<LangState>({ lang: "ru", setLang: () => {} });

function initialLang(): Lang {
  const stored = localStorage.getItem(KEY);
  if (stored === "ru" || stored === "en") return stored;
  return navigator.language?.toLowerCase().startsWith("ru") ? "ru" : "en";
}

export function LangProvider({ children }: { children: ReactNode }) {
  const [lang, setLangState] = useState<Lang>(initialLang);
  const setLang = useCallback((next: Lang) => {
    localStorage.setItem(KEY, next);
    document.documentElement.lang = next;
    setLangState(next);
  }, []);
  const value = useMemo(() => ({ lang, setLang }), [lang, setLang]);
  return <LangContext.Provider value={value}>{children}</LangContext.Provider>;
}

export function useLang(): LangState {
  return useContext(LangContext);
}

export type Strings<K extends string> = { en: Record<K, string>; ru: Record<K, string> };

/** `t(key, {n: 3})` replaces `{n}` in the string of the current language. */
export function format(text: string, params?: Record<string, string | number>): string {
  if (!params) return text;
  return text.replace(/\{(\w+)\}/g, (whole, name: string) =>
    name in params ? String(params[name]) : whole,
  );
}

export function useStrings<K extends string>(strings: Strings<K>) {
  const { lang } = useLang();
  return useCallback(
    (key: K, params?: Record<string, string | number>) => format(strings[lang][key], params),
    [lang, strings],
  );
}
