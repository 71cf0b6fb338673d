// The report charts (recharts): stacked load bars, the service-level trend,
// lost calls by reason and transfers per target.
import {
  Bar, BarChart, CartesianGrid, Legend, Line, LineChart, ReferenceLine, ResponsiveContainer, Tooltip, XAxis, YAxis,
} from "recharts";
import type { LoadBar } from "./model";

const COLOURS = { answered: "#16a34a", lost: "#dc2626", other: "#94a3b8", busy: "#d97706", noAnswer: "#f59e0b", rejected: "#7c3aed", failed: "#64748b" };
const LINES = ["#2563eb", "#16a34a", "#d97706", "#7c3aed", "#0891b2", "#db2777"];

type Names = Record<string, string>;

export function LoadChart({ data, names, testId }: { data: LoadBar[]; names: Names; testId: string }) {
  return (
    <div className="rp-chart" data-testid={testId}>
      <ResponsiveContainer width="100%" height={240}>
        <BarChart data={data} margin={{ top: 8, right: 8, bottom: 0, left: -16 }}>
          <CartesianGrid strokeDasharray="3 3" vertical={false} />
          <XAxis dataKey="label" tick={{ fontSize: 11 }} interval="preserveStartEnd" />
          <YAxis allowDecimals={false} tick={{ fontSize: 11 }} />
          <Tooltip />
          <Legend wrapperStyle={{ fontSize: 12 }} />
          <Bar dataKey="answered" name={names.answered} stackId="a" fill={COLOURS.answered} isAnimationActive={false} />
          <Bar dataKey="lost" name={names.lost} stackId="a" fill={COLOURS.lost} isAnimationActive={false} />
          <Bar dataKey="other" name={names.other} stackId="a" fill={COLOURS.other} isAnimationActive={false} />
        </BarChart>
      </ResponsiveContainer>
    </div>
  );
}

export type TrendPoint = { label: string } & Record<string, number | string | null>;

export function TrendChart({ data, series, target, names }: { data: TrendPoint[]; series: string[]; target: number | null; names: Names }) {
  return (
    <div className="rp-chart" data-testid="sl-trend">
      <ResponsiveContainer width="100%" height={240}>
        <LineChart data={data} margin={{ top: 8, right: 16, bottom: 0, left: -8 }}>
          <CartesianGrid strokeDasharray="3 3" vertical={false} />
          <XAxis dataKey="label" tick={{ fontSize: 11 }} />
          <YAxis domain={[0, 100]} tickFormatter={(v: number) => `${v}%`} tick={{ fontSize: 11 }} />
          <Tooltip formatter={(v) => (typeof v === "number" ? `${v.toFixed(0)} %` : String(v))} />
          <Legend wrapperStyle={{ fontSize: 12 }} />
          {target !== null && (
            <ReferenceLine y={target * 100} stroke="#dc2626" strokeDasharray="6 4" label={{ value: `${names.target} ${Math.round(target * 100)}%`, fontSize: 11, fill: "#dc2626", position: "insideTopRight" }} />
          )}
          {series.map((s, i) => (
            <Line key={s} type="monotone" dataKey={s} name={names[s] ?? s} stroke={LINES[i % LINES.length]} strokeWidth={2}
                  dot={{ r: 3 }} connectNulls isAnimationActive={false} />
          ))}
        </LineChart>
      </ResponsiveContainer>
    </div>
  );
}

export function LostChart({ data }: { data: { label: string; calls: number }[] }) {
  return (
    <div className="rp-chart" data-testid="lost-chart">
      <ResponsiveContainer width="100%" height={Math.max(120, 36 * data.length + 40)}>
        <BarChart data={data} layout="vertical" margin={{ top: 4, right: 24, bottom: 4, left: 8 }}>
          <CartesianGrid strokeDasharray="3 3" horizontal={false} />
          <XAxis type="number" allowDecimals={false} tick={{ fontSize: 11 }} />
          <YAxis type="category" dataKey="label" width={150} tick={{ fontSize: 12 }} />
          <Tooltip />
          <Bar dataKey="calls" fill={COLOURS.lost} isAnimationActive={false} label={{ position: "right", fontSize: 12 }} />
        </BarChart>
      </ResponsiveContainer>
    </div>
  );
}

export type TransferBar = { label: string; answered: number; busy: number; no_answer: number; rejected: number; failed: number };

export function TransfersChart({ data, names }: { data: TransferBar[]; names: Names }) {
  return (
    <div className="rp-chart" data-testid="transfers-chart">
      <ResponsiveContainer width="100%" height={Math.max(140, 34 * data.length + 60)}>
        <BarChart data={data} layout="vertical" margin={{ top: 4, right: 16, bottom: 4, left: 8 }}>
          <CartesianGrid strokeDasharray="3 3" horizontal={false} />
          <XAxis type="number" allowDecimals={false} tick={{ fontSize: 11 }} />
          <YAxis type="category" dataKey="label" width={150} tick={{ fontSize: 12 }} />
          <Tooltip />
          <Legend wrapperStyle={{ fontSize: 12 }} />
          <Bar dataKey="answered" name={names.answered} stackId="t" fill={COLOURS.answered} isAnimationActive={false} />
          <Bar dataKey="busy" name={names.busy} stackId="t" fill={COLOURS.busy} isAnimationActive={false} />
          <Bar dataKey="no_answer" name={names.noAnswer} stackId="t" fill={COLOURS.noAnswer} isAnimationActive={false} />
          <Bar dataKey="rejected" name={names.rejected} stackId="t" fill={COLOURS.rejected} isAnimationActive={false} />
          <Bar dataKey="failed" name={names.failed} stackId="t" fill={COLOURS.failed} isAnimationActive={false} />
        </BarChart>
      </ResponsiveContainer>
    </div>
  );
}
