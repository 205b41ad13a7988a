import { useId } from "react";
import { formatClock } from "./format.ts";

export interface ChartSeries {
  name: string;
  /** One value per time; null draws a gap. */
  values: (number | null)[];
}

const WIDTH = 640;
const HEIGHT = 180;
const PAD = { left: 44, right: 8, top: 8, bottom: 22 };

/** A round top for the y axis: 1, 2, 5 × a power of ten. */
const niceMax = (value: number): number => {
  if (value <= 0) return 1;
  const power = 10 ** Math.floor(Math.log10(value));
  return ([1, 2, 5, 10].find((step) => step * power >= value) ?? 10) * power;
};

const label = (value: number): string => (value >= 100 ? String(Math.round(value)) : String(Number(value.toPrecision(2))));

/**
 * A small line chart in SVG, no library: the series over time, a y axis from 0, a legend, and the same
 * numbers in a table for those who do not read the drawing.
 */
export const LineChart = ({ title, unit, times, series }: { title: string; unit: string; times: string[]; series: ChartSeries[] }) => {
  const id = useId();
  const max = niceMax(Math.max(0, ...series.flatMap((s) => s.values.filter((v): v is number => v !== null))));
  const x = (i: number) => PAD.left + (times.length <= 1 ? 0 : (i / (times.length - 1)) * (WIDTH - PAD.left - PAD.right));
  const y = (v: number) => HEIGHT - PAD.bottom - (v / max) * (HEIGHT - PAD.top - PAD.bottom);
  const pathOf = (values: (number | null)[]) => {
    let d = "";
    let drawing = false;
    values.forEach((value, i) => {
      if (value === null) {
        drawing = false;
        return;
      }
      d += `${drawing ? "L" : "M"}${x(i).toFixed(1)},${y(value).toFixed(1)}`;
      drawing = true;
    });
    return d;
  };
  const latest = series.map((s) => `${s.name} ${label([...s.values].reverse().find((v) => v !== null) ?? 0)}`).join(", ");
  const ticks = [0, 0.25, 0.5, 0.75, 1].map((f) => f * max);
  const xLabels = times.length > 0 ? [0, Math.floor((times.length - 1) / 2), times.length - 1] : [];

  return (
    <figure className="chart" aria-labelledby={`${id}-title`}>
      <figcaption id={`${id}-title`}>
        {title} <span className="muted">({unit})</span>
      </figcaption>
      <svg viewBox={`0 0 ${WIDTH} ${HEIGHT}`} role="img" aria-label={`${title}, latest: ${latest}`}>
        {ticks.map((tick) => (
          <g key={tick} className="grid">
            <line x1={PAD.left} x2={WIDTH - PAD.right} y1={y(tick)} y2={y(tick)} />
            <text x={PAD.left - 6} y={y(tick) + 4} textAnchor="end">
              {label(tick)}
            </text>
          </g>
        ))}
        {xLabels.map((i) => (
          <text key={i} className="axis" x={x(i)} y={HEIGHT - 6} textAnchor={i === 0 ? "start" : i === times.length - 1 ? "end" : "middle"}>
            {formatClock(times[i])}
          </text>
        ))}
        {series.map((s, index) => (
          <g key={s.name} className={`line-${index}`}>
            <path className="line" d={pathOf(s.values)} />
            {/* A value between two gaps has no line to be part of: it is drawn as a dot. */}
            {s.values.map((value, i) =>
              value !== null && (s.values[i - 1] ?? null) === null && (s.values[i + 1] ?? null) === null ? <circle key={i} className="dot" cx={x(i)} cy={y(value)} r={3} /> : null,
            )}
          </g>
        ))}
      </svg>
      <ul className="legend">
        {series.map((s, index) => (
          <li key={s.name}>
            <span className={`swatch swatch-${index}`} aria-hidden="true" />
            {s.name}
          </li>
        ))}
      </ul>
      <details>
        <summary>Numbers</summary>
        <div className="table-scroll" role="region" aria-label={`${title}, numbers`} tabIndex={0}>
          <table>
            <thead>
              <tr>
                <th scope="col">From</th>
                {series.map((s) => (
                  <th key={s.name} scope="col">
                    {s.name}
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>
              {times.map((time, i) => (
                <tr key={time}>
                  <th scope="row">{formatClock(time)}</th>
                  {series.map((s) => (
                    <td key={s.name}>{s.values[i] === null || s.values[i] === undefined ? "—" : label(s.values[i]!)}</td>
                  ))}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </details>
    </figure>
  );
};
