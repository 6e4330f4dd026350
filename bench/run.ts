/** npm run bench -- <name> [options]: runs bench/<name>.ts. Benchmarks are not tests. */
const [bench, ...rest] = process.argv.slice(2);
if (!bench || !/^[a-z0-9-]+$/.test(bench)) {
  console.error('usage: npm run bench -- <name> [options]   (names: files in bench/)');
  process.exit(2);
}
process.argv = [process.argv[0], bench, ...rest];
await import(`./${bench}.ts`);

export {};
