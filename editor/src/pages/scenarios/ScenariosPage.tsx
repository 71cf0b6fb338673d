// #/scenarios: the list; #/scenarios/<id>: the editor (its own chunk: canvas, rjsf).
import { lazy, Suspense } from "react";
import type { Route } from "../../shell/router";
import { ScenarioList } from "./ScenarioList";

const EditorPage = lazy(() => import("./editor/EditorPage"));

export default function ScenariosPage({ route }: { route: Route }) {
  const id = route.rest[0];
  if (id) {
    return (
      <Suspense fallback={<p className="loading">…</p>}>
        <EditorPage key={id} scenarioId={id} />
      </Suspense>
    );
  }
  return <ScenarioList />;
}
