// Placeholder: this page is being written.
import type { Route } from "../../shell/router";

export default function NumbersPage({ route }: { route: Route }) {
  return <section className="placeholder" data-page="numbers">{route.page || "numbers"}</section>;
}
