import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startReceiver } from './otlp-receiver';
import type { Receiver } from './otlp-receiver';

jest.setTimeout(30000);

const TLS = join(__dirname, 'fixtures', 'tls');

/** Runs fixtures/https-export.ts in a fresh Node (only there can NODE_EXTRA_CA_CERTS take effect). */
function exportInChild(url: string, extraCa: boolean): Promise<{ stats: Record<string, number>; stderr: string }> {
  const env: NodeJS.ProcessEnv = { ...process.env, OTLP_URL: url };
  for (const k of Object.keys(env)) if (k.startsWith('OTEL_') || k === 'NODE_OPTIONS') delete env[k];
  if (extraCa) env.NODE_EXTRA_CA_CERTS = join(TLS, 'cert.pem');
  else delete env.NODE_EXTRA_CA_CERTS;
  const script = [join(__dirname, 'fixtures', 'run-ts.js'), join(__dirname, 'fixtures', 'https-export.ts')];
  return new Promise((resolve, reject) => {
    execFile(process.execPath, script, { env, timeout: 25000 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`child failed: ${err.message}\n${stderr}`));
      else resolve({ stats: JSON.parse(stdout.trim().split('\n').pop()!), stderr });
    });
  });
}

describe('OTLPTraceExporter over https', () => {
  let receiver: Receiver;
  beforeAll(async () => {
    receiver = await startReceiver({ tls: { key: readFileSync(join(TLS, 'key.pem')), cert: readFileSync(join(TLS, 'cert.pem')) } });
  });
  afterAll(() => receiver.close());

  it('delivers to an https receiver whose certificate the process trusts', async () => {
    const { stats } = await exportInChild(`${receiver.url}/v1/traces`, true);
    expect(stats).toMatchObject({ exported: 1, failed: 0, requests: 1 });
    const spans = await receiver.waitForSpans(1);
    expect(spans[0].name).toBe('over tls');
  });

  it('verifies the certificate: an untrusted one fails, counted, and is not retried', async () => {
    const before = receiver.attempts.length;
    const { stats, stderr } = await exportInChild(`${receiver.url}/v1/traces`, false);
    expect(stats).toMatchObject({ exported: 0, failed: 1, requests: 1, retries: 0 });
    expect(stderr).toMatch(/exporter "otlp" failed: .*TLS error (DEPTH_ZERO_SELF_SIGNED_CERT|SELF_SIGNED_CERT_IN_CHAIN)/);
    expect(receiver.attempts.length).toBe(before);
  });
});
