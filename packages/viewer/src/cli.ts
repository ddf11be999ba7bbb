/**
 * `tracewire-viewer [--port 4318] [--host 127.0.0.1] [--max-traces 1000] [file.jsonl ...]`: runs the
 * viewer until Ctrl-C, after loading any trace files given (written by
 * `ConsoleExporter({ format: 'json' })`, e.g. `node app.js > traces.jsonl`).
 */
import { readTraceFile } from './file';
import { createViewer } from './viewer';

const USAGE = `usage: tracewire-viewer [--port 4318] [--host 127.0.0.1] [--max-traces 1000] [file.jsonl ...]

Receives OTLP/HTTP traces at http://<host>:<port>/v1/traces (protobuf or JSON) and shows them at
http://<host>:<port>/. Files are JSON lines as ConsoleExporter({ format: 'json' }) writes them.`;

/** Parsed command line. */
export interface CliArgs {
  port: number;
  host: string;
  maxTraces?: number;
  files: string[];
  help: boolean;
}

/** Parses argv (without node and the script); throws an Error with a message for the user. */
export function parseArgs(argv: string[]): CliArgs {
  const args: CliArgs = { port: 4318, host: '127.0.0.1', files: [], help: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const [flag, inline] = a.startsWith('--') && a.includes('=') ? [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)] : [a, undefined];
    const value = () => {
      const v = inline ?? argv[++i];
      if (v === undefined) throw new Error(`${flag} needs a value`);
      return v;
    };
    if (flag === '--help' || flag === '-h') args.help = true;
    else if (flag === '--port' || flag === '-p') {
      const v = value();
      const n = Number(v);
      if (!Number.isInteger(n) || n < 0 || n > 65535) throw new Error(`--port must be an integer from 0 to 65535, got ${v}`);
      args.port = n;
    } else if (flag === '--host') args.host = value();
    else if (flag === '--max-traces') {
      const v = value();
      const n = Number(v);
      if (!Number.isInteger(n) || n < 1) throw new Error(`--max-traces must be a positive integer, got ${v}`);
      args.maxTraces = n;
    } else if (flag.startsWith('-') && flag !== '-') throw new Error(`unknown option ${flag}`);
    else args.files.push(a);
  }
  return args;
}

/** Runs the CLI; resolves with a close function once the viewer listens (for tests). */
export async function main(argv: string[], log: (line: string) => void = (l) => process.stderr.write(l + '\n')): Promise<() => Promise<void>> {
  let args: CliArgs;
  try {
    args = parseArgs(argv);
  } catch (err) {
    log(`tracewire-viewer: ${(err as Error).message}\n\n${USAGE}`);
    process.exitCode = 2;
    return async () => {};
  }
  if (args.help) {
    log(USAGE);
    return async () => {};
  }
  let viewer;
  try {
    viewer = await createViewer({ port: args.port, host: args.host, maxTraces: args.maxTraces });
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    log(
      e.code === 'EADDRINUSE'
        ? `tracewire-viewer: port ${args.port} is in use on ${args.host} (another viewer or an OpenTelemetry Collector?); try --port 0`
        : `tracewire-viewer: ${e.message}`,
    );
    process.exitCode = 1;
    return async () => {};
  }
  for (const file of args.files) {
    try {
      const { traces, badLines, badLineCount } = await readTraceFile(file);
      await viewer.exporter.export(traces);
      log(`loaded ${traces.length} trace(s) from ${file}` + (badLineCount > 0 ? `; skipped ${badLineCount} line(s) that are not traces (line ${badLines.join(', ')}${badLineCount > badLines.length ? ', ...' : ''})` : ''));
    } catch (err) {
      log(`tracewire-viewer: cannot read ${file}: ${(err as Error).message}`);
      process.exitCode = 1;
    }
  }
  log(`viewer: ${viewer.url}`);
  log(`OTLP/HTTP: ${viewer.url}/v1/traces (OTEL_EXPORTER_OTLP_ENDPOINT=${viewer.url})`);
  const close = viewer.close;
  return close;
}
