// The scheduler's dashboard server over a fixture history, for tests and screenshots.
import type { AddressInfo } from 'node:net';
import { startDashboard } from '../../scheduler/server/dashboard.js';
import { SchedulerCore } from '../../scheduler/server/core.js';
import type { HistorySource } from '../../scheduler/history/types.js';

export interface DashboardFixtureServer {
  url: string;
  /** Drops every open connection, event streams included (a proxy that lost them). */
  breakConnections(): void;
  close(): Promise<void>;
}

export async function serveDashboard(history: HistorySource): Promise<DashboardFixtureServer> {
  const core = new SchedulerCore({ workerSaturation: 1.5 });
  const scrape = async () => ({ contentType: 'text/plain; version=0.0.4', text: '# fixture\n' });
  const server = await startDashboard(core, history, scrape, '127.0.0.1', 0);
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`,
    breakConnections: () => server.closeAllConnections(),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
