const int = new Intl.NumberFormat(undefined, { maximumFractionDigits: 0 });
const dec = new Intl.NumberFormat(undefined, { minimumFractionDigits: 2, maximumFractionDigits: 2 });

export const fmtInt = (n: number) => int.format(n);
export const fmtMoney = (n: number | null) => (n === null ? '—' : dec.format(n));
export const fmtPct = (share: number) => `${(share * 100).toFixed(share < 0.1 ? 1 : 0)}%`;
export const fmtBytes = (n: number) =>
  n >= 1 << 30
    ? `${(n / (1 << 30)).toFixed(1)} GiB`
    : n >= 1 << 20
      ? `${(n / (1 << 20)).toFixed(0)} MiB`
      : `${(n / 1024).toFixed(0)} KiB`;
export const fmtDuration = (s: number) =>
  s < 120 ? `${s.toFixed(0)} s` : s < 7200 ? `${(s / 60).toFixed(0)} min` : `${(s / 3600).toFixed(1)} h`;
export const fmtMs = (s: number | null) => (s === null ? '—' : `${(s * 1000).toFixed(1)} ms`);

export const fmtClock = (t: number, withDate = false) =>
  new Date(t).toLocaleString(undefined, {
    ...(withDate ? { month: 'short', day: 'numeric' } : {}),
    hour: '2-digit',
    minute: '2-digit',
  });
export const fmtTime = (t: number) =>
  new Date(t).toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit', second: '2-digit' });
