// Debian's chromium, driven by playwright-core, for the LuCI page tests.
import { existsSync } from 'node:fs';
import { chromium } from 'playwright-core';
import type { Browser, Page } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';

export function haveChromium(): boolean {
  return existsSync(CHROMIUM);
}

export async function launch(): Promise<Browser> {
  // --no-sandbox: the tests run as root, where Chromium's sandbox refuses to start.
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-gpu'] });
}

/** Collects page errors and console errors, so a test can show them. */
export function watchErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
  page.on('console', (m) => { if (m.type() === 'error') errors.push(`console: ${m.text()}`); });
  return errors;
}

/** Re-evaluates cond in the page until it is truthy: at most `tries` times, 50 ms apart (the page works on network replies). */
export async function until<T, A = undefined>(page: Page, cond: (arg: A) => T, what: string, tries = 100, arg?: A): Promise<T> {
  for (let i = 0; i < tries; i++) {
    const v = (await page.evaluate(cond as (a: unknown) => unknown, arg as unknown)) as T;
    if (v) return v;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}
