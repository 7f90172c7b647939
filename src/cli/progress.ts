/**
 * A progress bar on stderr: redrawn in place on a terminal, one line every few seconds
 * otherwise (CI logs), so long work always shows that it moves.
 */
export function progressBar(label: string, opts: { total?: number; unit?: string } = {}) {
  const tty = process.stderr.isTTY;
  const started = Date.now();
  let lastLine = 0;
  return {
    update(fraction: number, count?: number) {
      const now = Date.now();
      if (!tty && now - lastLine < 3000 && fraction < 1) return;
      lastLine = now;
      const width = 30;
      const filled = Math.round(Math.max(0, Math.min(1, fraction)) * width);
      const secs = (now - started) / 1000;
      const rate =
        count !== undefined && secs > 0
          ? ` ${Math.round(count / secs).toLocaleString('en-US')} ${opts.unit ?? 'rows'}/s`
          : '';
      const counted = count !== undefined ? ` ${count.toLocaleString('en-US')} ${opts.unit ?? 'rows'}` : '';
      const line = `${label} [${'█'.repeat(filled)}${'░'.repeat(width - filled)}] ${(fraction * 100).toFixed(0).padStart(3)}%${counted}${rate} ${secs.toFixed(1)}s`;
      process.stderr.write(tty ? `\r${line}` : `${line}\n`);
    },
    done() {
      if (tty) process.stderr.write('\n');
    },
  };
}
