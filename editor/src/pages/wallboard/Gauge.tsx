// A half-circle service-level gauge: the arc filled to the level, coloured by
// how it stands against the target, with a tick at the target.
import { arcPath, percent, slHealth, tick } from "./format";

type Props = { level: number | null; target: number; label: string; size?: number };

export function Gauge({ level, target, label, size = 180 }: Props) {
  const w = 200;
  const cx = 100;
  const cy = 100;
  const r = 80;
  const health = slHealth(level, target);
  const [x1, y1, x2, y2] = tick(cx, cy, r - 16, r + 12, target);
  return (
    <svg className={`gauge gauge-${health}`} viewBox={`0 0 ${w} 120`} width={size} height={(size * 120) / w}
         role="img" aria-label={label} data-testid="sl-gauge" data-level={level ?? ""}>
      <path d={arcPath(cx, cy, r, 0, 1)} className="gauge-track" fill="none" strokeWidth="18" />
      {level !== null && level > 0 && (
        <path d={arcPath(cx, cy, r, 0, level)} className="gauge-value" fill="none" strokeWidth="18" />
      )}
      <line x1={x1} y1={y1} x2={x2} y2={y2} className="gauge-target" strokeWidth="3" />
      <text x={cx} y={cy - 8} textAnchor="middle" className="gauge-text">{percent(level)}</text>
    </svg>
  );
}
