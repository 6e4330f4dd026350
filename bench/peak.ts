/** This machine's single-core fp32 peak (bench/native/peak-fma.c, best of 3), or undefined without a C compiler. */
import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export function singleCorePeak(): number | undefined {
  try {
    const dir = mkdtempSync(join(tmpdir(), 'irs-peak-'));
    const exe = join(dir, 'peak');
    execFileSync('cc', ['-O3', '-march=native', '-ffp-contract=fast', '-o', exe, fileURLToPath(new URL('./native/peak-fma.c', import.meta.url))]);
    return Math.max(...[0, 1, 2].map(() => Number(execFileSync(exe, { encoding: 'utf8' }).split(' ')[0])));
  } catch {
    return undefined;
  }
}
