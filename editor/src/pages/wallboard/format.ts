// Pure formatting used by the wallboard, the operator panel and the reports page.

/** Seconds as "0:07", "12:05" or "1:02:03" (negative and unknown as "—"). */
export function duration(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds) || seconds < 0) return "—";
  const s = Math.floor(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = String(s % 60).padStart(2, "0");
  return h > 0 ? `${h}:${String(m).padStart(2, "0")}:${sec}` : `${m}:${sec}`;
}

/** Seconds since `since` (epoch seconds) at `now`, never below zero; null when unknown. */
export function since(now: number, start: number | null | undefined): number | null {
  if (start === null || start === undefined) return null;
  return Math.max(0, now - start);
}

/** A share 0..1 as "85 %" (Russian and English both put a space); null as "—". */
export function percent(share: number | null | undefined, digits = 0): string {
  if (share === null || share === undefined || !Number.isFinite(share)) return "—";
  return `${(share * 100).toFixed(digits)} %`;
}

/** A clock time "14:05" of an epoch instant, in the viewer's zone. */
export function clock(epoch: number | null | undefined, withSeconds = false): string {
  if (epoch === null || epoch === undefined) return "—";
  const d = new Date(epoch * 1000);
  const hh = String(d.getHours()).padStart(2, "0");
  const mm = String(d.getMinutes()).padStart(2, "0");
  return withSeconds ? `${hh}:${mm}:${String(d.getSeconds()).padStart(2, "0")}` : `${hh}:${mm}`;
}

export type Health = "ok" | "warn" | "bad" | "none";

/** How a service level stands against its target: at or above it "ok",
 * within 10 points below "warn", further below "bad"; no calls yet "none". */
export function slHealth(level: number | null | undefined, target: number): Health {
  if (level === null || level === undefined) return "none";
  if (level >= target) return "ok";
  if (level >= target - 0.1) return "warn";
  return "bad";
}

/** How long a caller has waited against the queue's threshold. */
export function waitHealth(waited: number, threshold: number): Health {
  if (waited <= threshold * 0.5) return "ok";
  if (waited <= threshold) return "warn";
  return "bad";
}

/** A point on a circle of radius r around (cx, cy) at `angle` radians (0 = right, counter-clockwise up). */
function point(cx: number, cy: number, r: number, angle: number): [number, number] {
  return [cx + r * Math.cos(angle), cy - r * Math.sin(angle)];
}

/** The SVG path of a gauge's arc from share `from` to `to` (0..1) of a half circle, left to right. */
export function arcPath(cx: number, cy: number, r: number, from: number, to: number): string {
  const a = Math.min(1, Math.max(0, from));
  const b = Math.min(1, Math.max(0, to));
  const [x1, y1] = point(cx, cy, r, Math.PI * (1 - a));
  const [x2, y2] = point(cx, cy, r, Math.PI * (1 - b));
  return `M ${x1.toFixed(2)} ${y1.toFixed(2)} A ${r} ${r} 0 0 1 ${x2.toFixed(2)} ${y2.toFixed(2)}`;
}

/** Where the target mark of a gauge sits: the inner and outer points of a tick at share `at`. */
export function tick(cx: number, cy: number, r1: number, r2: number, at: number): [number, number, number, number] {
  const angle = Math.PI * (1 - Math.min(1, Math.max(0, at)));
  const [x1, y1] = point(cx, cy, r1, angle);
  const [x2, y2] = point(cx, cy, r2, angle);
  return [x1, y1, x2, y2];
}
