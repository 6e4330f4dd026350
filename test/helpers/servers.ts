/** Starts `irs serve` processes on loopback for fan-out tests, and stops them. */
import { spawn, type ChildProcess } from 'node:child_process';

export interface ServeProcess {
  url: string;
  proc: ChildProcess;
  stop(signal?: NodeJS.Signals): Promise<void>;
}

export async function startServe(args: string[]): Promise<ServeProcess> {
  const proc = spawn(process.execPath, ['bin/irs.js', 'serve', '--port', '0', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`irs serve did not start: ${output}`)), 30_000);
    const onData = (d: Buffer) => {
      output += d;
      const m = /serving on (http:\/\/[^\s]+)/.exec(output);
      if (m) { clearTimeout(timer); resolve(m[1]); }
    };
    proc.stdout!.on('data', onData);
    proc.stderr!.on('data', (d) => (output += d));
    proc.on('exit', (code) => { clearTimeout(timer); reject(new Error(`irs serve exited with ${code}: ${output}`)); });
  });
  return {
    url, proc,
    stop: (signal = 'SIGTERM') => new Promise<void>((resolve) => {
      if (proc.exitCode !== null || proc.signalCode !== null) return resolve();
      proc.once('exit', () => resolve());
      proc.kill(signal);
    }),
  };
}
