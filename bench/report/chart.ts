import { readFileSync } from 'node:fs';
import { REFERENCES, ratio, type Section } from './table.ts';

// The ratio chart: one horizontal bar per (row, reference) on a log scale centred on 1, green where Tribune
// is ahead (ratio ≥ 1), red where it is behind; built as SVG and rendered to PNG with resvg.

const WIDTH = 1060;
const LABEL_WIDTH = 430;
const PLOT_WIDTH = 520;
const BAR_HEIGHT = 18;
const GAP = 6;
const TOP = 56;
const MIN_LOG = -3; // 1/8
const MAX_LOG = 3; // 8

interface Bar {
  label: string;
  value: number;
}

export function ratioBars(sections: Section[]): Bar[] {
  return sections.flatMap((section) =>
    section.rows.flatMap((row) =>
      REFERENCES.flatMap((reference) => {
        const value = ratio(row, reference);
        return value === undefined
          ? []
          : [{ label: `${section.benchmark} ${row.metric} vs ${reference}`, value }];
      }),
    ),
  );
}

const escapeXml = (text: string) =>
  text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;');

export function ratioSvg(sections: Section[], title: string): string {
  const bars = ratioBars(sections);
  const height = TOP + bars.length * (BAR_HEIGHT + GAP) + 40;
  const x = (value: number) => {
    const log = Math.min(MAX_LOG, Math.max(MIN_LOG, Math.log2(value)));
    return LABEL_WIDTH + ((log - MIN_LOG) / (MAX_LOG - MIN_LOG)) * PLOT_WIDTH;
  };
  const one = x(1);
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" font-family="DejaVu Sans, Liberation Sans, Arial, sans-serif" font-size="12">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="12" y="22" font-size="15" font-weight="bold">${escapeXml(title)}</text>`,
    `<text x="12" y="40" fill="#555">Tribune / reference, oriented so that ≥ 1 means Tribune is ahead (log scale, clipped at 1/8 and 8)</text>`,
  ];
  for (let log = MIN_LOG; log <= MAX_LOG; log++) {
    const gx = x(2 ** log);
    const label = log >= 0 ? `${2 ** log}` : `1/${2 ** -log}`;
    parts.push(
      `<line x1="${gx}" y1="${TOP - 6}" x2="${gx}" y2="${height - 30}" stroke="${log === 0 ? '#333' : '#ddd'}" stroke-width="${log === 0 ? 1.5 : 1}"/>`,
      `<text x="${gx}" y="${height - 14}" text-anchor="middle" fill="#555">${label}</text>`,
    );
  }
  bars.forEach((bar, i) => {
    const y = TOP + i * (BAR_HEIGHT + GAP);
    const end = x(bar.value);
    const ahead = bar.value >= 1;
    parts.push(
      `<text x="${LABEL_WIDTH - 8}" y="${y + BAR_HEIGHT - 5}" text-anchor="end">${escapeXml(bar.label)}</text>`,
      `<rect x="${Math.min(one, end)}" y="${y}" width="${Math.max(1, Math.abs(end - one))}" height="${BAR_HEIGHT}" fill="${ahead ? '#2e9d4f' : '#d0473a'}"/>`,
      `<text x="${LABEL_WIDTH + PLOT_WIDTH + 10}" y="${y + BAR_HEIGHT - 5}">${bar.value.toFixed(2)}</text>`,
    );
  });
  if (bars.length === 0) parts.push(`<text x="12" y="${TOP + 14}">no ratios: no reference system ran</text>`);
  parts.push('</svg>');
  return parts.join('\n');
}

export async function renderPng(svg: string): Promise<Buffer> {
  const { Resvg } = await import('@resvg/resvg-js');
  const fontFiles = ['/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf'].filter((f) => {
    try {
      readFileSync(f, { flag: 'r' });
      return true;
    } catch {
      return false;
    }
  });
  const resvg = new Resvg(svg, {
    font: { loadSystemFonts: true, fontFiles, defaultFontFamily: 'DejaVu Sans' },
    background: 'white',
  });
  return resvg.render().asPng();
}
