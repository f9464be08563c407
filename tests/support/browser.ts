import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';

/** Debian's chromium (`apt-get install chromium`; .ci/run installs it): no browser download. */
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

export interface TestBrowser {
  /** Pages come from here: a fresh profile (--user-data-dir) is a persistent context in Playwright. */
  context: BrowserContext;
  close(): Promise<void>;
}

/** A real Chromium with a fresh profile, removed again by close(). */
export async function launchChromium(): Promise<TestBrowser> {
  const profile = await mkdtemp(join(tmpdir(), 'cascade-chromium-'));
  const context = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, args: ARGS, headless: true, viewport: { width: 1400, height: 1000 } });
  return {
    context,
    async close() {
      await context.close();
      await rm(profile, { recursive: true, force: true });
    },
  };
}

/** Opens the viewer and signs in through its form. */
export async function signIn(page: Page, url: string, apiKey = 'test-key'): Promise<void> {
  await page.goto(url);
  await page.locator('input[name="apiKey"]').fill(apiKey);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.locator('header nav').waitFor();
}
