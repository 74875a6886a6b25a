/** One line (or, with `pointsOnly`, a set of markers) of a chart. */
export interface ChartSeries {
  readonly name: string;
  readonly points: ReadonlyArray<readonly [x: number, y: number]>;
  readonly color: string;
  readonly dashed?: boolean;
  readonly pointsOnly?: boolean;
}

export interface LineChart {
  readonly title: string;
  readonly xLabel: string;
  readonly yLabel: string;
  readonly series: ReadonlyArray<ChartSeries>;
  readonly width?: number;
  readonly height?: number;
}

/** A self-contained SVG line chart (y axis 0 … 100, x axis from the data), written by hand: no dependencies. */
export function renderLineChart(chart: LineChart): string {
  const width = chart.width ?? 720;
  const height = chart.height ?? 420;
  const margin = { top: 40, right: 200, bottom: 50, left: 60 };
  const plotW = width - margin.left - margin.right;
  const plotH = height - margin.top - margin.bottom;
  const xs = chart.series.flatMap((s) => s.points.map(([x]) => x));
  const xMin = Math.min(...xs);
  const xMax = Math.max(...xs);
  const yMax = niceCeiling(Math.max(10, ...chart.series.flatMap((s) => s.points.map(([, y]) => y))));
  const sx = (x: number): number => margin.left + (xMax === xMin ? plotW / 2 : ((x - xMin) / (xMax - xMin)) * plotW);
  const sy = (y: number): number => margin.top + plotH - (y / yMax) * plotH;
  const out: string[] = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="${width}" height="${height}" fill="white"/>`,
    `<text x="${margin.left}" y="24" font-size="15" font-weight="bold">${escapeXml(chart.title)}</text>`,
  );
  for (let i = 0; i <= 5; i++) {
    const y = (yMax / 5) * i;
    out.push(
      `<line x1="${margin.left}" x2="${margin.left + plotW}" y1="${sy(y).toFixed(1)}" y2="${sy(y).toFixed(1)}" stroke="#ddd"/>`,
      `<text x="${margin.left - 8}" y="${(sy(y) + 4).toFixed(1)}" text-anchor="end">${format(y)}</text>`,
    );
  }
  for (const x of [...new Set(xs)].sort((a, b) => a - b)) {
    out.push(
      `<line x1="${sx(x).toFixed(1)}" x2="${sx(x).toFixed(1)}" y1="${margin.top + plotH}" y2="${margin.top + plotH + 5}" stroke="#333"/>`,
      `<text x="${sx(x).toFixed(1)}" y="${margin.top + plotH + 18}" text-anchor="middle">${x}</text>`,
    );
  }
  out.push(
    `<rect x="${margin.left}" y="${margin.top}" width="${plotW}" height="${plotH}" fill="none" stroke="#333"/>`,
    `<text x="${margin.left + plotW / 2}" y="${height - 10}" text-anchor="middle">${escapeXml(chart.xLabel)}</text>`,
    `<text transform="translate(16 ${margin.top + plotH / 2}) rotate(-90)" text-anchor="middle">${escapeXml(chart.yLabel)}</text>`,
  );
  chart.series.forEach((series, i) => {
    const points = [...series.points].sort((a, b) => a[0] - b[0]);
    if (!series.pointsOnly && points.length > 1) {
      const d = points.map(([x, y], j) => `${j === 0 ? "M" : "L"}${sx(x).toFixed(1)} ${sy(y).toFixed(1)}`).join(" ");
      const dash = series.dashed ? ' stroke-dasharray="6 4"' : "";
      out.push(`<path d="${d}" fill="none" stroke="${series.color}" stroke-width="2"${dash}/>`);
    }
    for (const [x, y] of points) {
      out.push(
        series.pointsOnly
          ? `<rect x="${(sx(x) - 4).toFixed(1)}" y="${(sy(y) - 4).toFixed(1)}" width="8" height="8" fill="none" stroke="${series.color}" stroke-width="2"><title>${escapeXml(series.name)}: ${format(y)}</title></rect>`
          : `<circle cx="${sx(x).toFixed(1)}" cy="${sy(y).toFixed(1)}" r="3" fill="${series.color}"><title>${escapeXml(series.name)}: ${format(y)}</title></circle>`,
      );
    }
    const ly = margin.top + 10 + i * 20;
    const lx = margin.left + plotW + 16;
    out.push(
      series.pointsOnly
        ? `<rect x="${lx + 8}" y="${ly - 4}" width="8" height="8" fill="none" stroke="${series.color}" stroke-width="2"/>`
        : `<line x1="${lx}" x2="${lx + 24}" y1="${ly}" y2="${ly}" stroke="${series.color}" stroke-width="2"${series.dashed ? ' stroke-dasharray="6 4"' : ""}/>`,
      `<text x="${lx + 30}" y="${ly + 4}">${escapeXml(series.name)}</text>`,
    );
  });
  out.push("</svg>");
  return `${out.join("\n")}\n`;
}

function niceCeiling(value: number): number {
  return Math.min(100, Math.ceil(value / 10) * 10);
}

function format(value: number): string {
  return Number.isInteger(value) ? String(value) : value.toFixed(2);
}

function escapeXml(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}
