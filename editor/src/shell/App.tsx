// The frame around every page: navigation by role, language switch, sign-out.
import { lazy, Suspense, type ComponentType } from "react";
import { LANGS, useLang, useStrings } from "../i18n";
import { ErrorBoundary } from "./ErrorBoundary";
import { Login } from "./Login";
import { navigate, useRoute, type Route } from "./router";
import { atLeast, useSession } from "./session";
import { SHELL } from "./strings";

type PageProps = { route: Route };
type PageDef = {
  key: "scenarios" | "numbers" | "console" | "wallboard" | "operator" | "reports";
  role: "operator" | "supervisor" | "admin";
  component: ComponentType<PageProps>;
};

// Each page is its own chunk; the editor page (canvas, ELK) is the heavy one.
const PAGES: PageDef[] = [
  { key: "scenarios", role: "supervisor", component: lazy(() => import("../pages/scenarios/ScenariosPage")) },
  { key: "numbers", role: "supervisor", component: lazy(() => import("../pages/numbers/NumbersPage")) },
  { key: "console", role: "supervisor", component: lazy(() => import("../pages/console/ConsolePage")) },
  { key: "wallboard", role: "supervisor", component: lazy(() => import("../pages/wallboard/WallboardPage")) },
  { key: "operator", role: "operator", component: lazy(() => import("../pages/operator/OperatorPage")) },
  { key: "reports", role: "supervisor", component: lazy(() => import("../pages/reports/ReportsPage")) },
];

// Views of one scenario with pages of their own: #/scenarios/<id>/diff, #/scenarios/<id>/heatmap.
const SCENARIO_VIEWS: Record<string, ComponentType<PageProps>> = {
  diff: lazy(() => import("../pages/diff/DiffPage")),
  heatmap: lazy(() => import("../pages/heatmap/HeatmapPage")),
};

export function App() {
  const t = useStrings(SHELL);
  const { lang, setLang } = useLang();
  const { me, loading, logout } = useSession();
  const route = useRoute();

  if (loading) return <p className="loading">{t("loading")}</p>;
  if (!me) return <Login />;

  const visible = PAGES.filter((page) => atLeast(me, page.role));
  const fallback = visible[0]?.key ?? "operator";
  const page = PAGES.find((p) => p.key === (route.page || fallback));
  const View = (page?.key === "scenarios" && SCENARIO_VIEWS[route.rest[1] ?? ""]) || page?.component;

  return (
    <div className="app">
      <header className="topbar">
        <a className="brand" href="#/">flowengine</a>
        <nav aria-label="main">
          {visible.map((p) => (
            <a key={p.key} href={`#/${p.key}`} className={p.key === page?.key ? "active" : ""} aria-current={p.key === page?.key ? "page" : undefined}>
              {t(p.key)}
            </a>
          ))}
        </nav>
        <span className="spacer" />
        <label className="lang">
          <span className="sr-only">{t("language")}</span>
          <select aria-label={t("language")} value={lang} onChange={(e) => setLang(e.target.value as typeof lang)}>
            {LANGS.map((l) => (
              <option key={l} value={l}>{l.toUpperCase()}</option>
            ))}
          </select>
        </label>
        <span className="who">{me.username} · {me.role}</span>
        <button type="button" onClick={() => void logout().then(() => navigate("/"))}>{t("logout")}</button>
      </header>
      <main className="page">
        {!page ? (
          <p className="notice">{t("notFound")}</p>
        ) : !atLeast(me, page.role) ? (
          <p className="notice notice-error" role="alert">{t("noAccess")}</p>
        ) : (
          <ErrorBoundary key={page.key} title={t("pageFailed")} retry={t("retry")}>
            <Suspense fallback={<p className="loading">{t("loading")}</p>}>
              {View && <View route={route} />}
            </Suspense>
          </ErrorBoundary>
        )}
      </main>
    </div>
  );
}
