// Numbers as a researcher reads them: 1.2M params, 3.4e12 FLOPs, 1.234 bpb, 2h 05m.

/** 1234 → 1.23k, 2.5e6 → 2.5M, 3e12 → 3T; SI suffixes up to T, then exponent notation. */
export function si(v: number | null | undefined, digits = 3): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return '–';
  const a = Math.abs(v);
  if (a < 1000) return trim(v.toPrecision(digits));
  const units: [number, string][] = [[1e12, 'T'], [1e9, 'G'], [1e6, 'M'], [1e3, 'k']];
  if (a >= 1e15) return sci(v, digits);
  for (const [u, s] of units) if (a >= u) return `${trim((v / u).toPrecision(digits))}${s}`;
  return String(v);
}

/** 3.0e12 style, for FLOPs, where researchers think in powers of ten. */
export function sci(v: number | null | undefined, digits = 2): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return '–';
  if (v === 0) return '0';
  return v.toExponential(digits - 1).replace('e+', 'e');
}

export function fixed(v: number | null | undefined, digits = 3): string {
  return v === null || v === undefined || !Number.isFinite(v) ? '–' : v.toFixed(digits);
}

export function duration(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds)) return '–';
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${String(s % 60).padStart(2, '0')}s`;
  const hh = Math.floor(m / 60);
  if (hh < 48) return `${hh}h ${String(m % 60).padStart(2, '0')}m`;
  return `${Math.floor(hh / 24)}d ${hh % 24}h`;
}

/** "3 min ago", "yesterday 14:05", or a date. */
export function when(iso: string | null): string {
  if (!iso) return '–';
  const t = Date.parse(iso);
  if (!Number.isFinite(t)) return '–';
  const ago = (Date.now() - t) / 1000;
  if (ago < 60) return 'just now';
  if (ago < 3600) return `${Math.floor(ago / 60)} min ago`;
  if (ago < 86400) return `${Math.floor(ago / 3600)} h ago`;
  return new Date(t).toISOString().slice(0, 16).replace('T', ' ');
}

/** A tick formatter for uPlot axes: short numbers whatever the scale. */
export function tick(v: number): string {
  const a = Math.abs(v);
  if (a !== 0 && (a >= 1e5 || a < 1e-3)) return sci(v, 2).replace(/\.0e/, 'e');
  return trim(Number(v.toPrecision(4)).toString());
}

function trim(s: string): string {
  return s.includes('e') ? s : s.includes('.') ? s.replace(/\.?0+$/, '') : s;
}
