import { buildViewer } from '../../scripts/buildViewer.mjs';
import { launchChromium, type TestBrowser } from './browser.js';
import { freePort, killAll, launchServer, type ServerProcess } from './serverProcess.js';
import { createTestDatabase } from './testDatabase.js';

/** What a browser test of the viewer runs against: the built viewer, a server process on a fresh database, a Chromium. */
export interface ViewerStack {
  server: ServerProcess;
  chromium: TestBrowser;
  /** Ends what started, whatever got started. */
  close(): Promise<void>;
}

export async function startViewerStack(): Promise<ViewerStack> {
  await buildViewer();
  const database = await createTestDatabase();
  const servers: ServerProcess[] = [];
  let chromium: TestBrowser | undefined;
  const close = async () => {
    await chromium?.close();
    await killAll(servers);
    await database.drop();
  };
  try {
    servers.push(await launchServer({ DATABASE_URL: database.url, PORT: String(await freePort()) }));
    chromium = await launchChromium();
    return { server: servers[0]!, chromium, close };
  } catch (error) {
    await close();
    throw error;
  }
}
