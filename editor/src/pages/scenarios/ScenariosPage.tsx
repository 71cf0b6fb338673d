// Placeholder: this page is being written.
import type { Route } from "../../shell/router";

export default function ScenariosPage({ route }: { route: Route }) {
  return <section className="placeholder" data-page="scenarios">{route.page || "scenarios"}</section>;
}
