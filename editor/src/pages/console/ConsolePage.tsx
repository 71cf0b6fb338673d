// The test console: make a simulated call (caller, number, line, time of
// day), press keys, say a phrase, hang up; see the prompts, the path drawn
// live on the scenario and the trace with variables; save the call as a
// scenario test case. `#/console/<scenario>` starts with that scenario.
import { useCallback, useEffect, useMemo, useState } from "react";
import { api, unwrap, type Schemas } from "../../api/client";
import { FlowCanvas } from "../../canvas/FlowCanvas";
import type { ScenarioDocument } from "../../canvas/model";
import { useStrings } from "../../i18n";
import { ErrorMessage } from "../../shell/ErrorMessage";
import type { Route } from "../../shell/router";
import { CallControls } from "./CallControls";
import { CallSetup, type Setup } from "./CallSetup";
import { SaveCase } from "./SaveCase";
import { CONSOLE } from "./strings";
import { traceDecorations } from "./trace";
import { Prompts, TraceList, Variables } from "./TracePanel";
import { useCallTrace } from "./useCallTrace";
import "./console.css";

type Table = Parameters<typeof CallSetup>[0]["table"];

export default function ConsolePage({ route }: { route: Route }) {
  const t = useStrings(CONSOLE);
  const initial = route.page === "console" ? route.rest[0] ?? "" : "";
  const [scenarios, setScenarios] = useState<Schemas["ScenarioSummary"][]>([]);
  const [table, setTable] = useState<Table>(null);
  const [chosen, setChosen] = useState(initial);
  const [call, setCall] = useState<Schemas["CallPublic"] | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const { trace, events } = useCallTrace(call?.call_id ?? null);
  const live = call !== null && !trace.ended;

  useEffect(() => {
    Promise.all([unwrap(api.GET("/api/v1/scenarios")), unwrap(api.GET("/api/v1/routing"))])
      .then(([list, routing]) => {
        setScenarios(list);
        setTable(routing.table as Table);
      })
      .catch(setError);
  }, []);

  // the drawing: the version the call runs, else the chosen scenario's latest
  const refused = trace.ended && !trace.scenarioId;
  const shownId = refused ? null : trace.scenarioId ?? (chosen || null);
  const shownVersion = trace.scenarioId ? trace.version : scenarios.find((s) => s.id === shownId)?.latest_version ?? null;
  const document = useScenarioVersion(shownId, shownVersion, setError);
  const decorations = useMemo(() => traceDecorations(trace), [trace]);
  const drawnKey = `${shownId}@${shownVersion}`;
  const [ready, setReady] = useState("");

  const act = useCallback(async (work: () => Promise<unknown>) => {
    setError(null);
    try {
      await work();
    } catch (err) {
      setError(err);
    }
  }, []);

  async function start(setup: Setup) {
    setBusy(true);
    setChosen(setup.scenario);
    await act(async () => {
      const started = await unwrap(api.POST("/api/v1/calls", {
        body: {
          called: setup.called.trim(),
          caller: setup.caller.trim(),
          line: setup.line || null,
          at: setup.at || null,
        },
      }));
      setCall(started);
    });
    setBusy(false);
  }

  const path = `/api/v1/calls/{call_id}` as const;
  const id = call?.call_id ?? "";
  const digits = (d: string) => void act(() => unwrap(api.POST(`${path}/digits`, { params: { path: { call_id: id } }, body: { digits: d } })));
  const say = (text: string) => void act(() => unwrap(api.POST(`${path}/say`, { params: { path: { call_id: id } }, body: { text } })));
  const hangup = () => void act(() => unwrap(api.POST(`${path}/hangup`, { params: { path: { call_id: id } } })));

  const status = !call ? t("idle") : live ? t("live") : t("ended");
  return (
    <section className="console-page" data-page="console">
      <CallSetup scenarios={scenarios} table={table} initialScenario={initial} busy={busy || live} onStart={(s) => void start(s)}
        onScenario={(s) => !call && setChosen(s)} />
      {shownId && (
        <nav className="console-links">
          <a href={`#/scenarios/${encodeURIComponent(shownId)}/heatmap`}>{t("heatmap")}</a>
          <a href={`#/scenarios/${encodeURIComponent(shownId)}/diff`}>{t("diff")}</a>
        </nav>
      )}
      <ErrorMessage error={error} />
      <div className="console-body">
        <div className="console-canvas" aria-label={t("canvas")} data-ready={ready === drawnKey}>
          {document ? (
            <FlowCanvas key={drawnKey} document={document} readOnly autoLayout="always" decorations={decorations}
              className="trace-canvas" onRendered={() => setReady(drawnKey)} />
          ) : (
            <p className="muted canvas-empty">{t("noPrompts")}</p>
          )}
          {call && (
            <div className={`call-status ${live ? "is-live" : "is-ended"}`} role="status" data-testid="call-status" data-call-id={call.call_id}>
              <strong>{status}</strong>
              <span className="mono">{call.call_id}</span>
              {trace.active && <span>{t("inNode", { node: trace.active })}</span>}
              {trace.hangup && !live && <span>{t("hungUp", { cause: trace.hangup.cause, by: trace.hangup.by })}</span>}
              {trace.ended && !trace.scenarioId && <span>{t("notRouted", { called: call.called })}</span>}
            </div>
          )}
        </div>
        <aside className="console-side">
          <CallControls live={live} onDigits={digits} onSay={say} onHangup={hangup} />
          <Prompts trace={trace} />
          <Variables trace={trace} />
          {call && trace.ended && trace.scenarioId && <SaveCase key={call.call_id} callId={call.call_id} />}
        </aside>
      </div>
      <TraceList events={events} />
    </section>
  );
}

/** The document of a scenario version (cached per id and version while the page is open). */
function useScenarioVersion(id: string | null, version: number | null, onError: (err: unknown) => void): ScenarioDocument | null {
  const [docs, setDocs] = useState<Record<string, ScenarioDocument>>({});
  const key = id && version ? `${id}@${version}` : null;
  useEffect(() => {
    if (!key || docs[key] || !id || !version) return;
    unwrap(api.GET("/api/v1/scenarios/{scenario_id}/versions/{version}", { params: { path: { scenario_id: id, version } } }))
      .then((v) => setDocs((d) => ({ ...d, [key]: v.document as ScenarioDocument })))
      .catch(onError);
  }, [key, id, version, docs, onError]);
  return key ? docs[key] ?? null : null;
}
