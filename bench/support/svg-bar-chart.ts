/**
 * A self-contained horizontal bar chart (SVG written by hand, no dependencies): one bar per row of a benchmark's
 * table, grouped under their workload, labelled with their value. Every table-producing benchmark writes one beside
 * its JSON (bench/results/<name>.svg).
 */
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { REPO_ROOT } from "./traces.js";

export interface Bar {
  /** Rows with the same group are drawn together under its heading. */
  readonly group?: string;
  readonly label: string;
  readonly value: number;
}

export interface BarChart {
  readonly title: string;
  /** The values' unit, printed after each value and on the axis. */
  readonly unit: string;
  readonly bars: ReadonlyArray<Bar>;
}

const COLORS = ["#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2", "#edc948", "#b07aa1", "#9c755f"];

export function renderBarChart(chart: BarChart): string {
  const width = 860;
  const labelW = 330;
  const barH = 18;
  const gap = 6;
  const left = labelW + 10;
  const plotW = width - left - 90;
  const max = Math.max(...chart.bars.map((bar) => (Number.isFinite(bar.value) ? bar.value : 0)), 1e-9);
  const out: string[] = [];
  let y = 50;
  let group: string | undefined;
  let color = -1; // ungrouped bars (never a heading) take the first colour
  for (const bar of chart.bars) {
    if (bar.group !== group) {
      group = bar.group;
      color = (color + 1) % COLORS.length;
      if (group !== undefined) {
        y += 8;
        out.push(`<text x="10" y="${y + 12}" font-weight="bold">${escapeXml(group)}</text>`);
        y += barH + gap;
      }
    }
    const value = Number.isFinite(bar.value) ? bar.value : 0;
    const w = Math.max(1, (value / max) * plotW);
    out.push(
      `<text x="${labelW}" y="${y + 13}" text-anchor="end">${escapeXml(bar.label)}</text>`,
      `<rect x="${left}" y="${y}" width="${w.toFixed(1)}" height="${barH}" fill="${COLORS[Math.max(color, 0)]}"/>`,
      `<text x="${(left + w + 5).toFixed(1)}" y="${y + 13}">${escapeXml(formatValue(value))} ${escapeXml(chart.unit)}</text>`,
    );
    y += barH + gap;
  }
  const height = y + 20;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="${width}" height="${height}" fill="white"/>`,
    `<text x="10" y="26" font-size="15" font-weight="bold">${escapeXml(chart.title)}</text>`,
    ...out,
    "</svg>",
    "",
  ].join("\n");
}

/** Renders and writes bench/results/<name>.svg; returns its path relative to the repository. */
/** A chart's file name for a workload: `prefix-` and the workload's name in lower-case words joined by dashes. */
export function chartName(prefix: string, workload: string): string {
  return `${prefix}-${workload
    .replace(/[^a-z0-9]+/gi, "-")
    .replace(/-+$/, "")
    .toLowerCase()}`;
}

export function writeBarChart(name: string, chart: BarChart): string {
  const dir = path.join(REPO_ROOT, "bench/results");
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, `${name}.svg`), renderBarChart(chart));
  return `bench/results/${name}.svg`;
}

function formatValue(value: number): string {
  if (value >= 100) return value.toFixed(0);
  if (value >= 10) return value.toFixed(1);
  return value.toFixed(2);
}

function escapeXml(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}
