// Placeholder: this page is being written.
import type { Route } from "../../shell/router";

export default function WallboardPage({ route }: { route: Route }) {
  return <section className="placeholder" data-page="wallboard">{route.page || "wallboard"}</section>;
}
