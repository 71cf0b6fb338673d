// Placeholder: this page is being written.
import type { Route } from "../../shell/router";

export default function ConsolePage({ route }: { route: Route }) {
  return <section className="placeholder" data-page="console">{route.page || "console"}</section>;
}
