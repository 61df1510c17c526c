// Column alignment as Consul prints tables (ryanuber/columnize with a two-space gap for lists, Go's tabwriter
// with padding 6 for key/value blocks): every column but the last is padded to its widest cell plus `gap`.

export function alignColumns(rows: readonly (readonly string[])[], gap = 2): string {
  const widths: number[] = [];
  for (const row of rows) {
    row.forEach((cell, i) => {
      widths[i] = Math.max(widths[i] ?? 0, displayWidth(cell));
    });
  }
  return rows
    .map((row) =>
      row
        .map((cell, i) =>
          i === row.length - 1 ? cell : cell + ' '.repeat(widths[i]! - displayWidth(cell) + gap),
        )
        .join(''),
    )
    .join('\n');
}

/** Go pads by runes, not UTF-16 units. */
function displayWidth(text: string): number {
  return [...text].length;
}
