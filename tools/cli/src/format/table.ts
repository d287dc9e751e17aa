/**
 * Plain-text tables as kubectl prints them: upper-case headers, columns
 * left-aligned and two spaces apart, no trailing blanks.
 */

/** Renders rows under headers; a missing cell is empty. */
export function renderTable(headers: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]): string =>
    widths
      .map((w, i) => (i === widths.length - 1 ? (cells[i] ?? '') : (cells[i] ?? '').padEnd(w)))
      .join('  ')
      .trimEnd();
  return [line(headers), ...rows.map(line)].join('\n');
}

/** "key: value" lines with the values aligned; entries with an empty value are left out. */
export function renderFields(fields: readonly (readonly [string, string])[]): string {
  const shown = fields.filter(([, v]) => v !== '');
  const width = Math.max(0, ...shown.map(([k]) => k.length + 1));
  return shown.map(([k, v]) => `${`${k}:`.padEnd(width)}  ${v}`).join('\n');
}
