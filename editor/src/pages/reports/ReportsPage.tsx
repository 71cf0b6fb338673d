// Placeholder: this page is being written.
import type { Route } from "../../shell/router";

export default function ReportsPage({ route }: { route: Route }) {
  return <section className="placeholder" data-page="reports">{route.page || "reports"}</section>;
}
