/**
 * WebGPU against wasm on the bundled models (or any .onnx file): agreement on the same noise,
 * the ops onnxruntime places off the GPU, and samples/s over batch sizes. One command, on any
 * machine:
 *
 *   npm run bench:webgpu                  (= tsx bench/webgpu.ts [options])
 *
 * Under Node it finds an adapter for Deno and reruns itself there: first Deno's default wgpu
 * backend (Vulkan/Metal/DX12: a real GPU when there is one), else DENO_WEBGPU_BACKEND=gl (Mesa's
 * llvmpipe, a software adapter). Every figure is labelled with the adapter that produced it, and
 * whether it is a software fallback. Options:
 *   --models a,b     bundled model names, or paths ending in .onnx (e.g. the paper's networks from
 *                    bench/paper-models.py: irs-data/paper/resnet20.onnx); default
 *                    mnist-small-s0.50,mnist-large-s0.50
 *   --batches list   batch sizes (default 1,2,4,...,1024)
 *   --seconds s      minimum timed seconds per batch size and backend (default 1)
 *   --samples n      noisy samples compared per model (default 1024; sigma 0.5, seed 0, 8 images:
 *                    MNIST test images for a 1x28x28 input, seeded uniform [0, 1) inputs otherwise)
 *   --out file       JSON results (default out/webgpu-bench.json)
 *   --no-throughput  agreement and placement only
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

declare const Deno: { args: string[]; env: { get(k: string): string | undefined }; exit(code: number): never } | undefined;

interface Options { models: string[]; batches: number[]; seconds: number; samples: number; out: string; throughput: boolean }

function parse(args: string[]): Options {
  const o: Options = {
    models: ['mnist-small-s0.50', 'mnist-large-s0.50'], batches: Array.from({ length: 11 }, (_, i) => 2 ** i),
    seconds: 1, samples: 1024, out: 'out/webgpu-bench.json', throughput: true,
  };
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    const v = () => { const x = args[++i]; if (x === undefined) throw new Error(`${a} needs a value`); return x; };
    if (a === '--models') o.models = v().split(',');
    else if (a === '--batches') o.batches = v().split(',').map(Number);
    else if (a === '--seconds') o.seconds = Number(v());
    else if (a === '--samples') o.samples = Number(v());
    else if (a === '--out') o.out = v();
    else if (a === '--no-throughput') o.throughput = false;
    else throw new Error(`unknown option ${a}`);
  }
  return o;
}

// ---- Node: pick Deno's wgpu backend, rerun under Deno -------------------------------------
async function launch(): Promise<void> {
  const { spawnSync } = await import('node:child_process');
  const deno = 'node_modules/.bin/deno';
  const probe = 'const a = await navigator.gpu?.requestAdapter({ powerPreference: "high-performance" }); console.log(JSON.stringify(a ? a.info : null))';
  const base = { ...process.env };
  delete base.DENO_WEBGPU_BACKEND;
  let env: NodeJS.ProcessEnv | undefined;
  for (const candidate of [process.env.DENO_WEBGPU_BACKEND ? process.env : base, { ...base, DENO_WEBGPU_BACKEND: 'gl' }]) {
    const r = spawnSync(deno, ['eval', probe], { env: { ...candidate, NO_COLOR: '1' }, encoding: 'utf8', timeout: 60_000 });
    const info = r.stdout.trim().split('\n').pop();
    if (r.status === 0 && info && info !== 'null') { env = candidate; break; }
  }
  if (!env) {
    console.error('no WebGPU adapter for Deno, with its default wgpu backend or DENO_WEBGPU_BACKEND=gl (install libegl-mesa0 / mesa-vulkan-drivers, or a GPU driver)');
    process.exit(1);
  }
  console.error(`running under Deno${env.DENO_WEBGPU_BACKEND ? ` with DENO_WEBGPU_BACKEND=${env.DENO_WEBGPU_BACKEND}` : ''}`);
  const r = spawnSync(deno, ['run', '-A', 'bench/webgpu.ts', ...process.argv.slice(2)], { env, stdio: 'inherit' });
  process.exit(r.status ?? 1);
}

// ---- Deno: the measurements ---------------------------------------------------------------
/** A bundled model's name, or a path to any .onnx file. */
function modelFile(name: string): string {
  return name.endsWith('.onnx') ? name : `models/${name}.onnx`;
}

/**
 * Where onnxruntime placed each node, from its verbose log: run in a Deno process of its own,
 * because verbose logging, once on, stays on for the process (and slows every run).
 */
async function placement(model: string): Promise<{ placement: string[]; cpuOps: string[]; log: string }> {
  const { spawnSync } = await import('node:child_process');
  const r = spawnSync((globalThis as unknown as { Deno: { execPath(): string } }).Deno.execPath(), ['run', '-A', 'bench/webgpu.ts', '--placement-of', model], { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
  const lines = `${r.stdout}\n${r.stderr}`.split('\n');
  const at = lines.findIndex((l) => /placed on \[/.test(l));
  const placed = lines.filter((l) => /placed on \[/.test(l)).map((l) => l.replace(/^.*?(All nodes|Node\(s\))/, '$1').trim());
  // After "Node(s) placed on [CPUExecutionProvider]" onnxruntime lists "  OpType (node name)" lines,
  // bare or behind the log's "[V:onnxruntime:, session_state.cc:N VerifyEachNodeIsAssignedToAnEp]" prefix.
  const cpuOps: string[] = [];
  let cpu = false;
  for (const l of lines.slice(Math.max(0, at))) {
    if (/placed on \[/.test(l)) { cpu = /CPUExecutionProvider/.test(l); continue; }
    const m = /(?:^|VerifyEachNodeIsAssignedToAnEp\])\s+(\w+) \(/.exec(l);
    if (m && cpu) cpuOps.push(m[1]);
    else if (!m) cpu = false;
  }
  if (r.status !== 0 || placed.length === 0) return { placement: [], cpuOps: [], log: lines.slice(-20).join('\n') };
  return { placement: placed, cpuOps: [...new Set(cpuOps)], log: '' };
}

async function placementChild(model: string): Promise<void> {
  const gpu = await import('onnxruntime-web/webgpu');
  gpu.env.logLevel = 'verbose';
  const s = await gpu.InferenceSession.create(new Uint8Array(readFileSync(modelFile(model))), { executionProviders: ['webgpu'], logSeverityLevel: 0, logVerbosityLevel: 0 } as never);
  await s.release();
}

async function measure(o: Options): Promise<void> {
  const original = console;
  const { requireAdapter } = await import('../src/inference/webgpu.ts');
  const { fillGaussianNoise, Stream } = await import('../src/noise/gaussian.ts');
  const { loadMnist } = await import('../src/data/mnist.ts');
  const gpu = await import('onnxruntime-web/webgpu');
  const wasm = await import('onnxruntime-web');
  const { adapter, info } = await requireAdapter();
  (gpu.env.webgpu as { adapter: unknown }).adapter = adapter;
  gpu.env.logLevel = 'error';
  wasm.env.logLevel = 'error';
  wasm.env.wasm.numThreads = 1;
  const label = `${info.description || info.vendor}${info.architecture ? ` (${info.architecture})` : ''}${info.fallback ? ', SOFTWARE fallback adapter' : ''}`;
  original.log(`adapter: ${label}`);

  const { decodeModel, inputShape } = await import('../src/onnx/model.ts');
  const mnist = loadMnist('test');
  const results: unknown[] = [];
  for (const name of o.models) {
    const bytes = new Uint8Array(readFileSync(modelFile(name)));
    // The per-sample input shape from the graph (batch is the free first dimension).
    const shape = inputShape(decodeModel(bytes));
    const dim = shape.reduce((a, b) => a * b, 1);
    const isMnist = shape.join('x') === '1x28x28';
    const image = (i: number): Float32Array => isMnist
      ? mnist.input(i)
      : Float32Array.from({ length: dim }, (_, j) => (((j + 7919 * (i + 1)) * 2654435761) % 4294967296) / 4294967296);
    const placed = await placement(name);
    if (placed.log) original.log(`${name}: could not read the placement log:\n${placed.log}`);
    const t0 = performance.now();
    const sg = await gpu.InferenceSession.create(bytes, { executionProviders: ['webgpu'], graphOptimizationLevel: 'all', logSeverityLevel: 3 });
    const createMs = performance.now() - t0;
    const sw = await wasm.InferenceSession.create(bytes, { executionProviders: ['wasm'], graphOptimizationLevel: 'all', logSeverityLevel: 3 });
    const run = async (s: typeof sg | typeof sw, ort: typeof gpu | typeof wasm, x: Float32Array, b: number) => {
      const r = await s.run({ [s.inputNames[0]]: new ort.Tensor('float32', x, [b, ...shape]) });
      return r[s.outputNames[0]].data as Float32Array;
    };

    // Agreement on the same noise: the estimation stream of seed 0 at sigma 0.5, as a certify job draws it.
    const images = 8;
    const per = Math.ceil(o.samples / images);
    let differ = 0, total = 0, maxDiff = 0, maxRel = 0, minMarginOfFlip = Infinity;
    for (let i = 0; i < images; i++) {
      const x0 = image(i);
      const noise = new Float32Array(per * dim);
      fillGaussianNoise(noise, { seed: 0, stream: Stream.estimation }, 0, per, dim, 0.5);
      for (let s = 0; s < per; s++) for (let p = 0; p < dim; p++) noise[s * dim + p] += x0[p];
      for (let first = 0; first < per; first += 256) {
        const b = Math.min(256, per - first);
        const x = noise.subarray(first * dim, (first + b) * dim);
        const lg = await run(sg, gpu, x, b);
        const lw = await run(sw, wasm, x, b);
        const k = lw.length / b;
        for (let s = 0; s < b; s++) {
          let ag = 0, aw = 0;
          for (let c = 0; c < k; c++) {
            const d = Math.abs(lg[s * k + c] - lw[s * k + c]);
            maxDiff = Math.max(maxDiff, d);
            maxRel = Math.max(maxRel, d / Math.max(1e-6, Math.abs(lw[s * k + c])));
            if (lg[s * k + c] > lg[s * k + ag]) ag = c;
            if (lw[s * k + c] > lw[s * k + aw]) aw = c;
          }
          total++;
          if (ag !== aw) { differ++; minMarginOfFlip = Math.min(minMarginOfFlip, Math.abs(lw[s * k + aw] - lw[s * k + ag])); }
        }
      }
    }
    const agreement = { samples: total, argmaxDiffer: differ, argmaxDifferShare: differ / total, maxAbsLogitDiff: maxDiff, maxRelLogitDiff: maxRel, ...(differ ? { smallestWasmMarginAtAFlip: minMarginOfFlip } : {}) };
    original.log(`${name}: webgpu session ${createMs.toFixed(0)} ms; ${placed.placement.join('; ')}${placed.cpuOps.length ? `; on the CPU: ${placed.cpuOps.join(', ')}` : ''}`);
    original.log(`${name}: ${differ}/${total} samples' argmax differ (${(100 * differ / total).toFixed(3)}%), max |logit diff| ${maxDiff.toExponential(2)}`);

    const throughput: { batch: number; webgpu: number; wasm: number }[] = [];
    if (o.throughput) {
      original.log(`| batch | webgpu samples/s | wasm samples/s (1 thread) |\n|---:|---:|---:|`);
      for (const b of o.batches) {
        const x = new Float32Array(b * dim).map((_, j) => ((j * 2654435761) % 1000) / 1000);
        const rate = async (s: typeof sg | typeof sw, ort: typeof gpu | typeof wasm) => {
          await run(s, ort, x, b);
          let runs = 0;
          const start = performance.now();
          while (runs < (b >= 512 ? 1 : 2) || performance.now() - start < o.seconds * 1000) { await run(s, ort, x, b); runs++; }
          return (runs * b) / ((performance.now() - start) / 1000);
        };
        const row = { batch: b, webgpu: await rate(sg, gpu), wasm: await rate(sw, wasm) };
        throughput.push(row);
        original.log(`| ${b} | ${row.webgpu.toFixed(0)} | ${row.wasm.toFixed(0)} |`);
      }
    }
    await sg.release();
    await sw.release();
    results.push({ model: name, inputShape: shape, syntheticInputs: !isMnist, sessionCreateMs: createMs, placement: placed.placement, cpuOps: placed.cpuOps, agreement, throughput });
  }
  const doc = { adapter: info, label, deno: (globalThis as { Deno?: { version?: unknown } }).Deno?.version, webgpuBackend: Deno!.env.get('DENO_WEBGPU_BACKEND') ?? '(default)', seconds: o.seconds, date: new Date().toISOString(), cpus: (await import('node:os')).cpus().length, loadAverage: (await import('node:os')).loadavg(), results };
  mkdirSync(dirname(o.out), { recursive: true });
  writeFileSync(o.out, JSON.stringify(doc, null, 1) + '\n');
  original.log(`wrote ${o.out}`);
}

if (typeof Deno === 'undefined') await launch();
else if (Deno.args[0] === '--placement-of') {
  await placementChild(Deno.args[1]);
  Deno.exit(0);
} else {
  await measure(parse(Deno.args));
  Deno.exit(0);
}
