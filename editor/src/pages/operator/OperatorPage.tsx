// Placeholder: this page is being written.
import type { Route } from "../../shell/router";

export default function OperatorPage({ route }: { route: Route }) {
  return <section className="placeholder" data-page="operator">{route.page || "operator"}</section>;
}
