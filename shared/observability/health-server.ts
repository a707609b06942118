/**
 * A worker's health endpoints for Kubernetes probes and Prometheus: /healthz (the process is
 * alive), /readyz (it has joined a run, loaded its data and listens for tasks), /metrics.
 * node:http, not a framework: three routes do not need one.
 */
import { createServer, type Server } from 'node:http';
import type { Registry } from 'prom-client';

export interface HealthServer {
  port: number;
  setReady(ready: boolean): void;
  close(): Promise<void>;
}

export async function startHealthServer(port: number, metrics: Registry, host = '0.0.0.0'): Promise<HealthServer> {
  let ready = false;
  const server: Server = createServer((request, response) => {
    const path = (request.url ?? '/').split('?')[0];
    if (path === '/healthz') {
      response.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"ok"}');
    } else if (path === '/readyz') {
      response.writeHead(ready ? 200 : 503, { 'content-type': 'application/json' }).end(JSON.stringify({ ready }));
    } else if (path === '/metrics') {
      metrics.metrics().then(
        (text) => response.writeHead(200, { 'content-type': metrics.contentType }).end(text),
        (error: Error) => response.writeHead(500).end(error.message),
      );
    } else {
      response.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"not found: try /healthz, /readyz or /metrics"}');
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const address = server.address();
  return {
    port: typeof address === 'object' && address ? address.port : port,
    setReady: (value) => (ready = value),
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
