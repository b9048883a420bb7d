// Shared by the scheduling benches: start the server in a child process, run autocannon against
// it, print one JSON line per figure.
import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import { createInterface } from 'node:readline';
import { loadavg } from 'node:os';
import autocannon from 'autocannon';
import { sql } from 'kysely';
import { loadConfigFromProcess } from '../src/config.js';
import { openDatabase, type Database } from '../src/platform/db/database.js';

export interface ServerCpu {
  nodeMs: number;
  pgMs: number;
  nodeSysMs: number;
  /** The server's event-loop delay over the interval (p99 and max, ms), when it reports it. */
  loopP99Ms?: number;
  loopMaxMs?: number;
  /** Its garbage collector's pauses over the interval: total and longest (ms). */
  gcMs?: number;
  gcMaxMs?: number;
}

export interface BenchServer {
  url: string;
  /** CPU used by the server (of which in the kernel: sockets) and its PostgreSQL backends since the previous call (ms). */
  cpu(): Promise<ServerCpu>;
  stop(): Promise<void>;
}

/**
 * Starts `script` (default: the Hygie bench server) with BENCH_NODE_OPTIONS (space-separated)
 * before it, and `env` added to this process's environment.
 */
export async function startBenchServer(script = 'bench/_scheduling-server.ts', env: Record<string, string> = {}): Promise<BenchServer> {
  const nodeOptions = (process.env['BENCH_NODE_OPTIONS'] ?? '').split(' ').filter((o) => o !== '');
  const child: ChildProcess = spawn(process.execPath, [...nodeOptions, '--import', 'tsx', script], { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, ...env } });
  const lines = createInterface({ input: child.stdout! });
  const port = await new Promise<number>((resolve, reject) => {
    lines.on('line', (line) => {
      const m = /^PORT=(\d+)$/.exec(line);
      if (m) resolve(Number(m[1]));
    });
    child.on('exit', (code) => reject(new Error(`bench server exited with ${code}`)));
  });
  return {
    url: `http://127.0.0.1:${port}`,
    cpu: () =>
      new Promise((resolve) => {
        const onLine = (line: string) => {
          const m = /^CPU node_ms=(\d+) pg_ms=(\d+)(?: node_sys_ms=(\d+))?(?: loop_p99_ms=([\d.]+) loop_max_ms=([\d.]+) gc_ms=(\d+) gc_max_ms=([\d.]+))?$/.exec(line);
          if (!m) return;
          lines.off('line', onLine);
          const loop = m[4] !== undefined ? { loopP99Ms: Number(m[4]), loopMaxMs: Number(m[5]), gcMs: Number(m[6]), gcMaxMs: Number(m[7]) } : {};
          resolve({ nodeMs: Number(m[1]), pgMs: Number(m[2]), nodeSysMs: Number(m[3] ?? 0), ...loop });
        };
        lines.on('line', onLine);
        child.kill('SIGUSR2');
      }),
    stop: () =>
      new Promise((resolve) => {
        child.on('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

export async function openBenchDatabase(): Promise<Database> {
  const config = loadConfigFromProcess({ HYGIE_LOG_LEVEL: 'silent' });
  if (!config.databaseUrl) {
    console.error('bench: set DATABASE_URL to a PostgreSQL database seeded with `hygie seed --scale`');
    process.exit(2);
  }
  return openDatabase(config);
}

export async function datasetSize(db: Database): Promise<{ practitioners: number; appointments: number; patients: number }> {
  const { rows } = await sql<{ p: string; a: string; f: string }>`
    select (select count(*) from practitioners) as p, (select count(*) from appointments) as a, (select count(*) from patients) as f`.execute(db.owner);
  return { practitioners: Number(rows[0]!.p), appointments: Number(rows[0]!.a), patients: Number(rows[0]!.f) };
}

export function emit(bench: string, value: number, unit: string, extra: Record<string, unknown> = {}): void {
  console.log(JSON.stringify({ bench, value: Math.round(value * 100) / 100, unit, ...extra }));
}

type RequestSpec = { path?: string; method?: string; body?: string; headers?: Record<string, string> };

export async function load(
  url: string,
  options: {
    connections: number;
    duration: number;
    amount?: number;
    /** Requests per second offered across all connections (default: as fast as answers come); see paced(). */
    overallRate?: number;
    setupRequest: (req: RequestSpec) => object;
    method?: string;
  },
): Promise<autocannon.Result> {
  if (options.overallRate !== undefined) return paced(url, { ...options, rate: options.overallRate });
  return autocannon({
    url,
    connections: options.connections,
    duration: options.duration,
    ...(options.amount !== undefined ? { amount: options.amount } : {}),
    ...(options.overallRate !== undefined ? { overallRate: options.overallRate } : {}),
    requests: [{ method: (options.method ?? 'GET') as 'GET', setupRequest: options.setupRequest as never }],
  });
}

const round2 = (x: number) => Math.round(x * 100) / 100;

/**
 * An open-model load at a constant rate: request k is due at start + k / rate, whatever happened
 * to the earlier ones, over at most `connections` keep-alive connections (a request due while all
 * are busy waits for one). Its latency runs from when it was due, so waiting behind a slow answer
 * counts (no coordinated omission).
 *
 * Why not autocannon's own overallRate: it gives each connection a quota per second, which every
 * connection spends as fast as it can at the start of the second, then waits for the next one. At
 * 1,000/s over 64 connections that is a burst of 1,000 requests each second, and the latency it
 * reports is mostly the queue of that burst, measured from when each request was sent.
 *
 * The client is a minimal HTTP/1.1 one over raw sockets, as autocannon's is, so that the load
 * generator takes little of the cores it shares with the server (node:http costs about twice as
 * much per request). It reads answers with a Content-Length, which is how the server answers.
 */
async function paced(url: string, options: { connections: number; duration: number; rate: number; setupRequest: (req: RequestSpec) => object; method?: string }): Promise<autocannon.Result> {
  const target = new URL(url);
  const total = Math.round(options.rate * options.duration);
  const latencies: number[] = [];
  const codes = new Map<number, number>();
  let errors = 0;
  let finished = 0;
  let sent = 0;
  const waiting: number[] = []; // due times of requests waiting for a free connection
  const idle: Array<(dueAt: number) => void> = [];
  let resolveAll: () => void = () => undefined;
  const allDone = new Promise<void>((resolve) => (resolveAll = resolve));
  let stopped = false;
  const complete = (dueAt: number, status: number | undefined) => {
    if (stopped) return;
    if (status === undefined) errors++;
    else {
      latencies.push(performance.now() - dueAt);
      codes.set(status, (codes.get(status) ?? 0) + 1);
    }
    if (++finished === total) resolveAll();
  };
  const requestBytes = (): Buffer => {
    const spec = options.setupRequest({ method: options.method ?? 'GET' }) as RequestSpec;
    const body = Buffer.from(spec.body ?? '');
    const headers = Object.entries(spec.headers ?? {}).map(([k, v]) => `${k}: ${v}\r\n`).join('');
    return Buffer.concat([Buffer.from(`${spec.method ?? options.method ?? 'GET'} ${spec.path ?? '/'} HTTP/1.1\r\nhost: ${target.host}\r\n${headers}content-length: ${body.length}\r\n\r\n`), body]);
  };
  const sockets: net.Socket[] = [];
  for (let c = 0; c < options.connections; c++) {
    const socket = net.connect(Number(target.port), target.hostname);
    socket.setNoDelay(true);
    sockets.push(socket);
    let current: number | undefined; // due time of the request in flight
    let buffered: Buffer = Buffer.alloc(0);
    const next = (dueAt: number) => {
      current = dueAt;
      socket.write(requestBytes());
    };
    const free = () => {
      current = undefined;
      const dueAt = waiting.shift();
      if (dueAt !== undefined) next(dueAt);
      else idle.push(next);
    };
    socket.on('data', (chunk: Buffer) => {
      buffered = buffered.length === 0 ? chunk : Buffer.concat([buffered, chunk]);
      const headEnd = buffered.indexOf('\r\n\r\n');
      if (headEnd < 0 || current === undefined) return;
      const head = buffered.subarray(0, headEnd).toString('latin1');
      const length = Number(/\r\ncontent-length: *(\d+)/i.exec(head)?.[1] ?? 0);
      if (buffered.length < headEnd + 4 + length) return;
      buffered = buffered.subarray(headEnd + 4 + length);
      complete(current, Number(head.slice(9, 12)));
      free();
    });
    socket.on('error', () => undefined);
    socket.on('close', () => {
      if (current !== undefined) complete(current, undefined);
      current = undefined;
    });
    socket.once('connect', free);
  }
  await new Promise<void>((resolve) => {
    let connected = 0;
    for (const s of sockets) s.once('connect', () => ++connected === sockets.length && resolve());
  });
  const start = performance.now();
  const timer = setInterval(() => {
    const due = Math.min(total, Math.floor(((performance.now() - start) * options.rate) / 1000) + 1);
    for (; sent < due; sent++) {
      const dueAt = start + (sent * 1000) / options.rate;
      const connection = idle.pop();
      if (connection) connection(dueAt);
      else waiting.push(dueAt);
    }
    if (sent === total) clearInterval(timer);
  }, 1);
  // A request not answered 10 s after the last one was due counts as an error, and so does one
  // still waiting then (if the server closed connections, fewer than `connections` are left).
  const deadline = setTimeout(() => {
    errors += total - finished;
    stopped = true;
    resolveAll();
  }, options.duration * 1000 + 10_000);
  await allDone;
  clearTimeout(deadline);
  clearInterval(timer);
  stopped = true;
  const elapsed = (performance.now() - start) / 1000;
  for (const s of sockets) s.destroy();
  latencies.sort((a, b) => a - b);
  const at = (q: number) => Math.round((latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? 0) * 100) / 100;
  const statusCodeStats = Object.fromEntries([...codes].map(([code, count]) => [String(code), { count }]));
  const count = (ok: boolean) => [...codes].filter(([code]) => (code >= 200 && code < 300) === ok).reduce((n, [, k]) => n + k, 0);
  // Only the fields the benches read (report(), loadAndReport() and the bench scripts).
  return {
    requests: { average: round2(latencies.length / elapsed), total: latencies.length + errors },
    latency: { p50: at(0.5), p90: at(0.9), p99: at(0.99), max: at(1) },
    non2xx: count(false),
    errors,
    timeouts: 0,
    '2xx': count(true),
    statusCodeStats,
  } as unknown as autocannon.Result;
}

/**
 * Runs the load and reports its figures, with the CPU per request of the server, its PostgreSQL
 * backends and the load generator itself (autocannon, in this process, which competes for the
 * same cores), and the 1-minute load average at the end.
 */
export async function loadAndReport(server: BenchServer, name: string, options: Parameters<typeof load>[1], extra: Record<string, unknown>, passRequests?: number): Promise<autocannon.Result> {
  // Warm-up, not reported (default none: a cold cache, as after a start): BENCH_WARMUP=<seconds>
  // of the same load, or BENCH_WARMUP=pass for one pass over every distinct request of the bench
  // (`passRequests`: each target once), so that the measured part is the steady state whatever
  // the machine's load.
  const warmupSetting = process.env['BENCH_WARMUP'] ?? '0';
  const warmup = warmupSetting === 'pass' ? 'pass' : Number(warmupSetting);
  if (warmup === 'pass' && passRequests !== undefined) await load(server.url, { ...options, amount: passRequests });
  else if (typeof warmup === 'number' && warmup > 0) await load(server.url, { ...options, duration: warmup });
  await server.cpu();
  const before = process.cpuUsage();
  const result = await load(server.url, options);
  const generator = process.cpuUsage(before);
  const cpu = await server.cpu();
  const warmupDone = warmup === 'pass' ? (passRequests !== undefined ? { warmup: `${passRequests} requests` } : {}) : warmup > 0 ? { warmupSeconds: warmup } : {};
  const withLoad = { ...extra, ...warmupDone, load1: round2(loadavg()[0]!) };
  report(name, result, withLoad);
  const requests = Math.max(1, result.requests.total);
  const loadgenMs = (generator.user + generator.system) / 1000;
  emit(`${name}.cpu_per_request`, (cpu.nodeMs + cpu.pgMs) / requests, 'ms', { node: round2(cpu.nodeMs / requests), nodeKernel: round2(cpu.nodeSysMs / requests), postgres: round2(cpu.pgMs / requests), loadgen: round2(loadgenMs / requests), ...withLoad });
  if (cpu.loopP99Ms !== undefined) {
    emit(`${name}.server_loop_delay_p99`, cpu.loopP99Ms, 'ms', { max: cpu.loopMaxMs, gcMs: cpu.gcMs, gcMaxMs: cpu.gcMaxMs, ...withLoad });
  }
  return result;
}

export function report(name: string, result: autocannon.Result, extra: Record<string, unknown>): void {
  emit(`${name}.throughput`, result.requests.average, 'req/s', extra);
  emit(`${name}.latency_p50`, result.latency.p50, 'ms', extra);
  emit(`${name}.latency_p90`, result.latency.p90, 'ms', extra);
  emit(`${name}.latency_p99`, result.latency.p99, 'ms', extra);
  emit(`${name}.latency_max`, result.latency.max, 'ms', extra);
  emit(`${name}.non_2xx`, result.non2xx, 'responses', extra);
  emit(`${name}.errors`, result.errors + result.timeouts, 'errors', extra);
  const codes = (result as unknown as { statusCodeStats?: Record<string, { count: number }> }).statusCodeStats ?? {};
  for (const [code, stat] of Object.entries(codes)) emit(`${name}.status_${code}`, stat.count, 'responses', extra);
}

/**
 * A public read bench (search, availability): reads its targets from the `seed --scale` database,
 * starts the server, sends GETs at 64 connections for BENCH_SECONDS (default 10) with the path
 * `pathFor(i, targets)` for the i-th request, and reports. `distinctRequests`: after how many
 * requests the paths repeat (for BENCH_WARMUP=pass; default one per target).
 */
export async function runPublicReadBench<T>(name: string, targetsOf: (db: Database) => Promise<T[]>, pathFor: (i: number, targets: T[]) => string, distinctRequests: (targets: T[]) => number = (t) => t.length): Promise<void> {
  const db = await openBenchDatabase();
  const size = await datasetSize(db);
  const targets = await targetsOf(db);
  await db.close();
  if (targets.length === 0) throw new Error(`${name}: no targets: run \`hygie seed --scale\` first`);
  const server = await startBenchServer();
  try {
    let i = 0;
    await loadAndReport(
      server,
      name,
      { connections: 64, duration: Number(process.env['BENCH_SECONDS'] ?? 10), setupRequest: (req) => ({ ...req, path: pathFor(i++, targets) }) },
      { connections: 64, ...size },
      distinctRequests(targets),
    );
  } finally {
    await server.stop();
  }
}
